"""## What it does
Runs KServe's ServingRuntime selection for every predictor model of an InferenceService (the
predictor and Standard-mode canaries) against KServe's default ClusterServingRuntimes of the
configured KServe version (parameter `kserveVersion`, default the newest servegate knows) and
the ServingRuntimes and ClusterServingRuntimes checked with it. Flags a model whose
`modelFormat` (name and version) and `protocolVersion` (default `v1`) no runtime serves, and a
model whose explicit `runtime` is one of those runtimes but is disabled or does not serve its
format or protocol. A model without `protocolVersion` asks for `v1` (`v2` for the `triton`
format, as KServe's webhook defaults it); with an explicit `runtime` and no
`protocolVersion`, KServe takes the runtime's own protocol. A `runtime` servegate does not see
(installed separately) is not judged.

## Why is this bad?
KServe picks the runtime when it reconciles, not when the object is admitted: a model no
runtime serves is accepted, then never becomes Ready (`NoSupportingRuntime`, "No runtime found
to support specified framework/version"). An ONNX model without `protocolVersion: v2` is the
common case: the only default runtime that auto-selects onnx is Triton, which serves v2 only.

## Example
```yaml
spec:
  predictor:
    model:
      modelFormat: {name: onnx}
      storageUri: s3://models/fraud/onnx
```

## Use instead
```yaml
spec:
  predictor:
    model:
      modelFormat: {name: onnx}
      protocolVersion: v2          # served by kserve-tritonserver
      storageUri: s3://models/fraud/onnx
```

## References
- kserve/kserve `pkg/apis/serving/v1beta1/predictor_model.go` (`GetSupportingRuntimes`,
  `RuntimeSupportsModel`, `GetProtocol`: default v1)
- kserve/kserve `pkg/apis/serving/v1alpha1/servingruntime_types.go`
  (`IsProtocolVersionSupported`)
- kserve/kserve `config/runtimes/` (default runtimes, v0.15.2 to main@aaac4e29)
- kserve/kserve `pkg/controller/v1beta1/inferenceservice/components/predictor.go`
  (`reconcileModel`: `RuntimeDisabled`, `NoSupportingRuntime`)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from servegate import kserve_runtimes, kserve_versions
from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.kserve._isvc import components, is_predictor, mode, who


def _version(ctx: Context) -> str:
    value = ctx.param("kserveVersion")
    try:
        return kserve_versions.parse(str(value)).label if value else kserve_versions.DEFAULT
    except kserve_versions.UnsupportedVersion:
        return kserve_versions.DEFAULT


def _checked_runtimes(
    resources: Sequence[Resource], namespace: str | None
) -> list[kserve_runtimes.Runtime]:
    found: list[kserve_runtimes.Runtime] = []
    for r in resources:
        if r.group != "serving.kserve.io":
            continue
        if r.kind == "ServingRuntime" and (r.namespace or None) == (namespace or None):
            pass
        elif r.kind != "ClusterServingRuntime":
            continue
        runtime = kserve_runtimes.runtime_from_object(r.body)
        if runtime is not None:
            found.append(runtime)
    return found


def check(resources: Sequence[Resource], ctx: Context) -> Iterator[Violation]:
    version = _version(ctx)
    defaults = kserve_runtimes.default_runtimes(version)
    for isvc in resources:
        if isvc.kind != "InferenceService" or mode(isvc) == "ModelMesh":
            continue
        runtimes = [*_checked_runtimes(resources, isvc.namespace), *defaults]
        for label, path, body in components(isvc):
            model = body.get("model")
            if not is_predictor(label) or not isinstance(model, dict) or body.get("workerSpec"):
                continue
            fmt = model.get("modelFormat")
            if not isinstance(fmt, dict) or not isinstance(fmt.get("name"), str):
                continue  # kserve.model-format reports it
            name = fmt["name"]
            fversion = str(fmt["version"]) if fmt.get("version") is not None else None
            protocol = str(model["protocolVersion"]) if model.get("protocolVersion") else None
            runtime = model.get("runtime")
            shown = kserve_runtimes.model_label(name, fversion)[3:]
            where = (*path, "model", "protocolVersion" if protocol else "modelFormat")
            if isinstance(runtime, str) and runtime:
                named = [r for r in runtimes if r.name == runtime]
                if named and named[0].disabled:
                    yield Violation(
                        (*path, "model", "runtime"),
                        f"runtime {runtime!r} is disabled (spec.disabled: true): KServe refuses "
                        'the model (RuntimeDisabled, "Specified runtime is disabled")',
                        who(isvc, label),
                        isvc,
                    )
                elif named and not kserve_runtimes.supporting_runtimes(
                    named[:1], name, fversion, protocol, runtime
                ):
                    yield Violation(
                        (*path, "model", "runtime"),
                        f"runtime {runtime!r} does not serve {shown}"
                        + (f" over {protocol}" if protocol else ""),
                        who(isvc, label),
                        isvc,
                    )
                continue
            if kserve_runtimes.supporting_runtimes(runtimes, name, fversion, protocol):
                continue
            served = kserve_runtimes.protocols_served(runtimes, name)
            asked = protocol or kserve_runtimes.default_protocol(name)
            hint = (
                f"set protocolVersion: {served[0]}"
                if served and asked not in served
                else "name a runtime that serves it, or add a ServingRuntime"
            )
            yield Violation(
                where,
                f"no ServingRuntime serves {shown} over {asked}{'' if protocol else ' (default)'} "
                f"(KServe {version} default runtimes serve {name} over "
                f"{', '.join(served) or 'nothing'}): the model never becomes Ready; {hint}",
                who(isvc, label),
                isvc,
            )


RULE = rule(
    "kserve.serving-runtime",
    "A ServingRuntime serves every model's format and protocol",
    Severity.ERROR,
    Scope.UNIT,
    check,
    doc=__doc__,
)

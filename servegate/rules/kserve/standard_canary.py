"""## What it does
Checks the Standard-mode canary API, the `spec.canary` list, as KServe's validating webhook
does: it is used only in `Standard` mode (legacy `RawDeployment` counts; a missing annotation
means the cluster default, policy parameter `kserveDefaultDeploymentMode`), the stable predictor
has a model (`storageUri`), each entry's `predictor` sets a `name` that is unique and differs
from the stable predictor's, the `trafficPercent` values sum to at most 100, canary predictors
carry no `workerSpec` and no autoscaling (`maxReplicas`, `scaleTarget`, `scaleMetric`,
`autoScaling`: canaries run fixed replicas), and a canary's `minReplicas` does not exceed the
stable predictor's (default 1). For a KServe version before 0.20 (the `kserveVersion`
parameter) the field does not exist: 0.16 to 0.19 are checked with main's CRD schema, so this
rule reports it (0.15's own schema does).

## Why is this bad?
A canary without a name cannot be promoted or told apart in metrics; percentages over 100
leave the stable predictor with negative traffic and are rejected; autoscaling on a canary
fights the traffic split that is supposed to size it. In Knative mode the list is ignored.

## Example
```yaml
spec:
  predictor:
    name: stable
    model: {modelFormat: {name: sklearn}, storageUri: "s3://models/v1"}
  canary:
  - trafficPercent: 60
    predictor:
      minReplicas: 2
      maxReplicas: 4
      model: {modelFormat: {name: sklearn}, storageUri: "s3://models/v2"}
  - trafficPercent: 50
    predictor:
      name: v3
      model: {modelFormat: {name: sklearn}, storageUri: "s3://models/v3"}
```

## Use instead
```yaml
spec:
  canary:
  - trafficPercent: 10
    predictor:
      name: v2
      model: {modelFormat: {name: sklearn}, storageUri: "s3://models/v2"}
```

## References
- kserve/kserve `pkg/apis/serving/v1beta1/inference_service_validation.go` (`validateCanarySpecs`)
- KServe InferenceService CRD `spec.canary[]` (`predictor`, `trafficPercent` 0..100)
- https://github.com/kserve/kserve/pull/4623 (progressive rollout in Standard mode)
- https://github.com/kserve/kserve/pull/5672 (`spec.canary` in the CRD, KServe 0.20)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from servegate.model import Severity
from servegate.podspecs import KSERVE_SHORTCUTS
from servegate.resource import FieldPath, Resource, as_dict
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.kserve._isvc import DEFAULT_MODE_PARAM, effective_mode, is_int

if TYPE_CHECKING:
    from servegate.kserve_versions import KServeVersion

_FIXED_REPLICAS = ("scaleTarget", "scaleMetric", "autoScaling")


def _has_model(predictor: dict[str, Any]) -> bool:
    return any(
        isinstance(predictor.get(key), dict) and predictor[key].get("storageUri")
        for key in KSERVE_SHORTCUTS
    ) or isinstance(predictor.get("model"), dict)


def _entry(
    i: int, entry: dict[str, Any], stable: dict[str, Any], names: set[str], who: str
) -> Iterator[Violation]:
    path: FieldPath = ("spec", "canary", i)
    pred = as_dict(entry.get("predictor"))
    name = pred.get("name")
    if not name:
        yield Violation((*path, "predictor"), f"canary[{i}] predictor.name is required", who)
    elif str(name) in names:
        yield Violation((*path, "predictor", "name"), f"canary name {name!r} repeats", who)
    elif name == stable.get("name"):
        yield Violation(
            (*path, "predictor", "name"),
            f"canary predictor.name {name!r} conflicts with the stable predictor's name",
            who,
        )
    names.add(str(name))
    label = f"canary {name!r}" if name else f"canary[{i}]"
    if "workerSpec" in pred:
        yield Violation(
            (*path, "predictor", "workerSpec"),
            f"{label} must not set workerSpec (multi-node is not supported for canaries)",
            who,
        )
    if is_int(pred.get("maxReplicas")) and pred["maxReplicas"] > 0:
        yield Violation(
            (*path, "predictor", "maxReplicas"),
            f"{label} must not set maxReplicas (canaries use fixed replicas)",
            who,
        )
    for key in _FIXED_REPLICAS:
        if pred.get(key) is not None:
            yield Violation(
                (*path, "predictor", key),
                f"{label} must not set {key} (canaries use fixed replicas)",
                who,
            )
    low = pred.get("minReplicas")
    stable_min = stable.get("minReplicas")
    stable_low = stable_min if is_int(stable_min) else 1
    if is_int(low) and low > stable_low:
        yield Violation(
            (*path, "predictor", "minReplicas"),
            f"{label} minReplicas ({low}) must not exceed the stable predictor's ({stable_low})",
            who,
        )


def _kserve_version(ctx: Context) -> KServeVersion | None:
    """The KServe version the check targets (``kserveVersion``), None when unknown."""
    from servegate import kserve_versions

    value = ctx.param("kserveVersion")
    try:
        return kserve_versions.parse(str(value)) if value else None
    except kserve_versions.UnsupportedVersion:
        return None


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    canaries = r.spec.get("canary")
    if not isinstance(canaries, list) or not canaries:
        return
    who = f"InferenceService {r.name!r}"
    version = _kserve_version(ctx)
    if version is not None and not version.has_canary_api:
        if version.new_mode_names:  # 0.16 to 0.19 are judged with main's CRD schema: say it here
            yield Violation(
                ("spec", "canary"),
                f"spec.canary exists only from KServe 0.20 (kserve/kserve#5672): KServe "
                f"{version.label}'s CRD has no such field, so the API server refuses or prunes "
                "it and no canary runs (use predictor.canaryTrafficPercent in Knative mode)",
                who,
            )
        return  # 0.15: its own CRD schema reports the unknown field (schema.invalid)
    current = effective_mode(r, ctx)
    if current != "Standard":
        yield Violation(
            ("spec", "canary"),
            f"canary is only supported in Standard deployment mode, mode is "
            f"{current or r.annotations.get('serving.kserve.io/deploymentMode')!r}: "
            "use predictor.canaryTrafficPercent in Knative mode",
            who,
        )
    stable = as_dict(r.spec.get("predictor"))
    if not _has_model(stable):
        yield Violation(
            ("spec", "predictor"),
            "canary requires a stable predictor with a model (multi-model serving is not "
            "supported with canary)",
            who,
        )
    total = 0
    names: set[str] = set()
    for i, entry in enumerate(canaries):
        if not isinstance(entry, dict):
            continue
        pct = entry.get("trafficPercent")
        if is_int(pct):
            total += pct
        yield from _entry(i, entry, stable, names, who)
    if total > 100:
        yield Violation(
            ("spec", "canary"), f"sum of canary trafficPercent values ({total}) must be <= 100", who
        )


RULE = rule(
    "kserve.standard-canary",
    "Standard-mode canaries pass KServe's webhook",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={"InferenceService"},
    params={DEFAULT_MODE_PARAM: "Standard"},
    doc=__doc__,
)

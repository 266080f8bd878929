"""## What it does
With `check --base REF`, flags an InferenceService in an environment that requires canaries
(the `prod` profile: `requireCanary: true`) whose stable model changed since REF (a
`storageUri`, an `image`, a `runtime` or `runtimeVersion`, a `modelFormat` of the predictor,
transformer or explainer) without a canary. What counts as a canary depends on the deployment
mode:

- Knative mode: `spec.predictor.canaryTrafficPercent` below 100 (the new revision gets that
  share). Promoting (raising or removing `canaryTrafficPercent` with the same model) is not a
  model change and passes.
- Standard mode (a `spec.canary` list, or the `Standard`/`RawDeployment` annotation): the new
  model belongs in a `spec.canary` entry; the stable `spec.predictor` may only take over the
  model a canary of REF already served (`servegate promote <env> --full`).

## Why is this bad?
Without a canary the new model takes all production traffic at once: a bad model is an outage,
and KServe cannot roll back to the previous revision by traffic split.

## Example
```yaml
spec:
  predictor:
    model:
      storageUri: s3://models/fraud/v3   # was v2, no canaryTrafficPercent
```

## Use instead
```yaml
spec:
  predictor:
    canaryTrafficPercent: 10
    model:
      storageUri: s3://models/fraud/v3
```
then promote with `canaryTrafficPercent: 100` in a later change. In Standard mode:
```yaml
spec:
  predictor:
    model: {storageUri: s3://models/fraud/v2}   # unchanged
  canary:
  - trafficPercent: 10
    predictor:
      name: v3
      model: {storageUri: s3://models/fraud/v3}
```

## References
- KServe: canary rollout (`canaryTrafficPercent`),
  https://kserve.github.io/website/docs/model-serving/predictive-inference/rollout-strategies/canary
- kserve/kserve#5672 (`spec.canary`, Standard mode), kserve/kserve#5912 (its traffic split)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from servegate.model import Severity
from servegate.resource import FieldPath, Resource, dotted
from servegate.rules.base import Context, Scope, Violation, rule

#: Fields that name what is served: changing one is a new model.
MODEL_FIELDS = ("storageUri", "storageUris", "image", "runtime", "runtimeVersion", "modelFormat")
COMPONENTS = ("predictor", "transformer", "explainer")


def model_fields(spec: Any, path: FieldPath = ()) -> dict[FieldPath, Any]:
    """Every model-identifying field under the components of an InferenceService spec."""
    found: dict[FieldPath, Any] = {}
    if isinstance(spec, dict):
        for key, value in spec.items():
            if not path and key not in COMPONENTS:
                continue
            if key in MODEL_FIELDS:
                found[(*path, key)] = value
            else:
                found.update(model_fields(value, (*path, key)))
    elif isinstance(spec, list):
        for i, item in enumerate(spec):
            name = item.get("name") if isinstance(item, dict) else None
            found.update(model_fields(item, (*path, name if isinstance(name, str) else i)))
    return found


def _canary(after: Resource) -> Any:
    predictor = after.spec.get("predictor")
    return predictor.get("canaryTrafficPercent") if isinstance(predictor, dict) else None


def _standard(before: Resource, after: Resource) -> bool:
    """Standard mode: a spec.canary list or the mode annotation (current or legacy name)."""
    if "canary" in after.spec or "canary" in before.spec:
        return True
    for notes in (after.annotations, before.annotations):
        mode = (notes or {}).get("serving.kserve.io/deploymentMode")
        if str(mode) in ("Standard", "RawDeployment"):
            return True
    return False


def _canary_models(before: Resource) -> list[dict[FieldPath, Any]]:
    """Model fields each Standard-mode canary of ``before`` served, shaped as the predictor's."""
    canaries = before.spec.get("canary")
    return [
        model_fields({"predictor": entry.get("predictor")})
        for entry in (canaries if isinstance(canaries, list) else [])
        if isinstance(entry, dict) and isinstance(entry.get("predictor"), dict)
    ]


def check(before: Resource | None, after: Resource, ctx: Context) -> Iterator[Violation]:
    if after.kind != "InferenceService" or before is None:
        return
    if not ctx.environment.get("requireCanary"):
        return
    old = model_fields(before.spec)
    new = model_fields(after.spec)
    changed = [p for p in new if old.get(p) != new[p]] + [p for p in old if p not in new]
    if not changed:
        return
    first = changed[0]
    what = dotted(first).rpartition(".")[2] or dotted(first)
    detail = f"{what} {_short(old.get(first))} -> {_short(new.get(first))}"
    # named paths (containers by name) do not resolve to a line; point at the predictor then
    path = ("spec", *first) if all(isinstance(p, str) for p in first) else ("spec", "predictor")
    if _standard(before, after):
        promoted = [
            served
            for served in _canary_models(before)
            if all(p[0] == "predictor" and served.get(p) == new.get(p) for p in changed)
        ]
        if promoted:
            return  # the stable predictor took over a model a canary already served
        yield Violation(
            path,
            reason=(
                "production model changed without a canary: in Standard mode put the new model "
                "in a spec.canary entry (trafficPercent below 100), then `servegate promote "
                "<env> --full`"
            ),
            detail=detail,
        )
        return
    canary = _canary(after)
    if isinstance(canary, int) and not isinstance(canary, bool) and canary < 100:
        return
    yield Violation(
        path,
        reason=(
            "production model changed without a canary: set spec.predictor."
            f"canaryTrafficPercent below 100 (is {canary if canary is not None else 'unset'})"
        ),
        detail=detail,
    )


def _short(value: Any) -> str:
    text = "(none)" if value is None else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


RULE = rule(
    "changes.prod-without-canary",
    "Production model changes ship through a canary",
    Severity.ERROR,
    Scope.CHANGE,
    check,
    doc=__doc__,
    kinds={"InferenceService"},
)

"""## What it does
With `check --base REF`, flags an InferenceService in an environment that requires canaries
(the `prod` profile: `requireCanary: true`) whose model changed since REF (a `storageUri`, an
`image`, a `runtime` or `runtimeVersion`, a `modelFormat`) while
`spec.predictor.canaryTrafficPercent` is not below 100. Promoting a canary (raising
`canaryTrafficPercent` with the same model) is not a model change and passes.

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
then promote with `canaryTrafficPercent: 100` in a later change.

## References
- KServe: canary rollout (`canaryTrafficPercent`)
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
    canary = _canary(after)
    if isinstance(canary, int) and not isinstance(canary, bool) and canary < 100:
        return
    first = changed[0]
    what = dotted(first).rpartition(".")[2] or dotted(first)
    detail = f"{what} {_short(old.get(first))} -> {_short(new.get(first))}"
    # named paths (containers by name) do not resolve to a line; point at the predictor then
    path = ("spec", *first) if all(isinstance(p, str) for p in first) else ("spec", "predictor")
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

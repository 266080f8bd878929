"""## What it does
Checks that an InferenceService's autoscaling settings agree with each other: Knative
autoscaling annotations (`autoscaling.knative.dev/min-scale`, `max-scale`, `initial-scale`,
`target`, `target-utilization-percentage`, and the older `minScale`/`maxScale`) are numeric
strings, min <= max (a max of 0 means unbounded), the target is positive; and on each
component `minReplicas <= maxReplicas`, `scaleTarget > 0`, and `minReplicas`, `maxReplicas`
and `containerConcurrency` not negative (KServe's webhook refuses negatives).

## Why is this bad?
Knative rejects or ignores malformed annotations at runtime, not at sync: the model either
fails to become Ready or scales in a way nobody chose. min > max cannot be satisfied.

## Example
```yaml
metadata:
  annotations:
    autoscaling.knative.dev/min-scale: "5"
    autoscaling.knative.dev/max-scale: "2"
spec:
  predictor:
    minReplicas: 3
    maxReplicas: 1
```

## Use instead
```yaml
metadata:
  annotations:
    autoscaling.knative.dev/min-scale: "1"
    autoscaling.knative.dev/max-scale: "5"
spec:
  predictor:
    minReplicas: 1
    maxReplicas: 5
```

## References
- kserve/kserve `pkg/apis/serving/v1beta1/component.go` (`validateReplicas`,
  `validateContainerConcurrency`)
- https://knative.dev/docs/serving/autoscaling/scale-bounds/
- https://knative.dev/docs/serving/autoscaling/autoscaling-targets/
- https://kserve.github.io/website/docs/model-serving/predictive-inference/autoscaling/kpa-autoscaler
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from servegate.model import Severity
from servegate.resource import FieldPath, Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.kserve._isvc import components, who

_PREFIX = "autoscaling.knative.dev/"
_MIN = ("min-scale", "minScale")
_MAX = ("max-scale", "maxScale")
_COUNTS = (*_MIN, *_MAX, "initial-scale", "initialScale")
_TARGETS = ("target", "target-utilization-percentage")


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def _annotations(
    annotations: Mapping[str, Any], path: FieldPath, detail: str
) -> Iterator[Violation]:
    values: dict[str, float] = {}
    for key, raw in annotations.items():
        key = str(key)
        if not key.startswith(_PREFIX):
            continue
        short = key[len(_PREFIX) :]
        if short not in _COUNTS and short not in _TARGETS:
            continue
        number = _number(raw)
        where = (*path, key)
        if number is None or not isinstance(raw, str):
            yield Violation(where, f"{key} must be a numeric string, got {raw!r}", detail)
            continue
        if short in _COUNTS and (number < 0 or number != int(number)):
            yield Violation(where, f"{key} must be a whole number >= 0, got {raw!r}", detail)
        if short in _TARGETS and number <= 0:
            yield Violation(where, f"{key} must be positive, got {raw!r}", detail)
        values[short] = number
    low = next((values[k] for k in _MIN if k in values), None)
    high = next((values[k] for k in _MAX if k in values), None)
    if low is not None and high and low > high:
        key = next(k for k in _MIN if k in values)
        yield Violation((*path, _PREFIX + key), f"min-scale {low:g} > max-scale {high:g}", detail)


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    yield from _annotations(
        r.annotations, ("metadata", "annotations"), f"InferenceService {r.name!r}"
    )
    for label, path, body in components(r):
        ann = body.get("annotations")
        if isinstance(ann, dict):
            yield from _annotations(ann, (*path, "annotations"), who(r, label))
        low, high = body.get("minReplicas"), body.get("maxReplicas")
        if isinstance(low, int) and isinstance(high, int) and high > 0 and low > high:
            yield Violation(
                (*path, "minReplicas"), f"minReplicas {low} > maxReplicas {high}", who(r, label)
            )
        for key in ("minReplicas", "maxReplicas", "containerConcurrency"):
            value = body.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value < 0:
                yield Violation((*path, key), f"{key} {value} cannot be less than 0", who(r, label))
        target = body.get("scaleTarget")
        if isinstance(target, int | float) and not isinstance(target, bool) and target <= 0:
            yield Violation(
                (*path, "scaleTarget"), f"scaleTarget {target} must be positive", who(r, label)
            )


RULE = rule(
    "kserve.autoscaling",
    "Autoscaling settings are numeric and consistent",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={"InferenceService"},
    doc=__doc__,
)

"""## What it does
Warns when a Prometheus metric's `successCondition` or `failureCondition` indexes
`result[0]` without guarding an empty result (`len(result) > 0`) and NaN
(`isNaN(result[0])`). Conditions written with `all(result, ...)` or `any(result, ...)` are
accepted.

## Why is this bad?
A query with no samples (no traffic yet, a renamed label) returns an empty vector:
`result[0]` errors and the run aborts after `consecutiveErrorLimit`, or worse, a ratio of
zero over zero is NaN and every comparison with NaN is false, so a `failureCondition` never
fires. These are the most common causes of canaries that pass without evidence.

## Example
```yaml
failureCondition: result[0] > 0.05
```

## Use instead
```yaml
failureCondition: len(result) > 0 && (isNaN(result[0]) || result[0] > 0.05)
```

## References
- https://argo-rollouts.readthedocs.io/en/stable/analysis/prometheus/
- https://github.com/argoproj/argo-rollouts/issues/1466 (empty result: slice index out of range)
- https://github.com/argoproj/argo-rollouts/issues/1187
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.rollouts._analysis import ANALYSIS_KINDS, metrics, provider, who

_COLLECTION = ("all(result", "any(result", "none(result", "one(result", "filter(result")


def missing_guards(condition: str) -> list[str]:
    compact = condition.replace(" ", "")
    if any(f in compact for f in _COLLECTION) or "result[" not in compact:
        return []
    missing = []
    if "len(result)" not in compact:
        missing.append("an empty result (len(result) > 0)")
    if "isNaN(" not in compact:
        missing.append("NaN (isNaN(result[0]))")
    return missing


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    for path, metric in metrics(r):
        if provider(metric) != "prometheus":
            continue
        for key in ("successCondition", "failureCondition"):
            condition = metric.get(key)
            if not isinstance(condition, str):
                continue
            missing = missing_guards(condition)
            if missing:
                yield Violation(
                    (*path, key), f"{key} does not guard {' or '.join(missing)}", who(r, metric)
                )


RULE = rule(
    "rollouts.condition-guard",
    "Conditions guard empty and NaN results",
    Severity.WARNING,
    Scope.OBJECT,
    check,
    kinds=ANALYSIS_KINDS,
    doc=__doc__,
)

"""## What it does
Flags an analysis metric with `count` greater than 1 and no `interval`.

## Why is this bad?
Without an interval Argo Rollouts takes the measurements back to back: "five measurements"
become five identical queries within a second, not five minutes of evidence.

## Example
```yaml
metrics:
- name: success-rate
  count: 5
  successCondition: len(result) > 0 && !isNaN(result[0]) && result[0] >= 0.95
```

## Use instead
```yaml
metrics:
- name: success-rate
  count: 5
  interval: 1m
  successCondition: len(result) > 0 && !isNaN(result[0]) && result[0] >= 0.95
```

## References
- https://argo-rollouts.readthedocs.io/en/stable/features/analysis/ (count and interval)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.rollouts._analysis import ANALYSIS_KINDS, metrics, who


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    for path, metric in metrics(r):
        count = metric.get("count")
        if isinstance(count, str) and count.strip().isdigit():
            count = int(count)
        repeated = isinstance(count, int) and not isinstance(count, bool) and count > 1
        if repeated and not metric.get("interval"):
            yield Violation((*path, "count"), f"count {count} without interval", who(r, metric))


RULE = rule(
    "rollouts.count-interval",
    "Repeated measurements have an interval",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds=ANALYSIS_KINDS,
    doc=__doc__,
)

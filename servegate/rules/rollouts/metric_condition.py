"""## What it does
Flags an Argo Rollouts analysis metric (AnalysisTemplate, ClusterAnalysisTemplate, AnalysisRun)
with neither `successCondition` nor `failureCondition`. Job metrics, whose outcome is the
Job's, are not reported.

## Why is this bad?
Without a condition a measurement that returns anything at all counts as successful: the
analysis can never fail the canary, and the rollout promotes a broken model while looking
guarded. (An open ask upstream, argo-rollouts#1187, is for Rollouts to lint this itself.)

## Example
```yaml
metrics:
- name: error-rate
  provider:
    prometheus:
      query: sum(rate(http_requests_total{code=~"5.."}[5m]))
```

## Use instead
```yaml
metrics:
- name: error-rate
  failureCondition: len(result) == 0 || isNaN(result[0]) || result[0] > 0.05
  provider:
    prometheus:
      query: sum(rate(http_requests_total{code=~"5.."}[5m]))
```

## References
- https://argo-rollouts.readthedocs.io/en/stable/features/analysis/
- https://github.com/argoproj/argo-rollouts/issues/1187
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.rollouts._analysis import ANALYSIS_KINDS, metrics, provider, who


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    for path, metric in metrics(r):
        if provider(metric) == "job":
            continue
        if not metric.get("successCondition") and not metric.get("failureCondition"):
            yield Violation(
                path, "no successCondition or failureCondition: it can never fail", who(r, metric)
            )


RULE = rule(
    "rollouts.metric-condition",
    "Analysis metrics have a success or failure condition",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds=ANALYSIS_KINDS,
    doc=__doc__,
)

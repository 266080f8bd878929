"""## What it does
Flags `{{args.NAME}}` placeholders in an analysis template's metrics when `NAME` is not
declared in `spec.args`.

## Why is this bad?
Argo Rollouts fails the AnalysisRun at creation ("failed to resolve {{args...}}"), which
aborts the rollout at its first analysis step, in production, not when the template is
reviewed.

## Example
```yaml
spec:
  args:
  - name: service-name
  metrics:
  - name: success-rate
    provider:
      prometheus:
        query: rate(requests_total{service="{{args.service}}"}[5m])
```

## Use instead
```yaml
spec:
  args:
  - name: service-name
  metrics:
  - name: success-rate
    provider:
      prometheus:
        query: rate(requests_total{service="{{args.service-name}}"}[5m])
```

## References
- https://argo-rollouts.readthedocs.io/en/stable/features/analysis/#analysis-template-arguments
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.rollouts._analysis import ANALYSIS_KINDS, ARG_REF, metrics, strings, who


def declared(r: Resource) -> set[str]:
    args = r.spec.get("args")
    return (
        {str(a.get("name")) for a in args if isinstance(a, dict)}
        if isinstance(args, list)
        else set()
    )


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    names = declared(r)
    for path, metric in metrics(r):
        for where, text in strings(metric, path):
            for match in ARG_REF.finditer(text):
                if match[1] not in names:
                    yield Violation(
                        where,
                        f"{{{{args.{match[1]}}}}} is not declared in spec.args",
                        who(r, metric),
                    )


RULE = rule(
    "rollouts.undeclared-arg",
    "Analysis placeholders name declared args",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds=ANALYSIS_KINDS,
    doc=__doc__,
)

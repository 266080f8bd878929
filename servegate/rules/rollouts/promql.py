"""## What it does
Parses every Prometheus query of an analysis metric with a real PromQL parser
(`promql-parser`), after replacing `{{...}}` placeholders with a stand-in value. A query too
deeply nested or too large to parse safely (it would crash or stall the parser), or whose
regular expressions would take too long to compile, is reported too, without parsing it
(`servegate.promql`).

## Why is this bad?
A query that does not parse fails every measurement; after `consecutiveErrorLimit` errors the
rollout aborts. Typos in PromQL are invisible in YAML review and only surface during a
production canary.

## Example
```yaml
provider:
  prometheus:
    query: sum(rate(requests_total{service="{{args.service}}"}[5m])
```

## Use instead
```yaml
provider:
  prometheus:
    query: sum(rate(requests_total{service="{{args.service}}"}[5m]))
```

## References
- https://prometheus.io/docs/prometheus/latest/querying/basics/
- https://pypi.org/project/promql-parser/
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from servegate import promql
from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.rollouts._analysis import ANALYSIS_KINDS, mapping, metrics, who
from servegate.rules.rollouts._promql_type import PLACEHOLDER

_DURATION_SLOT = re.compile(r"(\[\s*|offset\s+|:\s*)\{\{[^{}]*\}\}")
_STAND_INS = ("1", "x1")
"""A number fits thresholds and label values, a name fits metric and label names."""


def parses(query: str) -> str | None:
    """None when the query parses with some stand-in for its placeholders, else the finding's
    message (the parser's error, or why servegate would not parse it)."""
    query = _DURATION_SLOT.sub(lambda m: m[1] + "5m", query)
    first = promql.problem(PLACEHOLDER.sub(_STAND_INS[0], query))
    if first is None or not first.parsed or not PLACEHOLDER.search(query):
        return None if first is None else promql.describe(first)
    for stand_in in _STAND_INS[1:]:
        if promql.problem(PLACEHOLDER.sub(stand_in, query)) is None:
            return None
    return promql.describe(first)


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    for path, metric in metrics(r):
        prom = mapping(mapping(metric.get("provider")).get("prometheus"))
        query = prom.get("query")
        if not isinstance(query, str) or not query.strip():
            continue
        error = parses(query)
        if error is not None:
            yield Violation(
                (*path, "provider", "prometheus", "query"),
                error,
                who(r, metric),
            )


RULE = rule(
    "rollouts.promql",
    "Prometheus queries parse",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds=ANALYSIS_KINDS,
    doc=__doc__,
)

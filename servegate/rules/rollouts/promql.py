"""## What it does
Parses every Prometheus query of an analysis metric with a real PromQL parser
(`promql-parser`), after replacing `{{...}}` placeholders with a stand-in value.

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

from servegate.findings import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.rollouts._analysis import (
    ANALYSIS_KINDS,
    PLACEHOLDER,
    mapping,
    metrics,
    who,
)

_DURATION_SLOT = re.compile(r"(\[\s*|offset\s+|:\s*)\{\{[^{}]*\}\}")
_STAND_INS = ("1", "x1")
"""A number fits thresholds and label values, a name fits metric and label names."""


def parses(query: str) -> str | None:
    """None when the query parses with some stand-in for its placeholders, else the error."""
    import promql_parser

    query = _DURATION_SLOT.sub(lambda m: m[1] + "5m", query)
    error = "invalid promql query"
    for stand_in in _STAND_INS:
        try:
            promql_parser.parse(PLACEHOLDER.sub(stand_in, query))
        except ValueError as err:
            error = str(err) or error
        else:
            return None
        if not PLACEHOLDER.search(query):
            break
    return error


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
                f"PromQL does not parse: {error}",
                who(r, metric),
            )


RULE = rule(
    "rollouts.promql",
    "Prometheus queries parse",
    Severity.ERROR,
    Scope.RESOURCE,
    check,
    kinds=ANALYSIS_KINDS,
    doc=__doc__,
)

"""## What it does
Flags a Prometheus analysis metric whose `successCondition` or `failureCondition` uses
`result` as the wrong type for what the query returns, the way Argo Rollouts compiles it:

- the query returns an instant vector (a selector, an aggregation, a vector function, or
  arithmetic with one) or a range vector, or `rangeQuery` is set: `result` is a list of sample
  values (`[]float64`), so `result >= 0.95`, `isNaN(result)` or `result * 100` do not compile;
- the query returns a scalar (a number, `scalar(...)`, `time()`, arithmetic between scalars):
  `result` is a number (`float64`), so `result[0]`, `len(result)` or `all(result, ...)` do not
  compile;
- the query returns a string, which the provider does not support at all.

The query's type is worked out from its PromQL syntax tree; `{{args.*}}` placeholders are
replaced by stand-ins first. Conditions beyond the expr-lang subset servegate parses
(`servegate.exprlang`) are not judged.

## Why is this bad?
The condition fails to compile on every measurement, whatever the data: each one is an
Error, and after `consecutiveErrorLimit` (4 by default) the analysis aborts the rollout. The
canary never promotes, or, with a lenient limit, the check silently guards nothing.

## Example
```yaml
successCondition: result >= 0.95
provider:
  prometheus:
    query: sum(rate(requests_total{code!~"5.."}[5m])) / sum(rate(requests_total[5m]))
```

## Use instead
```yaml
successCondition: len(result) > 0 && result[0] >= 0.95
provider:
  prometheus:
    query: sum(rate(requests_total{code!~"5.."}[5m])) / sum(rate(requests_total[5m]))
```

## References
- argoproj/argo-rollouts `metricproviders/prometheus/prometheus.go` (`processResponse`: Scalar
  -> float64, Vector and Matrix -> []float64)
- argoproj/argo-rollouts `utils/evaluate/evaluate.go` (`EvalCondition`: `expr.Compile` with
  `result` in the environment)
- https://expr-lang.org/docs/language-definition
- https://prometheus.io/docs/prometheus/latest/querying/basics/#expression-language-data-types
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.rollouts._analysis import (
    ANALYSIS_KINDS,
    CONDITIONS,
    metrics,
    prometheus_result,
    who,
)
from servegate.rules.rollouts._condition import LIST, NUMBER, CompileError, check_types

_SHAPE = {
    "list": "an instant or range vector: result is a list of sample values ([]float64)",
    "scalar": "a scalar: result is a number (float64)",
}
_ADVICE = {
    "list": "index it (len(result) > 0 && result[0] ...) or use all(result, {# ...})",
    "scalar": "compare result itself (isNaN(result) || result ...)",
}


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    from servegate.exprlang import Unsupported, parse

    for path, metric in metrics(r):
        kind = prometheus_result(metric)
        if kind is None:
            continue
        if kind == "string":
            yield Violation(
                (*path, "provider", "prometheus", "query"),
                "the query returns a string, which Argo Rollouts' Prometheus provider does not "
                "support: every measurement errors",
                who(r, metric),
            )
            continue
        for key in CONDITIONS:
            condition = metric.get(key)
            if not isinstance(condition, str) or not condition.strip():
                continue
            try:
                check_types(parse(condition).tree, LIST if kind == "list" else NUMBER)
            except Unsupported:
                continue
            except CompileError as err:
                yield Violation(
                    (*path, key),
                    f"{key} does not compile: the query returns {_SHAPE[kind]}; {err}. "
                    f"Every measurement errors: {_ADVICE[kind]}",
                    who(r, metric),
                )


RULE = rule(
    "rollouts.result-type",
    "Conditions use result as the query's type",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds=ANALYSIS_KINDS,
    doc=__doc__,
)

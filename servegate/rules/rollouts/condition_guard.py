"""## What it does
Warns when a Prometheus metric's condition decides wrongly when there is no data, judged by
running the condition the way Argo Rollouts does on the two "no data" results a query can give:
an empty list (no series matched: no traffic yet, a renamed label) and NaN (a ratio of zero over
zero, or `scalar()` of anything but one series).

- `successCondition` must not be true on no data, and should not fail to run: `result[0]` on an
  empty list is an error. A NaN already fails a success condition (every comparison with NaN is
  false), so no `isNaN` guard is needed there, unless the condition negates (`!`, `!=`).
  Guard: `len(result) > 0 && result[0] >= 0.95`. `all(result, ...)` is true on an empty list.
- `failureCondition` must be true on no data: a failure condition that is false on NaN or on an
  empty result lets the measurement pass. Guard:
  `len(result) == 0 || isNaN(result[0]) || result[0] > 0.05` (for a scalar query,
  `isNaN(result) || result > 0.05`).

A query that always returns an element (`... or vector(0)`, the usual guard written in the
query itself, also with scalar arithmetic around it) is never empty, and is judged on NaN only.
Conditions whose types do not fit the query are `rollouts.result-type`'s; conditions beyond the
expr-lang subset servegate evaluates (`servegate.exprlang`) are not judged. A condition too
long (over 16 KiB) or nested too deeply (over 128 levels of brackets, calls and chained
operators) to judge safely is reported as such, whatever the metric's provider.

## Why is this bad?
A measurement without data is the normal state of a fresh canary. A condition that errors on it
aborts the rollout after `consecutiveErrorLimit` errors for a reason nobody can read in the
analysis; one that passes on it promotes a model that served nothing, or served only errors
that produced NaN. These are the most common causes of canaries that pass without evidence.

## Example
```yaml
successCondition: all(result, {# < 0.05})
failureCondition: len(result) > 0 && result[0] > 0.05
```

## Use instead
```yaml
successCondition: len(result) > 0 && all(result, {# < 0.05})
failureCondition: len(result) == 0 || isNaN(result[0]) || result[0] > 0.05
```

## References
- argoproj/argo-rollouts `utils/evaluate/evaluate.go` (`EvaluateResult`, `EvalCondition`:
  an error is an Error measurement; without a failure condition, not success is failure)
- argoproj/argo-rollouts `metricproviders/prometheus/prometheus.go` (`processResponse`)
- https://argo-rollouts.readthedocs.io/en/stable/analysis/prometheus/
- https://github.com/argoproj/argo-rollouts/issues/1466 (empty result: slice index out of range)
- https://prometheus.io/docs/prometheus/latest/querying/operators/#logical-set-binary-operators
  (`or`: the right side's elements whose label sets the left side lacks)
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.rollouts._analysis import (
    ANALYSIS_KINDS,
    mapping,
    metrics,
    prometheus_result,
    who,
)
from servegate.rules.rollouts._condition import LIST, NUMBER, CompileError, check_types
from servegate.rules.rollouts._promql_type import never_empty

if TYPE_CHECKING:
    from servegate.exprlang import Condition

_NAN = math.nan


def _probes(kind: str, never_empty: bool = False) -> list[tuple[str, Any]]:
    if kind == "list":
        nan = [("NaN", [_NAN])]
        return nan if never_empty else [("an empty result", []), *nan]
    return [("NaN", _NAN)]


def _outcome(condition: Condition, value: Any) -> bool | None:
    """True/False, or None when the condition errors at run time (an Error measurement)."""
    from servegate.exprlang import EvalError

    try:
        return condition.evaluate(value)
    except EvalError:
        return None


def problems(key: str, condition: str, kind: str, never_empty: bool = False) -> list[str]:
    """What ``condition`` gets wrong on no data, as advice; empty when it is right.
    ``never_empty``: the query always returns an element (``... or vector(0)``)."""
    from servegate.exprlang import Unsupported, parse

    try:
        parsed = parse(condition)
        check_types(parsed.tree, LIST if kind == "list" else NUMBER)
    except (Unsupported, CompileError):
        return []
    found: list[str] = []
    nan_guard = "isNaN(result[0])" if kind == "list" else "isNaN(result)"
    for label, value in _probes(kind, never_empty):
        outcome = _outcome(parsed, value)
        empty = label == "an empty result"
        if key == "successCondition":
            if outcome is None:
                found.append(f"errors on {label}: start it with len(result) > 0 &&")
            elif outcome:
                guard = "len(result) > 0 &&" if empty else f"!{nan_guard} &&"
                found.append(f"passes on {label}: start it with {guard}")
        elif outcome is not True:
            verb = "errors" if outcome is None else "does not fail"
            guard = "len(result) == 0 ||" if empty else f"{nan_guard} ||"
            found.append(f"{verb} on {label}: start it with {guard}")
    return found


def too_large(condition: str) -> str | None:
    """Why ``condition`` is beyond what servegate judges (too long, nested too deeply)."""
    from servegate.exprlang import TooLarge, Unsupported, parse

    try:
        parse(condition)
    except TooLarge as err:
        return str(err)
    except Unsupported:
        return None
    return None


def _never_empty(metric: dict[str, Any]) -> bool:
    prom = mapping(mapping(metric.get("provider")).get("prometheus"))
    query = prom.get("query")
    if not isinstance(query, str) or isinstance(prom.get("rangeQuery"), dict):
        return False
    return never_empty(query)


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    for path, metric in metrics(r):
        kind = prometheus_result(metric)
        for key in ("successCondition", "failureCondition"):
            condition = metric.get(key)
            if not isinstance(condition, str) or not condition.strip():
                continue
            refused = too_large(condition)
            if refused is not None:
                yield Violation((*path, key), f"{key} cannot be judged: {refused}", who(r, metric))
                continue
            if kind not in ("list", "scalar"):
                continue
            found = problems(key, condition, kind, _never_empty(metric))
            if found:
                yield Violation((*path, key), f"{key} {'; '.join(found)}", who(r, metric))


RULE = rule(
    "rollouts.condition-guard",
    "Conditions decide right on empty and NaN results",
    Severity.WARNING,
    Scope.OBJECT,
    check,
    kinds=ANALYSIS_KINDS,
    doc=__doc__,
)

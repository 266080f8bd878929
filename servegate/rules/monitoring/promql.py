"""## What it does
Parses the PromQL expression (`expr`) of every alerting and recording rule in a Prometheus
Operator PrometheusRule with a real PromQL parser. An expression too deeply nested or too
large to parse safely (it would crash or stall the parser), or whose regular expressions would
take too long to compile (`up{job=~"\\\\w{1000}"}`), is reported without parsing it.

## Why is this bad?
The Prometheus Operator's validating webhook refuses a PrometheusRule that is not a valid
Prometheus rule file, so the sync fails; without the webhook Prometheus fails to load the rule
group and keeps running without it: the alert never fires.

## Example
```yaml
spec:
  groups:
  - name: model
    rules:
    - alert: HighErrorRate
      expr: sum(rate(errors_total[5m]) > 1
```

## Use instead
```yaml
spec:
  groups:
  - name: model
    rules:
    - alert: HighErrorRate
      expr: sum(rate(errors_total[5m])) > 1
```

## References
- prometheus-operator `Documentation/user-guides/webhook.md` (`/admission-prometheusrules/validate`
  rejects rules that are not valid Prometheus configuration)
- https://prometheus.io/docs/prometheus/latest/configuration/alerting_rules/
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate import promql
from servegate.model import Severity
from servegate.resource import Resource, as_dict
from servegate.rules.base import Context, Scope, Violation, rule


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    groups = r.spec.get("groups")
    if not isinstance(groups, list):
        return
    for g, group in enumerate(groups):
        rules = as_dict(group).get("rules")
        if not isinstance(rules, list):
            continue
        for i, item in enumerate(rules):
            entry = as_dict(item)
            expr = entry.get("expr")
            if not isinstance(expr, str) or not expr.strip():
                continue  # the schema requires expr; an int expr is valid PromQL as a string
            found = promql.problem(expr)
            if found is not None:
                name = entry.get("alert") or entry.get("record") or f"#{i}"
                yield Violation(
                    ("spec", "groups", g, "rules", i, "expr"),
                    promql.describe(found),
                    f"rule {name!r} in group {as_dict(group).get('name', g)!r}",
                )


RULE = rule(
    "monitoring.promql",
    "PrometheusRule expressions parse",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds=frozenset({"PrometheusRule"}),
    doc=__doc__,
)

"""## What it does
Flags a Rollout or Experiment that names an AnalysisTemplate the overlay does not define in its
namespace (canary `steps[].analysis`, background `analysis`, blue-green pre/post-promotion
analysis, experiment `analyses`). References with `clusterScope: true` name a
ClusterAnalysisTemplate and are checked only when the overlay defines some
(they usually ship once per cluster).

## Why is this bad?
Argo Rollouts cannot create the AnalysisRun; the rollout stays degraded at its first analysis
step, in production, after the new version already received traffic.

## Example
```yaml
kind: Rollout
spec:
  strategy:
    canary:
      steps:
      - analysis:
          templates:
          - templateName: sucess-rate
```

## Use instead
```yaml
      - analysis:
          templates:
          - templateName: success-rate
```

## References
- https://argo-rollouts.readthedocs.io/en/stable/features/analysis/
- https://argo-rollouts.readthedocs.io/en/stable/features/experiment/
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from servegate.model import Severity
from servegate.resource import FieldPath, Resource, as_dict, as_list
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.refs._index import NameIndex


def _refs(entries: Any, path: FieldPath) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    for i, entry in enumerate(as_list(entries)):
        if isinstance(entry, dict) and entry.get("templateName"):
            yield (*path, i), entry


def references(r: Resource) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    if r.kind == "Experiment":
        yield from _refs(r.spec.get("analyses"), ("spec", "analyses"))
        return
    strategy = as_dict(r.spec.get("strategy"))
    canary = as_dict(strategy.get("canary"))
    base: FieldPath = ("spec", "strategy", "canary")
    yield from _refs(
        as_dict(canary.get("analysis")).get("templates"), (*base, "analysis", "templates")
    )
    for i, step in enumerate(as_list(canary.get("steps"))):
        step = as_dict(step)
        yield from _refs(
            as_dict(step.get("analysis")).get("templates"),
            (*base, "steps", i, "analysis", "templates"),
        )
        yield from _refs(
            as_dict(step.get("experiment")).get("analyses"),
            (*base, "steps", i, "experiment", "analyses"),
        )
    blue = as_dict(strategy.get("blueGreen"))
    for key in ("prePromotionAnalysis", "postPromotionAnalysis"):
        yield from _refs(
            as_dict(blue.get(key)).get("templates"),
            ("spec", "strategy", "blueGreen", key, "templates"),
        )


def check(resources: Sequence[Resource], ctx: Context) -> Iterator[Violation]:
    templates = NameIndex(resources, {"AnalysisTemplate"})
    cluster = NameIndex(resources, {"ClusterAnalysisTemplate"})
    for r in resources:
        if r.kind not in ("Rollout", "Experiment"):
            continue
        for path, ref in references(r):
            name = str(ref["templateName"])
            if ref.get("clusterScope") is True:
                if cluster.names and not cluster.has(None, name):
                    yield Violation(
                        (*path, "templateName"),
                        f"ClusterAnalysisTemplate {name!r} is not defined",
                        f"{r.kind} {r.name!r}",
                        r,
                    )
            elif not templates.has(r.namespace, name):
                yield Violation(
                    (*path, "templateName"),
                    f"AnalysisTemplate {name!r} is not defined in the namespace",
                    f"{r.kind} {r.name!r}",
                    r,
                )


RULE = rule(
    "refs.analysis-template",
    "Rollouts name analysis templates that exist",
    Severity.ERROR,
    Scope.UNIT,
    check,
    doc=__doc__,
)

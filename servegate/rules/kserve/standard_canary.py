"""## What it does
Checks the Standard-mode canary API, the `spec.canary` list: it is used only in `Standard` mode
(the default), each entry's `predictor` sets `name`, names are unique, the `trafficPercent`
values sum to at most 100, and canary predictors carry no autoscaling fields (`minReplicas`,
`maxReplicas`, `scaleTarget`, `scaleMetric`, `scaleMetricType`, `autoScaling`).

## Why is this bad?
A canary without a name cannot be promoted or told apart in metrics; percentages over 100
leave the stable predictor with negative traffic and are rejected; autoscaling on a canary
fights the traffic split that is supposed to size it. In Knative mode the list is ignored.

## Example
```yaml
spec:
  predictor:
    name: stable
    model: {modelFormat: {name: sklearn}, storageUri: "s3://models/v1"}
  canary:
  - trafficPercent: 60
    predictor:
      minReplicas: 2
      model: {modelFormat: {name: sklearn}, storageUri: "s3://models/v2"}
  - trafficPercent: 50
    predictor:
      name: v3
      model: {modelFormat: {name: sklearn}, storageUri: "s3://models/v3"}
```

## Use instead
```yaml
spec:
  canary:
  - trafficPercent: 10
    predictor:
      name: v2
      model: {modelFormat: {name: sklearn}, storageUri: "s3://models/v2"}
```

## References
- KServe InferenceService CRD `spec.canary[]` (`predictor`, `trafficPercent` 0..100)
- https://github.com/kserve/kserve/pull/4623 (progressive rollout in Standard mode)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.kserve._isvc import AUTOSCALING_FIELDS, mode


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    canaries = r.spec.get("canary")
    if not isinstance(canaries, list):
        return
    who = f"InferenceService {r.name!r}"
    current = mode(r)
    if current not in (None, "Standard"):
        yield Violation(
            ("spec", "canary"),
            f"spec.canary needs Standard mode, mode is "
            f"{current!r}: use predictor.canaryTrafficPercent in Knative mode",
            who,
        )
    total = 0
    names: set[str] = set()
    for i, entry in enumerate(canaries):
        if not isinstance(entry, dict):
            continue
        path = ("spec", "canary", i)
        pct = entry.get("trafficPercent")
        if isinstance(pct, int) and not isinstance(pct, bool):
            total += pct
        pred = entry.get("predictor")
        pred = pred if isinstance(pred, dict) else {}
        name = pred.get("name")
        if not name:
            yield Violation((*path, "predictor"), f"canary[{i}] predictor has no name", who)
        elif str(name) in names:
            yield Violation((*path, "predictor", "name"), f"canary name {name!r} repeats", who)
        else:
            names.add(str(name))
        for key in AUTOSCALING_FIELDS:
            if key in pred:
                yield Violation(
                    (*path, "predictor", key),
                    f"canary[{i}] sets {key}: canaries take no autoscaling",
                    who,
                )
    if total > 100:
        yield Violation(("spec", "canary"), f"canary trafficPercent sums to {total} > 100", who)


RULE = rule(
    "kserve.standard-canary",
    "Standard-mode canaries are named and within 100%",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={"InferenceService"},
    doc=__doc__,
)

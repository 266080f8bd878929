"""## What it does
Checks `canaryTrafficPercent` on InferenceService components: it must be an integer from 0 to
100, and it only works in `Knative` mode (legacy `Serverless` counts). Without the annotation
the cluster default applies (policy parameter `kserveDefaultDeploymentMode`; `Standard` since
KServe 0.17). Standard mode uses the `spec.canary` list instead
(`kserve.standard-canary`).

## Why is this bad?
Outside Knative mode there are no revisions to split traffic between: the field is ignored and
the "canary" receives all the traffic at once. A value outside 0..100 is rejected at sync.

## Example
```yaml
metadata:
  annotations:
    serving.kserve.io/deploymentMode: Standard
spec:
  predictor:
    canaryTrafficPercent: 10
```

## Use instead
```yaml
metadata:
  annotations:
    serving.kserve.io/deploymentMode: Knative
spec:
  predictor:
    canaryTrafficPercent: 10
```

## References
- https://kserve.github.io/website/docs/model-serving/predictive-inference/rollout-strategies/canary-example
- https://github.com/kserve/kserve/pull/4608 (default mode is Standard)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.kserve._isvc import (
    DEFAULT_MODE_PARAM,
    MODE_ANNOTATION,
    components,
    effective_mode,
    who,
)


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    current = effective_mode(r, ctx)
    if current is None:
        return
    for label, path, body in components(r):
        if "canaryTrafficPercent" not in body:
            continue
        value = body["canaryTrafficPercent"]
        where = (*path, "canaryTrafficPercent")
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            yield Violation(where, f"canaryTrafficPercent {value!r} is not 0..100", who(r, label))
        if current != "Knative":
            shown = repr(current) if MODE_ANNOTATION in r.annotations else f"{current} (default)"
            yield Violation(
                where,
                f"canaryTrafficPercent needs deploymentMode Knative, mode is {shown}: "
                "use spec.canary in Standard mode",
                who(r, label),
            )


RULE = rule(
    "kserve.canary-traffic-percent",
    "canaryTrafficPercent is valid and used in Knative mode",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={"InferenceService"},
    params={DEFAULT_MODE_PARAM: "Standard"},
    doc=__doc__,
)

"""## What it does
Flags an InferenceService whose `serving.kserve.io/autoscalerClass` annotation is not one KServe
knows: `hpa` (the default), `keda`, `external` or `none`.

## Why is this bad?
KServe's validating webhook refuses any other value ("[kpa] is not a supported autoscaler class
type"), so the object never reaches the cluster. The Knative autoscaler is chosen with
`autoscaling.knative.dev/class` in Knative mode, not with this annotation.

## Example
```yaml
metadata:
  annotations:
    serving.kserve.io/autoscalerClass: kpa
```

## Use instead
```yaml
metadata:
  annotations:
    serving.kserve.io/autoscalerClass: hpa
```

## References
- kserve/kserve `pkg/apis/serving/v1beta1/inference_service_validation.go`
  (`validateInferenceServiceAutoscaler`)
- kserve/kserve `pkg/constants/constants.go` (`AutoscalerAllowedClassList`)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.kserve._isvc import AUTOSCALER_CLASS

ALLOWED_CLASSES = ("hpa", "external", "keda", "none")


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    if AUTOSCALER_CLASS not in r.annotations:
        return
    value = r.annotations[AUTOSCALER_CLASS]
    if value in ALLOWED_CLASSES:
        return
    yield Violation(
        ("metadata", "annotations", AUTOSCALER_CLASS),
        f"[{value}] is not a supported autoscaler class type: use one of "
        f"{', '.join(ALLOWED_CLASSES)}",
        f"InferenceService {r.name!r}",
    )


RULE = rule(
    "kserve.autoscaler-class",
    "The autoscaler class is one KServe knows",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={"InferenceService"},
    doc=__doc__,
)

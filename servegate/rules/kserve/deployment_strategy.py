"""## What it does
Flags `deploymentStrategy` on an InferenceService component (predictor, transformer, explainer)
outside Standard mode (formerly RawDeployment): in Knative mode, and in ModelMesh mode, unless
`autoscaling.knative.dev/class: hpa.autoscaling.knative.dev` routes the component to the HPA
checks. A missing deployment-mode annotation means the cluster default (policy parameter
`kserveDefaultDeploymentMode`, `Standard` unless set).

## Why is this bad?
Knative creates Revisions, not Deployments, so there is no rollout strategy to customise.
KServe's validating webhook refuses the object ("customizing deploymentStrategy is only
supported for raw deployment mode"); the CRD schema admits it, so the refusal first shows up as
an Argo CD sync error.

## Example
```yaml
metadata:
  annotations:
    serving.kserve.io/deploymentMode: Knative
spec:
  predictor:
    deploymentStrategy:
      type: RollingUpdate
```

## Use instead
```yaml
metadata:
  annotations:
    serving.kserve.io/deploymentMode: Standard
spec:
  predictor:
    deploymentStrategy:
      type: RollingUpdate
```

## References
- kserve/kserve `pkg/apis/serving/v1beta1/inference_service_validation.go`
  (`validateAutoScalingCompExtension`, `validateScalingKPACompExtension`)
- kserve/kserve `pkg/apis/serving/v1beta1/component.go` (`DeploymentStrategy`: "Only
  applicable for raw deployment mode")
- https://github.com/kserve/kserve/issues/4259
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.kserve._isvc import (
    KNATIVE_CLASS,
    KNATIVE_HPA_CLASS,
    effective_mode,
    webhook_components,
    who,
)


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    mode = effective_mode(r, ctx)
    if mode in (None, "Standard") or r.annotations.get(KNATIVE_CLASS) == KNATIVE_HPA_CLASS:
        return
    for name, path, body in webhook_components(r):
        if body.get("deploymentStrategy") is not None:
            yield Violation(
                (*path, "deploymentStrategy"),
                f"customizing deploymentStrategy is only supported in Standard (raw) "
                f"deployment mode, mode is {mode}",
                who(r, name),
            )


RULE = rule(
    "kserve.deployment-strategy",
    "deploymentStrategy only in Standard mode",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={"InferenceService"},
    params={"kserveDefaultDeploymentMode": "Standard"},
    doc=__doc__,
)

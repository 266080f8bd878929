"""## What it does
Requires an `image` on every container the API server will see as one: in the pod specs of
built-in kinds (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob...), and in
an InferenceService component's `containers` unless KServe fills the image in: a
`kserve-container` next to a model or framework shortcut (`model:`, `sklearn:`...) takes it
from the selected ServingRuntime, so each container of a ServingRuntime or
ClusterServingRuntime needs one too (its CRD does not require it). The image must not start or
end with whitespace.

## Why is this bad?
The API server refuses the pod or workload; for an InferenceService, KServe's Deployment or
Knative Service is refused and the model never starts. A strategic-merge patch on an
InferenceService or a ServingRuntime replaces its whole `containers` list (CRDs have no merge
keys), so a patch meant to change only `resources` drops the image.

## Example
```yaml
spec:
  predictor:
    containers:
    - name: kserve-container
      resources:
        limits: {cpu: "4", memory: 8Gi}
```

## Use instead
```yaml
spec:
  predictor:
    containers:
    - name: kserve-container
      image: registry.example.com/ml/fraud-server:1.4.2
      resources:
        limits: {cpu: "4", memory: 8Gi}
```

## References
- kubernetes/kubernetes `pkg/apis/core/validation/validation.go` (`validateContainerCommon`:
  `image` Required value; leading or trailing whitespace Invalid)
- kserve/kserve `pkg/apis/serving/v1beta1/predictor_custom.go` (a custom container is the
  pod's container as written) and `pkg/controller/v1beta1/inferenceservice/components/predictor.go`
  (`kserve-container` merged over the runtime's container)
- kubernetes-sigs/kustomize#1027, argoproj/argo-rollouts#700 (strategic merge replaces CRD lists)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.podspecs import KSERVE_SHORTCUTS, ContainerView, PodSpecView
from servegate.rules.admission._k8s import is_core_pod
from servegate.rules.base import Context, Scope, Violation, rule

KSERVE_CONTAINER = "kserve-container"
RUNTIME_KINDS = frozenset({"ServingRuntime", "ClusterServingRuntime"})


def _runtime_supplies_image(pod: PodSpecView, c: ContainerView) -> bool:
    if c.section in KSERVE_SHORTCUTS:
        return True  # the shortcut is the runtime's container
    has_shortcut = any(x.section in KSERVE_SHORTCUTS for x in pod.containers)
    return c.section == "containers" and c.name == KSERVE_CONTAINER and has_shortcut


def _from_checked_runtime(pod: PodSpecView, c: ContainerView) -> bool:
    """Whether KServe's merge of a runtime of the checked set wrote ``c`` (its image
    included, when the runtime has one)."""
    source = pod.source_of(c.path)[0]
    return (
        source is not None
        and source.resource is not None
        and (source.resource.kind in RUNTIME_KINDS)
    )


def check(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    kserve = pod.resource.kind == "InferenceService"
    runtime = pod.resource.kind in RUNTIME_KINDS
    if not (is_core_pod(pod) or kserve or runtime):
        return
    for c in pod.containers:
        merged = kserve and _runtime_supplies_image(pod, c)
        if merged and not _from_checked_runtime(pod, c):
            continue  # the runtime is not in the checked set: the cluster's supplies the image
        image = c.body.get("image")
        who = f"{pod.label} container {c.name!r}"
        if image is None or image == "":
            why = (
                "has no image: the pods KServe makes from this runtime have none (the API "
                "server requires one)"
                if runtime or merged
                else "has no image (the API server requires one)"
            )
            yield Violation(c.path, why, who)
        elif isinstance(image, str) and image != image.strip():
            yield Violation(c.at("image"), "the image must not start or end with whitespace", who)


RULE = rule(
    "admission.container-image",
    "Containers have an image",
    Severity.ERROR,
    Scope.POD,
    check,
    doc=__doc__,
)

"""## What it does
Flags a ServingRuntime or ClusterServingRuntime that an InferenceService in the checked set
uses (by name or by KServe's selection) but that has no `kserve-container` (for a multi-node
predictor's workers: no `worker-container` in its `workerSpec`), and a model container KServe
cannot merge with the runtime's (a strategic merge that fails).

## Why is this bad?
KServe builds the model server by merging the InferenceService's container into the runtime's
container of that name. Without it the InferenceService never becomes ready: KServe reports
`InvalidPredictorSpec` ("failed to find kserve-container in ServingRuntime containers"), and no
pod is created.

## Example
```yaml
apiVersion: serving.kserve.io/v1alpha1
kind: ServingRuntime
metadata:
  name: sklearn
spec:
  supportedModelFormats: [{name: sklearn, autoSelect: true}]
  containers:
  - name: server            # KServe looks for kserve-container
    image: registry.example.com/sklearnserver:1.0
```

## Use instead
```yaml
  containers:
  - name: kserve-container
    image: registry.example.com/sklearnserver:1.0
```

## References
- kserve/kserve `pkg/controller/v1beta1/inferenceservice/utils/utils.go`
  (`MergeServingRuntimeAndInferenceServiceSpecs`)
- kserve/kserve `pkg/controller/v1beta1/inferenceservice/components/predictor.go`
  (`buildPodSpec`, `multiNodeProcess`)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.podspecs import PodSpecView
from servegate.rules.base import Context, Scope, Violation, rule


def check(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    if pod.built is None:
        return
    for resource, path, why in pod.built.problems:
        yield Violation(path, why, f"{resource.kind} {resource.name!r}", resource)


RULE = rule(
    "kserve.runtime-container",
    "The runtime has the container KServe merges the model into",
    Severity.ERROR,
    Scope.POD,
    check,
    doc=__doc__,
)

"""## What it does
Notes an InferenceService predictor that names a ServingRuntime (`model.runtime`) that is not
in the checked set: neither a ServingRuntime of its namespace nor a ClusterServingRuntime
checked with it. servegate then judges the model container as the InferenceService writes it:
the fields the runtime would supply (securityContext, resources, image) count as unset.

A model that names no runtime and that none of the runtimes checked with it serves gets one
KServe installs in the cluster (its default ClusterServingRuntimes): that is the common case,
so it is not noted on its own; a finding about its model container says that it was judged as
written.

## Why is this bad?
KServe builds the model server container by merging the InferenceService's container over the
runtime's, so the pod's security context, resources and image depend on a runtime servegate
did not see. The note says which; it is not a defect by itself.

## Example
```yaml
spec:
  predictor:
    model:
      runtime: sklearn-hardened      # not in the repo
      modelFormat: {name: sklearn}
```

## Use instead
Check the runtime with the repo (a ServingRuntime in the same overlay, or a
ClusterServingRuntime in the checked set), or set what it would supply on the model.

## References
- kserve/kserve `pkg/controller/v1beta1/inferenceservice/components/predictor.go`
  (`reconcileModel`), `pkg/controller/v1beta1/inferenceservice/utils/utils.go`
  (`GetServingRuntime`, `MergeRuntimeContainers`)
- kserve/kserve `pkg/apis/serving/v1beta1/predictor_model.go` (`GetSupportingRuntimes`)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.podspecs import PodSpecView
from servegate.rules.base import Context, Scope, Violation, rule


def check(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    built = pod.built
    if built is None or not built.runtime_named or pod.label.endswith("workerSpec"):
        return
    if built.runtime_note:
        yield Violation(built.runtime_at, built.runtime_note, pod.label)


RULE = rule(
    "kserve.runtime-not-checked",
    "The ServingRuntime an InferenceService uses is checked with it",
    Severity.NOTE,
    Scope.POD,
    check,
    doc=__doc__,
)

"""## What it does
Warns when a pod that Pod Security `restricted` judges gets KServe's own default
storage-initializer: its InferenceService downloads the model (a `storageUri` that is not
`pvc://` or `oci://`) and no ClusterStorageContainer checked with it serves that URI. With a
ClusterStorageContainer in the checked set, its container is merged into the pod and judged
by the Pod Security rules instead, located in the ClusterStorageContainer.

The parameter `storageInitializer: restricted` (servegate.yaml `policy:`, or a policy set)
says that the cluster's default ClusterStorageContainer is hardened for `restricted`
(as servegate's `argo/cluster/clusterstoragecontainer-default.yaml`): the warning is then not
given, and the pod is judged with such a storage-initializer.

## Why is this bad?
KServe adds the storage-initializer as an init container of every such pod. Its default
container (inferenceservice-config `storageInitializer`, KServe's `default`
ClusterStorageContainer) sets no securityContext since KServe 0.14, so a namespace enforcing
`restricted` rejects the pod: "allowPrivilegeEscalation != false (container
"storage-initializer" ...)". The model never starts, and nothing in the repo shows why.
servegate cannot see the cluster's ClusterStorageContainers unless they are checked with the
repo, hence a warning.

## Example
```yaml
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
      storageUri: s3://models/iris/v1   # KServe's default storage-initializer downloads it
```

## Use instead
Harden the cluster's default ClusterStorageContainer and check it with the repo, or say so:
```yaml
apiVersion: serving.kserve.io/v1alpha1
kind: ClusterStorageContainer
metadata:
  name: default
spec:
  container:
    name: storage-initializer
    image: kserve/storage-initializer:v0.20.0
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
      runAsNonRoot: true
      seccompProfile: {type: RuntimeDefault}
  supportedUriFormats: [{prefix: "s3://"}]
  workloadType: initContainer
```

## References
- kserve/kserve `pkg/webhook/admission/pod/storage_initializer_injector.go`
  (`CommonStorageInitialization`, `GetStorageContainerSpec`), `pkg/utils/storage.go`
  (`CreateInitContainerWithConfig`), `config/configmap/inferenceservice.yaml`
  (`storageInitializer`), `config/storagecontainers/default.yaml`
- https://github.com/kserve/kserve/pull/3985 (no securityContext copied from the model container)
- https://github.com/kserve/kserve/issues/5373 (pods rejected by `restricted`)
- https://github.com/kserve/kserve/pull/5855, https://github.com/kubeflow/community-distribution/pull/3527
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.podspecs import PodSpecView
from servegate.podspecs.kserve import STORAGE_PARAM
from servegate.rules.base import Context, Level, Scope, Violation, rule


def check(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    built = pod.built
    if built is None or not built.storage_default or pod.label.endswith("workerSpec"):
        return
    if ctx.param(STORAGE_PARAM) == "restricted":
        return
    yield Violation(
        built.storage_at,
        f"KServe adds its default storage-initializer to download {built.storage_uri!r} (no "
        "ClusterStorageContainer checked with the repo serves it); it sets no securityContext, "
        "so Pod Security 'restricted' rejects the pod (kserve/kserve#5373) unless the "
        "cluster's default ClusterStorageContainer is hardened: check it with the repo, or set "
        f"the parameter {STORAGE_PARAM}: restricted",
        pod.label,
    )


RULE = rule(
    "kserve.storage-initializer",
    "KServe's storage-initializer passes Pod Security restricted",
    Severity.WARNING,
    Scope.POD,
    check,
    level=Level.RESTRICTED,
    doc=__doc__,
)

"""## What it does
Flags volumes of any type other than `configMap`, `csi`, `downwardAPI`, `emptyDir`,
`ephemeral`, `image`, `persistentVolumeClaim`, `projected` and `secret`: hostPath, NFS, iSCSI,
gitRepo and every in-tree cloud or network disk. A volume that names no source is what the API
server defaults to `emptyDir`, and is allowed.

## Why is this bad?
Restricted pods reach storage only through claims and projected data, which cluster admins
control through StorageClasses and RBAC. Direct volume types bypass that, and some (hostPath,
gitRepo) are escape routes of their own. Pod Security `restricted` allows only the list above.

## Example
```yaml
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
    volumes:
    - name: models
      nfs: {server: nfs.example.com, path: /models}
```

## Use instead
```yaml
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
    volumes:
    - name: models
      persistentVolumeClaim: {claimName: models}
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted (Volume Types)
- kubernetes/pod-security-admission `policy/check_restrictedVolumes.go` (`restrictedVolumes`,
  1.0, `image` allowed in place from Kubernetes 1.33; overrides `hostPathVolumes`)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.podspecs import PodSpecView
from servegate.resource import as_list
from servegate.rules.base import Context, Level, Scope, Violation, rule
from servegate.rules.pss._psa import who

ALLOWED = (
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
)
#: Forbidden sources, in the order upstream reports them.
FORBIDDEN = (
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
)


def check_v1_0(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    for i, volume in enumerate(as_list(pod.spec.get("volumes"))):
        if not isinstance(volume, dict) or any(volume.get(k) is not None for k in ALLOWED):
            continue
        for kind in FORBIDDEN:
            if volume.get(kind) is not None:
                yield Violation(
                    pod.at("volumes", i, kind),
                    f"volume {volume.get('name')!r} uses restricted volume type {kind!r}",
                    who(pod),
                )
                break


RULE = rule(
    "pss.restricted-volumes",
    "Pods may use only claim, projected and ephemeral volume types",
    Severity.ERROR,
    Scope.POD,
    check_v1_0,
    level=Level.RESTRICTED,
    versions={(1, 0): check_v1_0},
    doc=__doc__,
)

"""## What it does
Flags pods that mount a `hostPath` volume.

At the `restricted` level `pss.restricted-volumes` replaces this rule (as upstream's
`restrictedVolumes` overrides `hostPathVolumes`), so a defect is reported once.

## Why is this bad?
A hostPath volume exposes the node's filesystem to the container: the kubelet's credentials,
the container runtime's socket, other pods' data. Model servers never need it; use a PVC, an
`emptyDir` or KServe's storage initializer. Pod Security `baseline` forbids it.

## Example
```yaml
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
    volumes:
    - name: models
      hostPath: {path: /mnt/models}
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
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline (HostPath Volumes)
- kubernetes/pod-security-admission `policy/check_hostPathVolumes.go` (`hostPathVolumes`, 1.0;
  overridden by `restrictedVolumes`)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.podspecs import PodSpecView
from servegate.resource import as_list
from servegate.rules.base import Context, Level, Scope, Violation, rule
from servegate.rules.pss._psa import restricted_overrides, who


def check_v1_0(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    for i, volume in enumerate(as_list(pod.spec.get("volumes"))):
        if isinstance(volume, dict) and volume.get("hostPath") is not None:
            yield Violation(
                pod.at("volumes", i, "hostPath"),
                f"hostPath volume {volume.get('name')!r} is not allowed",
                who(pod),
            )


# restrictedVolumes overrides this check from 1.0, the first policy version.
check_v1_0_overridable = restricted_overrides(check_v1_0)

RULE = rule(
    "pss.host-path-volumes",
    "Pods must not mount hostPath volumes",
    Severity.ERROR,
    Scope.POD,
    check_v1_0_overridable,
    level=Level.BASELINE,
    versions={(1, 0): check_v1_0_overridable},
    doc=__doc__,
)

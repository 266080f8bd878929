"""## What it does
At the `restricted` level, from policy 1.35, flags containers that set
`securityContext.procMount` to anything but `Default`, even in a pod with its own user namespace
(`hostUsers: false`), which `pss.proc-mount` tolerates at the `baseline` level.

## Why is this bad?
Restricted pods get the default /proc masks without exception: an unmasked /proc exposes kernel
interfaces the workload never needs, user namespace or not.

## Example
```yaml
spec:
  predictor:
    hostUsers: false
    model:
      modelFormat: {name: sklearn}
      securityContext:
        procMount: Unmasked
```

## Use instead
```yaml
spec:
  predictor:
    hostUsers: false
    model:
      modelFormat: {name: sklearn}
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
- https://kubernetes.io/docs/concepts/workloads/pods/user-namespaces/#integration-with-pod-security-admission-checks
- kubernetes/pod-security-admission `policy/check_procMount_restricted.go`
  (`procMount_restricted`, 1.35, overrides `procMount`)
"""

from __future__ import annotations

from servegate.model import Severity
from servegate.rules.base import Level, Scope, rule
from servegate.rules.pss import proc_mount
from servegate.rules.pss._psa import unchecked

# The same test as baseline's 1.0 check, without the user-namespace relaxation (as upstream).
check_v1_35 = proc_mount.check_v1_0

RULE = rule(
    "pss.proc-mount-restricted",
    "Containers must use the default /proc mount, without exception",
    Severity.ERROR,
    Scope.POD,
    unchecked,
    level=Level.RESTRICTED,
    versions={(1, 0): unchecked, (1, 35): check_v1_35},
    doc=__doc__,
)

"""## What it does
Flags containers that set `securityContext.procMount` to anything but `Default` (for example
`Unmasked`). From policy 1.35 a pod in its own user namespace (`hostUsers: false`) may unmask
/proc at the `baseline` level; at the `restricted` level `pss.proc-mount-restricted` applies
instead and allows no exception.

## Why is this bad?
The default /proc mount masks kernel interfaces (`/proc/kcore`, `/proc/sys`...) that leak host
information or let a process change kernel settings. Unmasking them is only safe inside a user
namespace. Pod Security `baseline` forbids it otherwise.

## Example
```yaml
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
      securityContext:
        procMount: Unmasked
```

## Use instead
```yaml
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
      securityContext:
        procMount: Default
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline (/proc Mount Type)
- kubernetes/pod-security-admission `policy/check_procMount_baseline.go` (`procMount`, 1.0 and
  1.35, which relaxes it for `hostUsers: false`; overridden at restricted by
  `policy/check_procMount_restricted.go`), `policy/helpers.go` (`relaxPolicyForUserNamespacePod`)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.podspecs import PodSpecView
from servegate.rules.base import Context, Level, Scope, Violation, rule
from servegate.rules.pss._psa import exempt_when, in_user_namespace, restricted_overrides, who


def check_v1_0(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    for c in pod.containers:
        proc_mount = c.security_context.get("procMount")
        if proc_mount is not None and proc_mount != "Default":
            yield Violation(
                c.at("securityContext", "procMount"),
                f"procMount {proc_mount!r} is not allowed",
                who(pod, c),
            )


check_v1_35 = exempt_when("check_v1_35", in_user_namespace, check_v1_0)


RULE = rule(
    "pss.proc-mount",
    "Containers must use the default /proc mount",
    Severity.ERROR,
    Scope.POD,
    check_v1_0,
    level=Level.BASELINE,
    versions={(1, 0): check_v1_0, (1, 35): restricted_overrides(check_v1_35)},
    doc=__doc__,
)

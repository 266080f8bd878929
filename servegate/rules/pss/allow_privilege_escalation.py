"""## What it does
Flags containers that do not set `securityContext.allowPrivilegeEscalation: false`. From policy
1.25, Windows pods (`spec.os.name: windows`) are exempt.

## Why is this bad?
Unless it is switched off, a process can gain more privileges than its parent through setuid
binaries or file capabilities (`no_new_privs` is not set). Pod Security `restricted` requires
every container to switch it off explicitly; there is no pod-level field.

## Example
```yaml
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
```

## Use instead
```yaml
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
      securityContext:
        allowPrivilegeEscalation: false
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted (Privilege
  Escalation)
- kubernetes/pod-security-admission `policy/check_allowPrivilegeEscalation.go`
  (`allowPrivilegeEscalation`, 1.8, and 1.25 with the Windows exemption)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.podspecs import PodSpecView
from servegate.rules.base import Context, Level, Scope, Violation, rule
from servegate.rules.pss._psa import exempt_when, is_windows, unchecked, who


def check_v1_8(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    for c in pod.containers:
        if c.security_context.get("allowPrivilegeEscalation") is not False:
            yield Violation(
                c.at("securityContext", "allowPrivilegeEscalation"),
                "must set securityContext.allowPrivilegeEscalation: false",
                who(pod, c),
            )


check_v1_25 = exempt_when("check_v1_25", is_windows, check_v1_8)


RULE = rule(
    "pss.allow-privilege-escalation",
    "Containers must not allow privilege escalation",
    Severity.ERROR,
    Scope.POD,
    unchecked,
    level=Level.RESTRICTED,
    versions={(1, 0): unchecked, (1, 8): check_v1_8, (1, 25): check_v1_25},
    doc=__doc__,
)

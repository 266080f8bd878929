"""## What it does
Flags containers that add a Linux capability beyond the container runtime's default set
(`AUDIT_WRITE`, `CHOWN`, `DAC_OVERRIDE`, `FOWNER`, `FSETID`, `KILL`, `MKNOD`, `NET_BIND_SERVICE`,
`SETFCAP`, `SETGID`, `SETPCAP`, `SETUID`, `SYS_CHROOT`) in `securityContext.capabilities.add`.

At the `restricted` level `pss.capabilities-restricted` replaces this rule (as upstream's
`capabilities_restricted` overrides `capabilities_baseline`), so a defect is reported once.

## Why is this bad?
Capabilities such as `SYS_ADMIN`, `NET_ADMIN` or `NET_RAW` hand a container kernel powers that
let it escape, reconfigure the node's network or spoof traffic. Pod Security `baseline` forbids
any capability outside the default set.

## Example
```yaml
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
      securityContext:
        capabilities:
          add: [SYS_ADMIN]
```

## Use instead
```yaml
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
      securityContext:
        capabilities:
          drop: [ALL]
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline (Capabilities)
- kubernetes/pod-security-admission `policy/check_capabilities_baseline.go`
  (`capabilities_baseline`, 1.0; overridden by `capabilities_restricted` from 1.22)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.podspecs import PodSpecView
from servegate.resource import as_dict, as_list
from servegate.rules.base import Context, Level, Scope, Violation, rule
from servegate.rules.pss._psa import restricted_overrides, who

ALLOWED_V1_0 = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)


def check_v1_0(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    for c in pod.containers:
        added = as_list(as_dict(c.security_context.get("capabilities")).get("add"))
        for i, cap in enumerate(added):
            if cap not in ALLOWED_V1_0:
                yield Violation(
                    c.at("securityContext", "capabilities", "add", i),
                    f"capability {cap!r} must not be added",
                    who(pod, c),
                )


RULE = rule(
    "pss.capabilities-baseline",
    "Containers must not add non-default capabilities",
    Severity.ERROR,
    Scope.POD,
    check_v1_0,
    level=Level.BASELINE,
    versions={(1, 0): check_v1_0, (1, 22): restricted_overrides(check_v1_0)},
    doc=__doc__,
)

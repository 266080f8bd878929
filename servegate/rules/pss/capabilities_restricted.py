"""## What it does
Requires every container to drop all capabilities (`securityContext.capabilities.drop`
containing `ALL`) and to add back none but `NET_BIND_SERVICE`. From policy 1.25, Windows pods
(`spec.os.name: windows`) are exempt.

## Why is this bad?
The runtime's default capability set still includes `CHOWN`, `DAC_OVERRIDE`, `SETUID`,
`NET_RAW` (on some runtimes) and more: powers a model server never uses but an attacker does.
Pod Security `restricted` requires dropping them all.

## Example
```yaml
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
      securityContext:
        capabilities:
          add: [NET_RAW]
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
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted (Capabilities)
- kubernetes/pod-security-admission `policy/check_capabilities_restricted.go`
  (`capabilities_restricted`, 1.22, and 1.25 with the Windows exemption; overrides
  `capabilities_baseline`)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.podspecs import PodSpecView
from servegate.resource import as_dict, as_list
from servegate.rules.base import Context, Level, Scope, Violation, rule
from servegate.rules.pss._psa import exempt_when, is_windows, unchecked, who


def check_v1_22(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    for c in pod.containers:
        capabilities = as_dict(c.security_context.get("capabilities"))
        if "ALL" not in as_list(capabilities.get("drop")):
            yield Violation(
                c.at("securityContext", "capabilities", "drop"),
                'must set securityContext.capabilities.drop: ["ALL"]',
                who(pod, c),
            )
        for i, cap in enumerate(as_list(capabilities.get("add"))):
            if cap != "NET_BIND_SERVICE":
                yield Violation(
                    c.at("securityContext", "capabilities", "add", i),
                    f"capability {cap!r} must not be added (only NET_BIND_SERVICE may be)",
                    who(pod, c),
                )


check_v1_25 = exempt_when("check_v1_25", is_windows, check_v1_22)


RULE = rule(
    "pss.capabilities-restricted",
    "Containers must drop all capabilities",
    Severity.ERROR,
    Scope.POD,
    unchecked,
    level=Level.RESTRICTED,
    versions={(1, 0): unchecked, (1, 22): check_v1_22, (1, 25): check_v1_25},
    doc=__doc__,
)

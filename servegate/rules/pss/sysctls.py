"""## What it does
Flags pod sysctls (`securityContext.sysctls[].name`) outside the safe, namespaced set, which
grows with the Kubernetes version: `kernel.shm_rmid_forced`, `net.ipv4.ip_local_port_range`,
`net.ipv4.tcp_syncookies`, `net.ipv4.ping_group_range`, `net.ipv4.ip_unprivileged_port_start`;
from 1.27 `net.ipv4.ip_local_reserved_ports`; from 1.29 `net.ipv4.tcp_keepalive_time`,
`net.ipv4.tcp_fin_timeout`, `net.ipv4.tcp_keepalive_intvl`, `net.ipv4.tcp_keepalive_probes`;
from 1.32 `net.ipv4.tcp_rmem`, `net.ipv4.tcp_wmem`; from 1.37
`net.ipv4.tcp_slow_start_after_idle`, `net.ipv4.tcp_notsent_lowat`.

## Why is this bad?
Other sysctls are not isolated per pod: they change the kernel for every workload on the node,
or disable security mechanisms. Pod Security `baseline` allows only the safe set.

## Example
```yaml
spec:
  predictor:
    securityContext:
      sysctls:
      - {name: kernel.msgmax, value: "65536"}
    model:
      modelFormat: {name: sklearn}
```

## Use instead
```yaml
spec:
  predictor:
    securityContext:
      sysctls:
      - {name: net.ipv4.ip_local_port_range, value: "1024 65535"}
    model:
      modelFormat: {name: sklearn}
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline (Sysctls)
- kubernetes/pod-security-admission `policy/check_sysctls.go` (`sysctls`, 1.0, 1.27, 1.29, 1.32,
  1.37)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.podspecs import PodSpecView
from servegate.resource import as_list
from servegate.rules.base import Context, Level, Scope, Violation, rule
from servegate.rules.pss._psa import pod_security_context, who

ALLOWED_V1_0 = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
    }
)
ALLOWED_V1_27 = ALLOWED_V1_0 | {"net.ipv4.ip_local_reserved_ports"}
ALLOWED_V1_29 = ALLOWED_V1_27 | {
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}
ALLOWED_V1_32 = ALLOWED_V1_29 | {"net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"}
ALLOWED_V1_37 = ALLOWED_V1_32 | {"net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat"}


def _check(pod: PodSpecView, allowed: frozenset[str]) -> Iterator[Violation]:
    for i, sysctl in enumerate(as_list(pod_security_context(pod).get("sysctls"))):
        name = sysctl.get("name") if isinstance(sysctl, dict) else None
        if name not in allowed:
            yield Violation(
                pod.at("securityContext", "sysctls", i, "name"),
                f"sysctl {name!r} is not allowed",
                who(pod),
            )


def check_v1_0(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    return _check(pod, ALLOWED_V1_0)


def check_v1_27(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    return _check(pod, ALLOWED_V1_27)


def check_v1_29(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    return _check(pod, ALLOWED_V1_29)


def check_v1_32(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    return _check(pod, ALLOWED_V1_32)


def check_v1_37(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    return _check(pod, ALLOWED_V1_37)


RULE = rule(
    "pss.sysctls",
    "Pods may set only safe sysctls",
    Severity.ERROR,
    Scope.POD,
    check_v1_0,
    level=Level.BASELINE,
    versions={
        (1, 0): check_v1_0,
        (1, 27): check_v1_27,
        (1, 29): check_v1_29,
        (1, 32): check_v1_32,
        (1, 37): check_v1_37,
    },
    doc=__doc__,
)

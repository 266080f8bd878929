"""## What it does
Flags SELinux options that change a container's SELinux confinement: `seLinuxOptions.type` other
than the container types (`container_t`, `container_init_t`, `container_kvm_t`, and from policy
1.31 `container_engine_t`), and any `seLinuxOptions.user` or `seLinuxOptions.role`, at pod or
container level.

## Why is this bad?
A custom SELinux type, user or role can lift the mandatory access control that keeps a
container away from the node's files and processes. Pod Security `baseline` forbids it.

## Example
```yaml
spec:
  predictor:
    securityContext:
      seLinuxOptions: {type: spc_t}
    model:
      modelFormat: {name: sklearn}
```

## Use instead
```yaml
spec:
  predictor:
    securityContext:
      seLinuxOptions: {level: "s0:c123,c456"}
    model:
      modelFormat: {name: sklearn}
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline (SELinux)
- kubernetes/pod-security-admission `policy/check_seLinuxOptions.go` (`seLinuxOptions`, 1.0 and
  1.31, which allows `container_engine_t`)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from servegate.model import Severity
from servegate.podspecs import PodSpecView
from servegate.resource import FieldPath
from servegate.rules.base import Context, Level, Scope, Violation, rule
from servegate.rules.pss._psa import pod_security_context, who

TYPES_V1_0 = frozenset({"", "container_t", "container_init_t", "container_kvm_t"})
TYPES_V1_31 = TYPES_V1_0 | {"container_engine_t"}


def _options(
    options: Any, path: FieldPath, detail: str, allowed_types: frozenset[str]
) -> Iterator[Violation]:
    if not isinstance(options, dict):
        return
    selinux_type = options.get("type") or ""
    if selinux_type not in allowed_types:
        yield Violation((*path, "type"), f"SELinux type {selinux_type!r} is not allowed", detail)
    for field in ("user", "role"):
        if options.get(field):
            yield Violation((*path, field), f"SELinux {field} must not be set", detail)


def _check(pod: PodSpecView, allowed_types: frozenset[str]) -> Iterator[Violation]:
    yield from _options(
        pod_security_context(pod).get("seLinuxOptions"),
        pod.at("securityContext", "seLinuxOptions"),
        who(pod),
        allowed_types,
    )
    for c in pod.containers:
        yield from _options(
            c.security_context.get("seLinuxOptions"),
            c.at("securityContext", "seLinuxOptions"),
            who(pod, c),
            allowed_types,
        )


def check_v1_0(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    return _check(pod, TYPES_V1_0)


def check_v1_31(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    return _check(pod, TYPES_V1_31)


RULE = rule(
    "pss.selinux",
    "SELinux confinement must not be changed",
    Severity.ERROR,
    Scope.POD,
    check_v1_0,
    level=Level.BASELINE,
    versions={(1, 0): check_v1_0, (1, 31): check_v1_31},
    doc=__doc__,
)

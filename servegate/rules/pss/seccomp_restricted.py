"""## What it does
Requires a seccomp profile: `securityContext.seccompProfile.type` must be `RuntimeDefault` or
`Localhost` on the pod, or on every container, and nothing else anywhere. Kinds without a
pod-level securityContext (ServingRuntime, ClusterStorageContainer) must set it on each
container. From policy 1.25, Windows pods (`spec.os.name: windows`) are exempt.

## Why is this bad?
Without a profile, many runtimes run containers `Unconfined`: every system call is open to a
compromised model server, including the ones behind known container escapes. Pod Security
`restricted` requires the runtime default or a node-local profile.

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
    securityContext:
      seccompProfile: {type: RuntimeDefault}
    model:
      modelFormat: {name: sklearn}
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted (Seccomp)
- kubernetes/pod-security-admission `policy/check_seccompProfile_restricted.go`
  (`seccompProfile_restricted`, 1.19, and 1.25 with the Windows exemption; overrides
  `seccompProfile_baseline`)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.podspecs import PodSpecView
from servegate.rules.base import Context, Level, Scope, Violation, rule
from servegate.rules.pss._psa import (
    exempt_when,
    is_windows,
    pod_level_field,
    pod_security_context,
    unchecked,
    who,
)

ALLOWED_TYPES = frozenset({"RuntimeDefault", "Localhost"})


def check_v1_19(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    pod_profile = pod_security_context(pod).get("seccompProfile")
    pod_set = False
    if isinstance(pod_profile, dict):
        pod_set = pod_profile.get("type") in ALLOWED_TYPES
        if not pod_set:
            yield Violation(
                pod.at("securityContext", "seccompProfile", "type"),
                f"seccompProfile.type {pod_profile.get('type')!r} is not allowed",
                who(pod),
            )
    for c in pod.containers:
        profile = c.security_context.get("seccompProfile")
        if isinstance(profile, dict):
            if profile.get("type") not in ALLOWED_TYPES:
                yield Violation(
                    c.at("securityContext", "seccompProfile", "type"),
                    f"seccompProfile.type {profile.get('type')!r} is not allowed",
                    who(pod, c),
                )
        elif not pod_set:
            yield Violation(
                c.at("securityContext", "seccompProfile", "type"),
                "pod or container must set securityContext.seccompProfile.type to "
                "RuntimeDefault or Localhost",
                who(pod, c),
                alternatives=pod_level_field(pod, "seccompProfile", "type"),
            )


check_v1_25 = exempt_when("check_v1_25", is_windows, check_v1_19)


RULE = rule(
    "pss.seccomp-restricted",
    "A seccomp profile must be set",
    Severity.ERROR,
    Scope.POD,
    unchecked,
    level=Level.RESTRICTED,
    versions={(1, 0): unchecked, (1, 19): check_v1_19, (1, 25): check_v1_25},
    doc=__doc__,
)

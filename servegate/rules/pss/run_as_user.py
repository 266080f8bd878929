"""## What it does
Flags pods and containers that set `securityContext.runAsUser: 0` (root). Leaving it unset is
fine (`pss.run-as-non-root` covers the image's default user). From policy 1.35, a pod in its
own user namespace (`hostUsers: false`) is exempt.

## Why is this bad?
User 0 is root; with `runAsNonRoot: true` the pod would not even start, and without it the
model server runs as root. Pod Security `restricted` forbids it.

## Example
```yaml
spec:
  predictor:
    securityContext:
      runAsUser: 0
    model:
      modelFormat: {name: sklearn}
```

## Use instead
```yaml
spec:
  predictor:
    securityContext:
      runAsUser: 1000
      runAsNonRoot: true
    model:
      modelFormat: {name: sklearn}
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted (Running as
  Non-root user)
- kubernetes/pod-security-admission `policy/check_runAsUser.go` (`runAsUser`, 1.23, and 1.35
  with the user-namespace relaxation), `policy/helpers.go`
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.podspecs import PodSpecView
from servegate.rules.base import Context, Level, Scope, Violation, rule
from servegate.rules.pss._psa import (
    exempt_when,
    in_user_namespace,
    is_zero,
    pod_security_context,
    unchecked,
    who,
)


def check_v1_23(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    if is_zero(pod_security_context(pod).get("runAsUser")):
        yield Violation(
            pod.at("securityContext", "runAsUser"), "must not set runAsUser: 0", who(pod)
        )
    for c in pod.containers:
        if is_zero(c.security_context.get("runAsUser")):
            yield Violation(
                c.at("securityContext", "runAsUser"), "must not set runAsUser: 0", who(pod, c)
            )


check_v1_35 = exempt_when("check_v1_35", in_user_namespace, check_v1_23)


RULE = rule(
    "pss.run-as-user",
    "Containers must not run as user 0",
    Severity.ERROR,
    Scope.POD,
    unchecked,
    level=Level.RESTRICTED,
    versions={(1, 0): unchecked, (1, 23): check_v1_23, (1, 35): check_v1_35},
    doc=__doc__,
)

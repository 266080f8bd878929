"""## What it does
Flags pods and containers that may run as root: `securityContext.runAsNonRoot` must be `true`
on the pod or on every container, and `false` nowhere. Kinds without a pod-level
securityContext (ServingRuntime, ClusterStorageContainer) must set it on each container. From
policy 1.35, a pod in its own user namespace (`hostUsers: false`) is exempt.

## Why is this bad?
Root in a container is root on the node once any escape works, and the kubelet only refuses a
root image when `runAsNonRoot: true` asks it to. Pod Security `restricted` requires it.

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
      runAsNonRoot: true
    model:
      modelFormat: {name: sklearn}
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted (Running as
  Non-root)
- kubernetes/pod-security-admission `policy/check_runAsNonRoot.go` (`runAsNonRoot`, 1.0, and
  1.35 with the user-namespace relaxation), `policy/helpers.go`
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.podspecs import PodSpecView
from servegate.rules.base import Context, Level, Scope, Violation, rule
from servegate.rules.pss._psa import (
    exempt_when,
    in_user_namespace,
    pod_level_field,
    pod_security_context,
    who,
)


def check_v1_0(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    pod_value = pod_security_context(pod).get("runAsNonRoot")
    if pod_value is False:
        yield Violation(
            pod.at("securityContext", "runAsNonRoot"),
            "must not set runAsNonRoot: false",
            who(pod),
        )
    for c in pod.containers:
        value = c.security_context.get("runAsNonRoot")
        if value is False:
            yield Violation(
                c.at("securityContext", "runAsNonRoot"),
                "must not set runAsNonRoot: false",
                who(pod, c),
            )
        elif value is None and pod_value is not True:
            yield Violation(
                c.at("securityContext", "runAsNonRoot"),
                "pod or container must set securityContext.runAsNonRoot: true",
                who(pod, c),
                alternatives=pod_level_field(pod, "runAsNonRoot"),
            )


check_v1_35 = exempt_when("check_v1_35", in_user_namespace, check_v1_0)


RULE = rule(
    "pss.run-as-non-root",
    "Containers must run as non-root",
    Severity.ERROR,
    Scope.POD,
    check_v1_0,
    level=Level.RESTRICTED,
    versions={(1, 0): check_v1_0, (1, 35): check_v1_35},
    doc=__doc__,
)

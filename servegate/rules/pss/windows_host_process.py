"""## What it does
Flags Windows HostProcess pods and containers: `securityContext.windowsOptions.hostProcess: true`
at pod or container level.

## Why is this bad?
A HostProcess container runs directly on the Windows node with the node's privileges: it is the
Windows equivalent of a privileged container. Pod Security `baseline` forbids it.

## Example
```yaml
spec:
  template:
    spec:
      securityContext:
        windowsOptions: {hostProcess: true}
```

## Use instead
```yaml
spec:
  template:
    spec:
      securityContext:
        windowsOptions: {runAsUserName: ContainerUser}
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline (HostProcess)
- kubernetes/pod-security-admission `policy/check_windowsHostProcess.go` (`windowsHostProcess`,
  1.0)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.podspecs import PodSpecView
from servegate.resource import as_dict
from servegate.rules.base import Context, Level, Scope, Violation, rule
from servegate.rules.pss._psa import pod_security_context, who


def check_v1_0(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    if as_dict(pod_security_context(pod).get("windowsOptions")).get("hostProcess") is True:
        yield Violation(
            pod.at("securityContext", "windowsOptions", "hostProcess"),
            "windowsOptions.hostProcess: true is not allowed",
            who(pod),
        )
    for c in pod.containers:
        if as_dict(c.security_context.get("windowsOptions")).get("hostProcess") is True:
            yield Violation(
                c.at("securityContext", "windowsOptions", "hostProcess"),
                "windowsOptions.hostProcess: true is not allowed",
                who(pod, c),
            )


RULE = rule(
    "pss.windows-host-process",
    "Pods must not run Windows HostProcess containers",
    Severity.ERROR,
    Scope.POD,
    check_v1_0,
    level=Level.BASELINE,
    versions={(1, 0): check_v1_0},
    doc=__doc__,
)

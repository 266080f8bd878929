"""## What it does
From policy 1.34, flags probes and lifecycle handlers that name a `host`:
`livenessProbe`, `readinessProbe` and `startupProbe` with `httpGet.host` or `tcpSocket.host`,
and `lifecycle.postStart` / `preStop` with `httpGet.host` or `tcpSocket.host`.

## Why is this bad?
The kubelet runs probes and hooks from the node. A `host` lets a pod point the kubelet at any
address the node can reach (the cloud metadata endpoint, node-local services), a
server-side request forgery. Probes should target the pod itself. Pod Security `baseline`
forbids it from Kubernetes 1.34.

## Example
```yaml
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
      readinessProbe:
        httpGet: {host: 169.254.169.254, path: /, port: 80}
```

## Use instead
```yaml
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
      readinessProbe:
        httpGet: {path: /v2/health/ready, port: 8080}
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline (Probes and
  Lifecycle Hooks)
- kubernetes/pod-security-admission `policy/check_hostProbesAndhostLifecycle.go`
  (`hostProbesAndHostLifecycle`, 1.34)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from servegate.model import Severity
from servegate.podspecs import PodSpecView
from servegate.resource import as_dict
from servegate.rules.base import Context, Level, Scope, Violation, rule
from servegate.rules.pss._psa import unchecked, who

_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
_HOOKS = ("postStart", "preStop")
_HANDLERS = ("httpGet", "tcpSocket")


def check_v1_34(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    for c in pod.containers:
        lifecycle = as_dict(c.body.get("lifecycle"))
        places: list[tuple[tuple[str, ...], dict[str, Any]]] = [
            ((probe,), as_dict(c.body.get(probe))) for probe in _PROBES
        ]
        places += [(("lifecycle", hook), as_dict(lifecycle.get(hook))) for hook in _HOOKS]
        for where, handler_owner in places:
            for handler in _HANDLERS:
                host = as_dict(handler_owner.get(handler)).get("host")
                if host:
                    yield Violation(
                        c.at(*where, handler, "host"),
                        f"{'.'.join(where)}.{handler}.host {host!r} is not allowed",
                        who(pod, c),
                    )


RULE = rule(
    "pss.host-probes-lifecycle",
    "Probes and lifecycle hooks must not name a host",
    Severity.ERROR,
    Scope.POD,
    unchecked,
    level=Level.BASELINE,
    versions={(1, 0): unchecked, (1, 34): check_v1_34},
    doc=__doc__,
)

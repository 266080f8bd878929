"""## What it does
Flags container ports that bind a port on the node (`ports[].hostPort` other than 0).

## Why is this bad?
A host port bypasses Services and network policy, ties the pod to one node and lets it
intercept traffic meant for the node. Expose a model through its Service (or Knative/Istio
routing) instead. Pod Security `baseline` forbids host ports.

## Example
```yaml
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
      ports:
      - containerPort: 8080
        hostPort: 8080
```

## Use instead
```yaml
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
      ports:
      - containerPort: 8080
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline (Host Ports)
- kubernetes/pod-security-admission `policy/check_hostPorts.go` (`hostPorts`, 1.0)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.podspecs import PodSpecView
from servegate.resource import as_list
from servegate.rules.base import Context, Level, Scope, Violation, rule
from servegate.rules.pss._psa import who


def check_v1_0(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    for c in pod.containers:
        for i, port in enumerate(as_list(c.body.get("ports"))):
            host_port = port.get("hostPort") if isinstance(port, dict) else None
            if host_port not in (None, 0):
                yield Violation(
                    c.at("ports", i, "hostPort"),
                    f"hostPort {host_port} is not allowed",
                    who(pod, c),
                )


RULE = rule(
    "pss.host-ports",
    "Containers must not use host ports",
    Severity.ERROR,
    Scope.POD,
    check_v1_0,
    level=Level.BASELINE,
    versions={(1, 0): check_v1_0},
    doc=__doc__,
)

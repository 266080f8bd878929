"""## What it does
Flags pods that share the node's network, process or IPC namespace (`hostNetwork`, `hostPID`,
`hostIPC` set to `true`), in every pod-bearing kind, InferenceService components included.

## Why is this bad?
A pod in the host's namespaces sees every process, socket and shared-memory segment on the node:
it can sniff other pods' traffic, signal their processes and bypass network policy. Pod Security
`baseline` forbids it.

## Example
```yaml
spec:
  predictor:
    hostNetwork: true
    model:
      modelFormat: {name: sklearn}
```

## Use instead
```yaml
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline (Host Namespaces)
- kubernetes/pod-security-admission `policy/check_hostNamespaces.go` (`hostNamespaces`, 1.0)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.podspecs import PodSpecView
from servegate.rules.base import Context, Level, Scope, Violation, rule
from servegate.rules.pss._psa import who

_HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")


def check_v1_0(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    for field in _HOST_NAMESPACES:
        if pod.spec.get(field) is True:
            yield Violation(pod.at(field), f"{field}: true is not allowed", who(pod))


RULE = rule(
    "pss.host-namespaces",
    "Pods must not share the host's namespaces",
    Severity.ERROR,
    Scope.POD,
    check_v1_0,
    level=Level.BASELINE,
    versions={(1, 0): check_v1_0},
    doc=__doc__,
)

"""## What it does
Flags containers, init containers and ephemeral containers that run privileged
(`securityContext.privileged: true`), in every pod-bearing kind: Pods, workloads, Rollouts,
Argo Workflows, and KServe InferenceService components, ServingRuntimes and the
ClusterStorageContainer.

## Why is this bad?
A privileged container has every capability and the host's devices: escaping it is trivial, and
whoever controls the model server controls the node. Pod Security `baseline` forbids it.

## Example
```yaml
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
      securityContext:
        privileged: true
```

## Use instead
```yaml
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
      securityContext:
        privileged: false
        allowPrivilegeEscalation: false
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
  (Privileged Containers)
- kubernetes/pod-security-admission `policy/check_privileged.go` (`privileged`, 1.0)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.podspecs import PodSpecView
from servegate.rules.base import Context, Level, Scope, Violation, rule
from servegate.rules.pss._psa import who


def check_v1_0(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    for c in pod.containers:
        if c.security_context.get("privileged") is True:
            yield Violation(
                c.at("securityContext", "privileged"),
                "privileged: true is not allowed",
                who(pod, c),
            )


RULE = rule(
    "pss.privileged",
    "Containers must not be privileged",
    Severity.ERROR,
    Scope.POD,
    check_v1_0,
    level=Level.BASELINE,
    versions={(1, 0): check_v1_0},
    doc=__doc__,
)

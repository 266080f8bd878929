"""## What it does
Flags Role and ClusterRole rules on `pods/exec` or `pods/attach`, named as such or through a
`*/exec` or `*/attach` entry (which Kubernetes matches against the subresource of every
resource).

## Why is this bad?
Exec into a pod is a shell with that pod's service account, mounted secrets and network
position: the model's storage credentials included. Automation rarely needs it; people who
debug should get it temporarily, not from Git.

## Example
```yaml
kind: Role
rules:
- apiGroups: [""]
  resources: [pods/exec]
  verbs: [create]
```

## Use instead
Drop the rule; use `kubectl debug` with a short-lived, audited grant when needed.

## References
- https://kubernetes.io/docs/concepts/security/rbac-good-practices/#pod-exec-attach
- kubernetes/kubernetes `pkg/apis/rbac/v1/evaluation_helpers.go` (`ResourceMatches`:
  `*/subresource`)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.rbac._rules import ROLE_KINDS, policy_rules, who

_EXEC = frozenset({"pods/exec", "pods/attach"})


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    for pr in policy_rules(r):
        found = {r for r in _EXEC if pr.names_resource(r)}
        if found and pr.core() and pr.verbs:
            yield Violation(
                pr.field("resources"),
                f"grants {', '.join(sorted(found))}: a shell in the model's pods",
                who(r),
            )


RULE = rule(
    "rbac.pod-exec",
    "RBAC does not grant pods/exec",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds=ROLE_KINDS,
    doc=__doc__,
)

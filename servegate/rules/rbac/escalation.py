"""## What it does
Flags Role and ClusterRole rules that grant the `escalate`, `bind` or `impersonate` verbs.

## Why is this bad?
`escalate` lets a subject edit roles beyond its own rights, `bind` lets it bind any role to
itself, `impersonate` lets it act as any user, group or service account. Each is a path to
cluster-admin.

## Example
```yaml
kind: ClusterRole
rules:
- apiGroups: [rbac.authorization.k8s.io]
  resources: [clusterroles]
  verbs: [bind, escalate]
```

## Use instead
Grant the specific rights the workload needs, never the power to grant rights.

## References
- https://kubernetes.io/docs/concepts/security/rbac-good-practices/#escalate-verb
- https://kubernetes.io/docs/reference/access-authn-authz/rbac/#privilege-escalation-prevention-and-bootstrapping
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.rbac._rules import ROLE_KINDS, policy_rules, who

_DANGEROUS = frozenset({"escalate", "bind", "impersonate"})


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    for pr in policy_rules(r):
        found = pr.verbs & _DANGEROUS
        if found:
            yield Violation(
                pr.field("verbs"),
                f"grants {', '.join(sorted(found))}: a path to cluster-admin",
                who(r),
            )


RULE = rule(
    "rbac.escalation",
    "RBAC does not grant escalate, bind or impersonate",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds=ROLE_KINDS,
    doc=__doc__,
)

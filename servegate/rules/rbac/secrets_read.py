"""## What it does
Flags Role and ClusterRole rules that can read Secrets: `list` or `watch` on `secrets`, or
`get` without `resourceNames`.

## Why is this bad?
`list secrets` returns every secret's contents in the namespace (or cluster): storage
credentials, service-account tokens, TLS keys. A compromised model server with that right
owns everything its namespace can reach. `get` limited by `resourceNames` is not reported.

## Example
```yaml
kind: Role
rules:
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list]
```

## Use instead
```yaml
kind: Role
rules:
- apiGroups: [""]
  resources: [secrets]
  resourceNames: [model-storage]
  verbs: [get]
```

## References
- https://kubernetes.io/docs/concepts/security/rbac-good-practices/#listing-secrets
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.rbac._rules import ROLE_KINDS, policy_rules, who


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    for pr in policy_rules(r):
        if not pr.names_resource("secrets") or not pr.core():
            continue
        broad = pr.verbs & {"list", "watch", "*"}
        if not pr.resource_names and "get" in pr.verbs:
            broad |= {"get"}
        if broad:
            yield Violation(
                pr.field("verbs"), f"can read secrets ({', '.join(sorted(broad))})", who(r)
            )


RULE = rule(
    "rbac.secrets-read",
    "RBAC does not grant reading secrets",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds=ROLE_KINDS,
    doc=__doc__,
)

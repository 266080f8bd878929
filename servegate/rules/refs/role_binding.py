"""## What it does
Flags a RoleBinding or ClusterRoleBinding whose `roleRef` names a Role or ClusterRole the
overlay does not define, or whose ServiceAccount subject the overlay does not define. Like the
other refs rules it only speaks about a kind (Role, ClusterRole, ServiceAccount) when the
overlay defines some of that kind where the reference points; Kubernetes' built-in
ClusterRoles (`view`, `edit`, `admin`, `cluster-admin`, `system:*`) always exist.

## Why is this bad?
A binding to a missing role grants nothing, so the workload fails at runtime with 403s; a
binding to a missing account grants rights to whoever later creates an account with that
name. Both usually come from a rename done in one file only.

## Example
```yaml
kind: Role
metadata: {name: model-reader, namespace: ml-prod}
---
kind: RoleBinding
metadata: {name: model, namespace: ml-prod}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: model-readers}
subjects:
- {kind: ServiceAccount, name: kserve-model-sa}
```

## Use instead
```yaml
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: model-reader}
```

## References
- https://kubernetes.io/docs/reference/access-authn-authz/rbac/#rolebinding-and-clusterrolebinding
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.refs._index import NameIndex

_BUILTIN = frozenset({"cluster-admin", "admin", "edit", "view"})


def check(resources: Sequence[Resource], ctx: Context) -> Iterator[Violation]:
    roles = NameIndex(resources, {"Role"})
    cluster_roles = NameIndex(resources, {"ClusterRole"})
    accounts = NameIndex(resources, {"ServiceAccount"})
    for b in resources:
        if b.kind not in ("RoleBinding", "ClusterRoleBinding"):
            continue
        who = f"{b.kind} {b.name!r}"
        ref = b.body.get("roleRef")
        ref = ref if isinstance(ref, dict) else {}
        kind, name = str(ref.get("kind") or ""), str(ref.get("name") or "")
        if kind == "Role" and roles.known(b.namespace) and not roles.has(b.namespace, name):
            yield Violation(("roleRef", "name"), f"Role {name!r} is not defined", who, b)
        elif (
            kind == "ClusterRole"
            and name not in _BUILTIN
            and not name.startswith("system:")
            and cluster_roles.names
            and not cluster_roles.has(None, name)
        ):
            yield Violation(("roleRef", "name"), f"ClusterRole {name!r} is not defined", who, b)
        subjects = b.body.get("subjects")
        for i, s in enumerate(subjects if isinstance(subjects, list) else []):
            if not isinstance(s, dict) or s.get("kind") != "ServiceAccount":
                continue
            ns = s.get("namespace") or b.namespace
            sa = str(s.get("name") or "")
            if accounts.known(ns) and not accounts.has(ns, sa):
                yield Violation(
                    ("subjects", i, "name"), f"service account {sa!r} is not defined", who, b
                )


RULE = rule(
    "refs.role-binding",
    "Bindings name roles and accounts that exist",
    Severity.ERROR,
    Scope.UNIT,
    check,
    doc=__doc__,
)

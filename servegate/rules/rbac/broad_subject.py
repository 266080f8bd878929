"""## What it does
Flags a RoleBinding or ClusterRoleBinding that grants a powerful role to a broad subject:

- the role: the built-in ClusterRoles `cluster-admin`, `admin` and `edit` (and the
  `system:aggregate-to-admin` and `system:aggregate-to-edit` parts they are made of), or a
  Role or ClusterRole in the checked set that grants what makes those powerful: a wildcard
  (`*`) verb or resource, the `escalate`, `bind` or `impersonate` verbs, `pods/exec` or
  `pods/attach` (also as `*/exec`), or reading Secrets (`list`, `watch`, or `get` without
  `resourceNames`); or a ClusterRole whose `aggregationRule` gathers the built-in roles
  (`rbac.aggregation-rule`) or a powerful ClusterRole of the checked set, which the
  controller manager fills with their rules;
- the subject: the groups `system:authenticated` (every user and service account),
  `system:unauthenticated` (anonymous requests), `system:serviceaccounts` (every service
  account in the cluster) and `system:serviceaccounts:<namespace>` (every service account of a
  namespace, present and future), the user `system:anonymous`, or a namespace's `default`
  service account (as a ServiceAccount, or the user `system:serviceaccount:<ns>:default`),
  which every pod of the namespace that names no service account runs as.

Any role bound to `system:unauthenticated` or `system:anonymous` is flagged.

## Why is this bad?
Every pod mounts a service account token unless told not to: a binding to a service-account
group hands the role to any code running in those namespaces, a compromised model server
included. Bound to `system:authenticated`, `edit` lets every account in the cluster read
Secrets and exec into pods in that namespace.

## Example
```yaml
kind: RoleBinding
metadata: {name: team-edit, namespace: ml-prod}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects:
- {kind: Group, name: "system:serviceaccounts:ml-prod", apiGroup: rbac.authorization.k8s.io}
```

## Use instead
```yaml
kind: RoleBinding
metadata: {name: pipeline-deployer, namespace: ml-prod}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: model-deployer}
subjects:
- {kind: ServiceAccount, name: pipeline, namespace: ml-prod}
```

## References
- https://kubernetes.io/docs/reference/access-authn-authz/rbac/#user-facing-roles
- https://kubernetes.io/docs/reference/access-authn-authz/rbac/#service-account-permissions
  (binding to `system:serviceaccounts` "is not recommended")
- https://kubernetes.io/docs/concepts/security/rbac-good-practices/#least-privilege
- https://kubernetes.io/docs/reference/access-authn-authz/rbac/#aggregated-clusterroles
- https://kubernetes.io/docs/reference/access-authn-authz/rbac/#service-account-permissions
  (permissions of the `default` service account "are available to any pod in the namespace
  that does not specify a serviceAccountName")
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from servegate.model import Severity
from servegate.resource import Resource, as_dict, as_list
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.rbac._rules import BINDING_KINDS, PolicyRule, policy_rules
from servegate.rules.rbac.aggregation_rule import gathers_builtin, selector_matches

BUILTIN_POWERFUL = frozenset(
    {"cluster-admin", "admin", "edit", "system:aggregate-to-admin", "system:aggregate-to-edit"}
)
_ESCALATION = frozenset({"escalate", "bind", "impersonate"})
_ANONYMOUS = frozenset({"system:unauthenticated", "system:anonymous"})
_READ = frozenset({"list", "watch"})


def broad_subject(subject: dict[str, object]) -> str | None:
    """How many the subject stands for, or None for a single user, group or account."""
    kind, name = str(subject.get("kind") or ""), str(subject.get("name") or "")
    if kind == "Group" and name == "system:authenticated":
        return "every authenticated user and service account"
    if kind == "Group" and name == "system:unauthenticated":
        return "anonymous requests"
    if kind == "User" and name == "system:anonymous":
        return "anonymous requests"
    if kind == "Group" and name == "system:serviceaccounts":
        return "every service account in the cluster"
    if kind == "Group" and name.startswith("system:serviceaccounts:"):
        return f"every service account in namespace {name.rpartition(':')[2]!r}"
    if kind == "ServiceAccount" and name == "default":
        return "every pod of its namespace that names no service account"
    if kind == "User" and name.startswith("system:serviceaccount:") and name.endswith(":default"):
        return "every pod of its namespace that names no service account"
    return None


def _powerful(pr: PolicyRule) -> bool:
    """Whether one policy rule grants what makes ``admin`` and ``edit`` powerful."""
    if "*" in pr.verbs or "*" in pr.resources or pr.verbs & _ESCALATION:
        return True
    if pr.core() and pr.verbs and any(pr.names_resource(r) for r in ("pods/exec", "pods/attach")):
        return True
    return (
        pr.core()
        and pr.names_resource("secrets")
        and bool(pr.verbs & _READ or ("get" in pr.verbs and not pr.resource_names))
    )


def _powerful_roles(resources: Sequence[Resource]) -> set[tuple[str, str | None, str]]:
    """(kind, namespace, name) of the roles in the set that grant wildcards, escalation, a
    shell in pods or Secrets, or gather the built-in roles by aggregation."""
    found: set[tuple[str, str | None, str]] = set()
    strong_labels: list[dict[str, str]] = []
    aggregated: list[Resource] = []
    for r in resources:
        if r.kind not in ("Role", "ClusterRole"):
            continue
        if r.kind == "ClusterRole" and gathers_builtin(r):
            found.add((r.kind, None, r.name))
        elif any(_powerful(pr) for pr in policy_rules(r)):
            found.add((r.kind, r.namespace if r.kind == "Role" else None, r.name))
            if r.kind == "ClusterRole":
                strong_labels.append({str(k): str(v) for k, v in r.labels.items()})
        if r.kind == "ClusterRole" and "aggregationRule" in r.body:
            aggregated.append(r)
    for r in aggregated:  # filled by the controller manager with what its selectors match
        selectors = as_list(as_dict(r.body.get("aggregationRule")).get("clusterRoleSelectors"))
        if any(selector_matches(as_dict(s), labels) for s in selectors for labels in strong_labels):
            found.add((r.kind, None, r.name))
    return found


def check(resources: Sequence[Resource], ctx: Context) -> Iterator[Violation]:
    powerful = _powerful_roles(resources)
    for b in resources:
        if b.kind not in BINDING_KINDS:
            continue
        ref = as_dict(b.body.get("roleRef"))
        role_kind, role = str(ref.get("kind") or ""), str(ref.get("name") or "")
        key = (role_kind, b.namespace if role_kind == "Role" else None, role)
        strong = (role_kind == "ClusterRole" and role in BUILTIN_POWERFUL) or key in powerful
        for i, subject in enumerate(as_list(b.body.get("subjects"))):
            subject = as_dict(subject)
            who = broad_subject(subject)
            if who is None or not (strong or str(subject.get("name")) in _ANONYMOUS):
                continue
            yield Violation(
                ("subjects", i),
                f"grants {role_kind} {role!r} to {subject.get('kind')} "
                f"{subject.get('name')!r} ({who}): bind a dedicated ServiceAccount or group",
                f"{b.kind} {b.name!r}",
                b,
            )


RULE = rule(
    "rbac.broad-subject",
    "Powerful roles are not bound to broad groups",
    Severity.ERROR,
    Scope.UNIT,
    check,
    doc=__doc__,
)

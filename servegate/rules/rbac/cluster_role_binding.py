"""## What it does
Flags a RoleBinding or ClusterRoleBinding that grants `cluster-admin` to anyone, or that binds
any ClusterRole (or any role through a ClusterRoleBinding) to a model's service account: one
an InferenceService in the same overlay runs as.

## Why is this bad?
ClusterRoles are written for many users and tend to grow; binding one to a model server gives
code loaded from a bucket rights nobody reviewed for it. `cluster-admin` anywhere is the keys
to the cluster. A model's account needs, at most, a namespaced Role written for it.

## Example
```yaml
kind: RoleBinding
metadata: {name: model, namespace: ml-prod}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects:
- {kind: ServiceAccount, name: kserve-model-sa, namespace: ml-prod}
```

## Use instead
```yaml
kind: RoleBinding
metadata: {name: model, namespace: ml-prod}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: model-reader}
subjects:
- {kind: ServiceAccount, name: kserve-model-sa, namespace: ml-prod}
```

## References
- https://kubernetes.io/docs/concepts/security/rbac-good-practices/#least-privilege
- https://kubernetes.io/docs/reference/access-authn-authz/rbac/#user-facing-roles
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from servegate.model import Severity
from servegate.podspecs import pod_specs
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.rbac._rules import BINDING_KINDS


def model_accounts(resources: Sequence[Resource]) -> set[tuple[str, str]]:
    """(namespace, name) of every service account an InferenceService runs as."""
    found: set[tuple[str, str]] = set()
    for r in resources:
        if r.kind != "InferenceService":
            continue
        for pod in pod_specs(r):
            name = pod.spec.get("serviceAccountName") or "default"
            found.add((r.namespace or "", str(name)))
    return found


def check(resources: Sequence[Resource], ctx: Context) -> Iterator[Violation]:
    models = model_accounts(resources)
    for b in resources:
        if b.kind not in BINDING_KINDS:
            continue
        ref = b.body.get("roleRef")
        ref = ref if isinstance(ref, dict) else {}
        role_kind, role = str(ref.get("kind") or ""), str(ref.get("name") or "")
        who = f"{b.kind} {b.name!r}"
        if role_kind == "ClusterRole" and role == "cluster-admin":
            yield Violation(("roleRef", "name"), "grants cluster-admin", who, b)
            continue
        if role_kind != "ClusterRole" and b.kind != "ClusterRoleBinding":
            continue
        subjects = b.body.get("subjects")
        for i, s in enumerate(subjects if isinstance(subjects, list) else []):
            if not isinstance(s, dict) or s.get("kind") != "ServiceAccount":
                continue
            key = (str(s.get("namespace") or b.namespace or ""), str(s.get("name") or ""))
            if key in models:
                yield Violation(
                    ("subjects", i),
                    f"binds {role_kind} {role!r} to model service account "
                    f"{key[1]!r}: use a namespaced Role",
                    who,
                    b,
                )


RULE = rule(
    "rbac.cluster-role-binding",
    "No cluster-admin, no ClusterRoles for model accounts",
    Severity.ERROR,
    Scope.UNIT,
    check,
    doc=__doc__,
)

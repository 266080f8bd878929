"""## What it does
Warns when an Argo CD AppProject admits every namespaced kind: it has no
`namespaceResourceWhitelist` (Argo CD then allows all namespaced kinds, and a
`namespaceResourceBlacklist` only subtracts from everything), or a whitelist entry whose
`group` and `kind` patterns (Go's `filepath.Match`, as Argo CD matches them) admit any kind.

## Why is this bad?
Namespaced kinds include RoleBindings (bind the built-in `admin` ClusterRole in the namespace),
Secrets, ServiceAccounts, and the CRDs of every operator in the cluster. A deny-list has to
foresee each of them; an allow-list of what the model needs (InferenceService, ServiceAccount,
Role, RoleBinding, the mesh policies) does not.

## Example
```yaml
kind: AppProject
spec:
  namespaceResourceBlacklist:
  - group: ''
    kind: ResourceQuota
```

## Use instead
```yaml
kind: AppProject
spec:
  namespaceResourceWhitelist:
  - group: serving.kserve.io
    kind: InferenceService
  - group: ''
    kind: ServiceAccount
```

## References
- argoproj/argo-cd `pkg/apis/application/v1alpha1/app_project_types.go`
  (`IsGroupKindNamePermitted`: a nil whitelist admits every namespaced kind) and `types.go`
  (`isResourceInList`)
- https://argo-cd.readthedocs.io/en/stable/operator-manual/project-specification/
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.argocd._argo import items, mapping, who
from servegate.rules.argocd._project import kind_breadth
from servegate.rules.base import Context, Scope, Violation, rule


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    whitelist = r.spec.get("namespaceResourceWhitelist")
    if whitelist is None:
        yield Violation(
            ("spec",),
            "no namespaceResourceWhitelist: every namespaced kind is allowed (RoleBindings, "
            "Secrets...); list the kinds the project deploys",
            who(r),
        )
        return
    for i, entry in enumerate(items(whitelist)):
        entry = mapping(entry)
        group, kind = entry.get("group"), entry.get("kind")
        if not isinstance(group, str) or not isinstance(kind, str):
            continue
        why = kind_breadth(group, kind, ())
        if why is not None:
            yield Violation(
                ("spec", "namespaceResourceWhitelist", i),
                f"namespaceResourceWhitelist {why}: list the kinds the project deploys",
                who(r),
            )


RULE = rule(
    "argocd.project-namespace-resources",
    "AppProjects list the namespaced kinds they allow",
    Severity.WARNING,
    Scope.OBJECT,
    check,
    kinds={"AppProject"},
    doc=__doc__,
)

"""## What it does
Flags an Argo CD AppProject `clusterResourceWhitelist` entry that admits every cluster-scoped
kind, or one through which an application can grant itself cluster-admin: ClusterRole,
ClusterRoleBinding, CustomResourceDefinition, admission webhooks and policies, APIService,
CertificateSigningRequest. Patterns are matched as Argo CD matches them (Go's
`filepath.Match`, so `*`, `Cluster*`, `*Binding` and `[A-Z]*` all count); an entry's `name`
does not make these kinds safe. A `clusterResourceBlacklist` next to a wildcard whitelist is
still a deny-list.

## Why is this bad?
With ClusterRoleBindings an application binds itself `cluster-admin`; with webhooks it
intercepts every object in the cluster; with CRDs it changes what other controllers trust. A
model project needs none of them, a Namespace at most.

## Example
```yaml
kind: AppProject
spec:
  clusterResourceWhitelist:
  - group: '*'
    kind: '*'
  clusterResourceBlacklist:
  - group: rbac.authorization.k8s.io
    kind: ClusterRoleBinding
```

## Use instead
```yaml
kind: AppProject
spec:
  clusterResourceWhitelist:
  - group: ''
    kind: Namespace
    name: ml-fraud-*
```

## References
- argoproj/argo-cd `pkg/apis/application/v1alpha1/app_project_types.go`
  (`IsGroupKindNamePermitted`) and `types.go` (`isNamedResourceInList`: `filepath.Match`)
- https://argo-cd.readthedocs.io/en/stable/operator-manual/project-specification/
- https://kubernetes.io/docs/concepts/security/rbac-good-practices/#privilege-escalation-risks
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.argocd._argo import items, mapping, who
from servegate.rules.argocd._project import PRIVILEGED_CLUSTER_KINDS, kind_breadth
from servegate.rules.base import Context, Scope, Violation, rule


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    for i, entry in enumerate(items(r.spec.get("clusterResourceWhitelist"))):
        entry = mapping(entry)
        group, kind = entry.get("group"), entry.get("kind")
        if not isinstance(group, str) or not isinstance(kind, str):
            continue
        why = kind_breadth(group, kind, PRIVILEGED_CLUSTER_KINDS)
        if why is not None:
            yield Violation(
                ("spec", "clusterResourceWhitelist", i),
                f"clusterResourceWhitelist {why}: list the cluster-scoped kinds the project needs",
                who(r),
            )


RULE = rule(
    "argocd.project-cluster-resources",
    "AppProjects limit cluster-scoped kinds",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={"AppProject"},
    doc=__doc__,
)

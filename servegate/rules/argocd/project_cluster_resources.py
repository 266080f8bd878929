"""## What it does
Flags an Argo CD AppProject whose `clusterResourceWhitelist` allows every cluster-scoped kind
(`group: '*'` with `kind: '*'`).

## Why is this bad?
Cluster-scoped kinds include ClusterRoles, ClusterRoleBindings, CRDs, admission webhooks and
Namespaces: an application allowed all of them can grant itself cluster-admin. A model
project needs none, or a Namespace at most.

## Example
```yaml
kind: AppProject
spec:
  clusterResourceWhitelist:
  - group: '*'
    kind: '*'
```

## Use instead
```yaml
kind: AppProject
spec:
  clusterResourceWhitelist:
  - group: ''
    kind: Namespace
```

## References
- https://argo-cd.readthedocs.io/en/stable/user-guide/projects/#project-roles
- https://argo-cd.readthedocs.io/en/stable/operator-manual/project-specification/
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.argocd._argo import items, mapping, who
from servegate.rules.base import Context, Scope, Violation, rule


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    for i, entry in enumerate(items(r.spec.get("clusterResourceWhitelist"))):
        entry = mapping(entry)
        if str(entry.get("group")) == "*" and str(entry.get("kind")) == "*":
            yield Violation(
                ("spec", "clusterResourceWhitelist", i),
                "allows every cluster-scoped kind ('*/*')",
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

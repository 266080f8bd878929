"""## What it does
Flags an Argo CD AppProject destination whose `server`, `name` or `namespace` is `*`.

## Why is this bad?
A wildcard destination lets any application of the project deploy into any cluster or any
namespace, `kube-system` and the Argo CD namespace itself included.

## Example
```yaml
kind: AppProject
spec:
  destinations:
  - server: '*'
    namespace: '*'
```

## Use instead
```yaml
kind: AppProject
spec:
  destinations:
  - server: https://kubernetes.default.svc
    namespace: ml-prod
```

## References
- https://argo-cd.readthedocs.io/en/stable/user-guide/projects/#managing-projects
- https://argo-cd.readthedocs.io/en/stable/operator-manual/project-specification/
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.argocd._argo import items, mapping, who
from servegate.rules.base import Context, Scope, Violation, rule


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    for i, dest in enumerate(items(r.spec.get("destinations"))):
        dest = mapping(dest)
        for key in ("server", "name", "namespace"):
            if str(dest.get(key, "")).strip() == "*":
                yield Violation(
                    ("spec", "destinations", i, key),
                    f"destination {key} '*' allows any {key}",
                    who(r),
                )


RULE = rule(
    "argocd.project-destinations",
    "AppProjects name their destinations",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={"AppProject"},
    doc=__doc__,
)

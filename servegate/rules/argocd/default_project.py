"""## What it does
Flags an Argo CD Application (or an ApplicationSet's template) in the `default` project, or
with no project.

## Why is this bad?
The `default` project allows any source repository, any destination and every cluster-scoped
kind until an administrator restricts it. An application there bypasses every boundary a real
project would give it.

## Example
```yaml
kind: Application
spec:
  project: default
```

## Use instead
```yaml
kind: Application
spec:
  project: ml-models
```

## References
- https://argo-cd.readthedocs.io/en/stable/user-guide/projects/#the-default-project
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import FieldPath, Resource
from servegate.rules.argocd._argo import mapping, who
from servegate.rules.base import Context, Scope, Violation, rule


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    if r.kind == "ApplicationSet":
        spec = mapping(mapping(r.spec.get("template")).get("spec"))
        path: FieldPath = ("spec", "template", "spec", "project")
    else:
        spec, path = r.spec, ("spec", "project")
    project = spec.get("project")
    if project is None or str(project).strip() in ("", "default"):
        yield Violation(
            path, "application in the 'default' project: use a restricted project", who(r)
        )


RULE = rule(
    "argocd.default-project",
    "Applications do not use the default project",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={"Application", "ApplicationSet"},
    doc=__doc__,
)

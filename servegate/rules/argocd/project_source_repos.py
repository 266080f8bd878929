"""## What it does
Flags an Argo CD AppProject whose `sourceRepos` contains `*`.

## Why is this bad?
The project is the security boundary of Argo CD: with `sourceRepos: ['*']` any repository, a
fork or a look-alike included, can be deployed with the project's destinations and rights.

## Example
```yaml
kind: AppProject
spec:
  sourceRepos: ['*']
```

## Use instead
```yaml
kind: AppProject
spec:
  sourceRepos: ['https://github.com/acme/fraud-model.git']
```

## References
- https://argo-cd.readthedocs.io/en/stable/user-guide/projects/
- https://argo-cd.readthedocs.io/en/stable/operator-manual/project-specification/
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.argocd._argo import items, who
from servegate.rules.base import Context, Scope, Violation, rule


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    for i, repo in enumerate(items(r.spec.get("sourceRepos"))):
        if str(repo).strip() == "*":
            yield Violation(
                ("spec", "sourceRepos", i), "sourceRepos '*' allows any repository", who(r)
            )


RULE = rule(
    "argocd.project-source-repos",
    "AppProjects name their source repositories",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={"AppProject"},
    doc=__doc__,
)

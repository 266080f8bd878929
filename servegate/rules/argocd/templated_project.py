"""## What it does
Flags an ApplicationSet whose template's `project` is templated (contains `{{`), so that a
generator (a Git file, a pull request, a cluster label) chooses the project.

## Why is this bad?
Whoever controls the generator's input then chooses the security boundary: a pull request or
a file in a repository can place applications into a more privileged project. Argo CD's
documentation calls this out for ApplicationSets.

## Example
```yaml
kind: ApplicationSet
spec:
  template:
    spec:
      project: '{{.project}}'
```

## Use instead
```yaml
kind: ApplicationSet
spec:
  template:
    spec:
      project: ml-models
```

## References
- https://argo-cd.readthedocs.io/en/stable/operator-manual/applicationset/Security/#templated-project-field
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.argocd._argo import mapping, who
from servegate.rules.base import Context, Scope, Violation, rule


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    project = mapping(mapping(r.spec.get("template")).get("spec")).get("project")
    if isinstance(project, str) and ("{{" in project or "${" in project):
        yield Violation(
            ("spec", "template", "spec", "project"),
            f"project {project!r} is templated: generator input picks the project",
            who(r),
        )


RULE = rule(
    "argocd.templated-project",
    "ApplicationSets fix their project",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={"ApplicationSet"},
    doc=__doc__,
)

"""## What it does
Flags an Application (or ApplicationSet template) with `syncPolicy.automated.prune: true` in an
environment whose profile forbids automatic pruning (`argocd.prune: false`; an unknown
environment counts as forbidding it).

## Why is this bad?
With automated prune, deleting or moving a file in Git deletes the live object: a bad merge
or a kustomize mistake removes a serving model, its Namespace, or its PVC of cached weights,
without a human in the loop.

## Example
```yaml
kind: Application
spec:
  syncPolicy:
    automated: {prune: true, selfHeal: true}
```

## Use instead
```yaml
kind: Application
spec:
  syncPolicy:
    automated: {prune: false, selfHeal: true}
```

## References
- https://argo-cd.readthedocs.io/en/stable/user-guide/auto_sync/#automatic-pruning
- environments/<env>.yaml `argocd.prune`
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import FieldPath, Resource
from servegate.rules.argocd._argo import mapping, who
from servegate.rules.base import Context, Scope, Violation, rule


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    if mapping(ctx.environment.get("argocd")).get("prune") is True:
        return
    spec = r.spec
    base: FieldPath = ("spec",)
    if r.kind == "ApplicationSet":
        spec = mapping(mapping(r.spec.get("template")).get("spec"))
        base = ("spec", "template", "spec")
    automated = mapping(mapping(spec.get("syncPolicy")).get("automated"))
    if automated.get("prune") is True:
        path: FieldPath = (*base, "syncPolicy", "automated", "prune")
        yield Violation(path, "automated prune is not allowed in this environment", who(r))


RULE = rule(
    "argocd.automated-prune",
    "No automated prune where the environment forbids it",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={"Application", "ApplicationSet"},
    doc=__doc__,
)

"""## What it does
Flags an Argo CD AppProject `sourceNamespaces` entry that admits Applications from any
namespace: a glob that matches any name (`*`, `?*`, `**`...) or a `/regular expression/` that
does (`/.*/`, or any unanchored expression such as `/ml/`, which Argo CD searches for anywhere
in the name). Matched as Argo CD matches them (`IsAppNamespacePermitted`, `MatchStringInList`
with globs and `/.../` regular expressions).

## Why is this bad?
With "applications in any namespace", whoever can create an Application in an admitted
namespace can use the project, its source repositories, destinations and cluster-scoped rights.
A wildcard hands that to every tenant namespace, present and future.

## Example
```yaml
kind: AppProject
spec:
  sourceNamespaces: ['*']
```

## Use instead
```yaml
kind: AppProject
spec:
  sourceNamespaces: [ml-fraud-apps]
```

## References
- argoproj/argo-cd `pkg/apis/application/v1alpha1/app_project_types.go`
  (`IsAppNamespacePermitted`) and `util/glob/list.go` (`MatchStringInList`)
- https://argo-cd.readthedocs.io/en/stable/operator-manual/app-any-namespace/
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.goregexp import compile_go
from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.argocd._argo import items, who
from servegate.rules.argocd._glob import glob_match
from servegate.rules.argocd._project import PROBE_NAMESPACE
from servegate.rules.base import Context, Scope, Violation, rule

_PROBES = (PROBE_NAMESPACE, "x", "tenant-a")


def admits_any(pattern: str) -> bool:
    if len(pattern) > 1 and pattern.startswith("/") and pattern.endswith("/"):
        compiled = compile_go(pattern[1:-1])
        if compiled is None:
            return False
        return all(compiled.search(p) for p in _PROBES) or not pattern[1:-1].startswith("^")
    return glob_match(pattern, PROBE_NAMESPACE)


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    for i, pattern in enumerate(items(r.spec.get("sourceNamespaces"))):
        if isinstance(pattern, str) and pattern.strip() and admits_any(pattern.strip()):
            yield Violation(
                ("spec", "sourceNamespaces", i),
                f"sourceNamespaces {pattern!r} admits Applications from namespaces it does not "
                "name: list them (an unanchored /regex/ matches anywhere in a name)",
                who(r),
            )


RULE = rule(
    "argocd.project-source-namespaces",
    "AppProjects name the namespaces their Applications live in",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={"AppProject"},
    doc=__doc__,
)

"""## What it does
Flags an Argo CD AppProject destination that admits more than named clusters and namespaces,
matched the way Argo CD matches them (`globMatch`, gobwas globs without separators, so `*`
crosses dots and slashes): a `server`, `name` or `namespace` that is a deny pattern (`!x`
admits every value but `x`; `!*`, whose glob matches every value, admits none), a glob
that admits any value (`*`, `**`, `?*`, `{*,x}`...), or a namespace glob that admits a
system namespace (`kube-system`, `kube-public`, `kube-node-lease`, `argocd`, `istio-system`,
`knative-serving`, `kserve`, `cert-manager`, `default`), such as `kube-*` or `*-system`.

## Why is this bad?
The destinations are what the project lets its applications deploy into. A deny-list is not
least privilege: `namespace: '!kube-system'` still admits `argocd`, `istio-system` and every
namespace created tomorrow; a wildcard server admits every cluster Argo CD knows. An
application of the project can then replace the mesh, KServe or Argo CD itself.

## Example
```yaml
kind: AppProject
spec:
  destinations:
  - server: '*'
    namespace: '!kube-system'
```

## Use instead
```yaml
kind: AppProject
spec:
  destinations:
  - server: https://kubernetes.default.svc
    namespace: ml-fraud-*
```

## References
- argoproj/argo-cd `pkg/apis/application/v1alpha1/app_project_types.go` (`isDestinationMatched`,
  `globMatch`, `isDenyPattern`) and `util/glob/glob.go` (gobwas/glob)
- https://argo-cd.readthedocs.io/en/stable/user-guide/projects/#managing-projects
- https://argo-cd.readthedocs.io/en/stable/operator-manual/project-specification/
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.argocd._argo import items, mapping, who
from servegate.rules.argocd._project import (
    PROBE_NAME,
    PROBE_NAMESPACE,
    PROBE_SERVER,
    SYSTEM_NAMESPACES,
    breadth,
)
from servegate.rules.base import Context, Scope, Violation, rule

_FIELDS = (
    ("server", PROBE_SERVER, (), "cluster"),
    ("name", PROBE_NAME, (), "cluster"),
    ("namespace", PROBE_NAMESPACE, SYSTEM_NAMESPACES, "namespace"),
)


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    for i, dest in enumerate(items(r.spec.get("destinations"))):
        dest = mapping(dest)
        for key, probe, sensitive, what in _FIELDS:
            value = dest.get(key)
            if not isinstance(value, str) or not value.strip():
                continue
            why = breadth(value.strip(), probe, sensitive)
            if why is not None:
                yield Violation(
                    ("spec", "destinations", i, key),
                    f"destination {key} {why}: list the {what}s the project may deploy to",
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

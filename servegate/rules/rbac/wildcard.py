"""## What it does
Flags Role and ClusterRole rules with `*` in `verbs`, `resources` or `apiGroups`, or `*` (or
`/*`) in `nonResourceURLs`, which Kubernetes matches against every path the API server serves.

## Why is this bad?
A wildcard grants everything that exists today and everything added tomorrow (new verbs,
subresources and CRDs included). Model-serving workloads need a handful of read permissions
at most; list them.

## Example
```yaml
kind: Role
rules:
- apiGroups: ["*"]
  resources: ["*"]
  verbs: ["*"]
```

## Use instead
```yaml
kind: Role
rules:
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get]
```

## References
- https://kubernetes.io/docs/concepts/security/rbac-good-practices/#least-privilege
- https://kubernetes.io/docs/reference/access-authn-authz/rbac/#referring-to-resources
- kubernetes/kubernetes `pkg/apis/rbac/v1/evaluation_helpers.go` (`NonResourceURLMatches`: `*`
  matches every path, a trailing `*` every path below)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.rbac._rules import ROLE_KINDS, policy_rules, who


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    for pr in policy_rules(r):
        for key, values in (
            ("verbs", pr.verbs),
            ("resources", pr.resources),
            ("apiGroups", pr.api_groups),
        ):
            if "*" in values:
                yield Violation(pr.field(key), f"wildcard '*' in {key}", who(r))
        if pr.non_resource_urls & {"*", "/*"}:
            yield Violation(
                pr.field("nonResourceURLs"),
                "wildcard in nonResourceURLs: every API server path (/logs, /debug/pprof...)",
                who(r),
            )


RULE = rule(
    "rbac.wildcard",
    "RBAC rules name verbs, resources and groups explicitly",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds=ROLE_KINDS,
    doc=__doc__,
)

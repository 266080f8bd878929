"""## What it does
Flags a ClusterRole whose `aggregationRule` can gather every permission: a
`clusterRoleSelectors` entry that

- is empty (`{}`) or otherwise matches a ClusterRole with no labels (only `NotIn` or
  `DoesNotExist` expressions): it gathers every ClusterRole in the cluster, `cluster-admin`
  included;
- matches the built-in roles: the `kubernetes.io/bootstrapping: rbac-defaults` label
  (`cluster-admin`, `admin`, `edit`, `view`...), or the built-in aggregation labels
  `rbac.authorization.k8s.io/aggregate-to-admin`, `-edit`, `-view` (what every CRD and operator
  grants the built-in roles);
- selects by a label's mere presence (`Exists`), which any ClusterRole can carry.

Selectors are evaluated with Kubernetes label-selector semantics (`matchLabels` and
`matchExpressions` ANDed; an entry matches when all hold).

## Why is this bad?
The controller manager fills an aggregated ClusterRole with the rules of every ClusterRole its
selectors match, now and in the future. A broad selector turns a harmless-looking role into
`cluster-admin`, or lets anyone who can create a ClusterRole with that label (an operator's
Helm chart, another Argo CD project) extend what the role's subjects may do.

## Example
```yaml
kind: ClusterRole
metadata: {name: model-reader}
aggregationRule:
  clusterRoleSelectors:
  - matchLabels:
      rbac.authorization.k8s.io/aggregate-to-edit: "true"
rules: []
```

## Use instead
```yaml
kind: ClusterRole
metadata: {name: model-reader}
aggregationRule:
  clusterRoleSelectors:
  - matchLabels:
      ml.acme.com/aggregate-to-model-reader: "true"
rules: []
```

## References
- https://kubernetes.io/docs/reference/access-authn-authz/rbac/#aggregated-clusterroles
- kubernetes/kubernetes `pkg/controller/clusterroleaggregation/clusterroleaggregation_controller.go`
- https://kubernetes.io/docs/reference/access-authn-authz/rbac/#default-roles-and-role-bindings
  (`kubernetes.io/bootstrapping: rbac-defaults`, the `aggregate-to-*` labels)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from servegate.model import Severity
from servegate.resource import Resource, as_dict, as_list
from servegate.rules.base import Context, Scope, Violation, rule

_BOOTSTRAP = {"kubernetes.io/bootstrapping": "rbac-defaults"}
_AGGREGATE = "rbac.authorization.k8s.io/aggregate-to-"
BUILTIN_ROLES: dict[str, dict[str, str]] = {
    "cluster-admin": _BOOTSTRAP,
    "admin": _BOOTSTRAP,
    "edit": {**_BOOTSTRAP, f"{_AGGREGATE}admin": "true"},
    "view": {**_BOOTSTRAP, f"{_AGGREGATE}edit": "true"},
    "system:aggregate-to-admin": {**_BOOTSTRAP, f"{_AGGREGATE}admin": "true"},
    "system:aggregate-to-edit": {**_BOOTSTRAP, f"{_AGGREGATE}edit": "true"},
    "system:aggregate-to-view": {**_BOOTSTRAP, f"{_AGGREGATE}view": "true"},
    "a ClusterRole without labels": {},
}
"""Labels of the built-in ClusterRoles, from the API server's bootstrap policy."""


def selector_matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Kubernetes label-selector semantics (apimachinery ``LabelSelectorAsSelector``)."""
    for key, value in as_dict(selector.get("matchLabels")).items():
        if labels.get(str(key)) != str(value):
            return False
    for expr in as_list(selector.get("matchExpressions")):
        expr = as_dict(expr)
        key, op = str(expr.get("key")), str(expr.get("operator"))
        values = {str(v) for v in as_list(expr.get("values"))}
        present = key in labels
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            return False
    return True


def _why(selector: dict[str, Any]) -> str | None:
    hits = [name for name, labels in BUILTIN_ROLES.items() if selector_matches(selector, labels)]
    if hits:
        return f"selects {', '.join(hits)}"
    keys = [str(k) for k in as_dict(selector.get("matchLabels"))]
    exprs = [as_dict(e) for e in as_list(selector.get("matchExpressions"))]
    keys += [str(e.get("key")) for e in exprs]
    if any(k.startswith(_AGGREGATE) for k in keys):
        return "selects by the built-in aggregate-to-* labels"
    only_exists = all(e.get("operator") == "Exists" for e in exprs)
    if exprs and only_exists and not as_dict(selector.get("matchLabels")):
        return "selects any ClusterRole that merely carries the label"
    return None


def gathers_builtin(r: Resource) -> bool:
    """Whether ClusterRole ``r``'s aggregationRule can gather the built-in roles' rules."""
    rule_ = as_dict(r.body.get("aggregationRule"))
    return any(_why(as_dict(s)) is not None for s in as_list(rule_.get("clusterRoleSelectors")))


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    rule_ = as_dict(r.body.get("aggregationRule"))
    for i, selector in enumerate(as_list(rule_.get("clusterRoleSelectors"))):
        why = _why(as_dict(selector))
        if why is not None:
            yield Violation(
                ("aggregationRule", "clusterRoleSelectors", i),
                f"aggregationRule {why}: it can gather every permission; select a label of "
                "your own",
                f"ClusterRole {r.name!r}",
            )


RULE = rule(
    "rbac.aggregation-rule",
    "Aggregated ClusterRoles select only their own labels",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={"ClusterRole"},
    doc=__doc__,
)

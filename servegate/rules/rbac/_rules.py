"""The policy rules of a Role or ClusterRole, as sets, for the rbac checks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from servegate.resource import FieldPath, Resource

ROLE_KINDS = frozenset({"Role", "ClusterRole"})
BINDING_KINDS = frozenset({"RoleBinding", "ClusterRoleBinding"})


@dataclass(frozen=True, slots=True)
class PolicyRule:
    path: FieldPath
    verbs: frozenset[str]
    resources: frozenset[str]
    api_groups: frozenset[str]
    resource_names: frozenset[str]
    non_resource_urls: frozenset[str] = frozenset()

    def field(self, name: str) -> FieldPath:
        return (*self.path, name)

    def core(self) -> bool:
        return "" in self.api_groups or "*" in self.api_groups

    def names_resource(self, resource: str) -> bool:
        """Whether the rule names ``resource`` (``pods/exec``) itself or through a
        ``*/<subresource>`` entry, as Kubernetes' RBAC authorizer matches it
        (kubernetes/kubernetes ``pkg/apis/rbac/v1/evaluation_helpers.go``, ``ResourceMatches``:
        ``*/exec`` grants ``exec`` of every resource). A bare ``*`` is ``rbac.wildcard``'s."""
        if resource in self.resources:
            return True
        _, slash, sub = resource.partition("/")
        return bool(slash) and f"*/{sub}" in self.resources


def _strings(value: object) -> frozenset[str]:
    return frozenset(str(v) for v in value) if isinstance(value, list) else frozenset()


def policy_rules(r: Resource) -> Iterator[PolicyRule]:
    rules = r.body.get("rules")
    if not isinstance(rules, list):
        return
    for i, item in enumerate(rules):
        if isinstance(item, dict):
            yield PolicyRule(
                ("rules", i),
                _strings(item.get("verbs")),
                _strings(item.get("resources")),
                _strings(item.get("apiGroups")),
                _strings(item.get("resourceNames")),
                _strings(item.get("nonResourceURLs")),
            )


def who(r: Resource) -> str:
    return f"{r.kind} {r.name!r}"

"""## What it does
Checks `metadata.name`, `metadata.generateName` and `metadata.namespace` against the format the
API server requires for the kind: a DNS-1123 label (at most 63 lowercase alphanumerics or `-`)
for Namespace and StatefulSet, a DNS-1035 label (starting with a letter) for Service, a
DNS-1123 subdomain (at most 253, dots allowed) for most other kinds and every custom resource,
a path segment (no `/` or `%`) for RBAC objects, at most 52 characters for a CronJob; a
namespace must be a DNS-1123 label, and an object needs a name or a generateName.

## Why is this bad?
The API server refuses the object, so nothing after it in the sync is applied either.

## Example
```yaml
apiVersion: v1
kind: Service
metadata:
  name: 2fraud_model
```

## Use instead
```yaml
apiVersion: v1
kind: Service
metadata:
  name: fraud-model
```

## References
- kubernetes/apimachinery `pkg/api/validation/objectmeta.go` (`ValidateObjectMetaAccessor`,
  `NameIsDNSSubdomain`, `NameIsDNSLabel`, `NameIsDNS1035Label`) and
  `pkg/util/validation/validation.go`
- kubernetes/kubernetes `pkg/apis/core/validation/validation.go` (`ValidateNamespaceName`,
  `ValidateServiceName`), `pkg/apis/apps/validation/validation.go` (`ValidateStatefulSetName`),
  `pkg/apis/batch/validation/validation.go` (`ValidateCronJobCreate`: 52 characters),
  `pkg/apis/rbac/validation/validation.go` (`ValidateRBACName` = `path.IsValidPathSegmentName`);
  the `RelaxedServiceNameValidation` feature gate (alpha in 1.34) lets Service names be DNS-1123
  labels; servegate applies that from 1.37
- kubernetes/apiextensions-apiserver `pkg/registry/customresource/validator.go` (custom
  resources: `NameIsDNSSubdomain`)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.admission._k8s import (
    Check,
    dns1035_label,
    dns1123_label,
    dns1123_subdomain,
    is_builtin,
    path_segment,
)
from servegate.rules.base import Context, Scope, Violation, rule

_RBAC = frozenset({"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"})
_CRONJOB_MAX = 52


def _name_check(resource: Resource, ctx: Context) -> tuple[Check, str]:
    kind, group = resource.kind, resource.group
    if not is_builtin(resource):
        return dns1123_subdomain, "a DNS-1123 subdomain"
    if (group == "" and kind == "Namespace") or (group == "apps" and kind == "StatefulSet"):
        return dns1123_label, "a DNS-1123 label"
    if group == "" and kind == "Service":
        if ctx.k8s_version >= (1, 37):
            return dns1123_label, "a DNS-1123 label"
        return dns1035_label, "a DNS-1035 label"
    if group == "rbac.authorization.k8s.io" and kind in _RBAC:
        return path_segment, "a path segment"
    return dns1123_subdomain, "a DNS-1123 subdomain"


def check(resource: Resource, ctx: Context) -> Iterator[Violation]:
    meta = resource.metadata
    name, generate = meta.get("name"), meta.get("generateName")
    fn, what = _name_check(resource, ctx)
    if not name and not generate:
        yield Violation(("metadata",), "name or generateName is required")
    if isinstance(name, str) and name:
        for problem in fn(name):
            yield Violation(("metadata", "name"), f"{name!r} is not {what}: {problem}")
        if resource.kind == "CronJob" and resource.group == "batch" and len(name) > _CRONJOB_MAX:
            yield Violation(
                ("metadata", "name"),
                f"a CronJob name must be no more than {_CRONJOB_MAX} characters "
                "(its Jobs add an 11-character suffix)",
            )
    if isinstance(generate, str) and generate:
        prefix = generate[:-1] if generate.endswith("-") else generate
        for problem in fn(prefix):
            yield Violation(
                ("metadata", "generateName"), f"{generate!r} is not a prefix of {what}: {problem}"
            )
    namespace = meta.get("namespace")
    if isinstance(namespace, str) and namespace:
        for problem in dns1123_label(namespace):
            yield Violation(
                ("metadata", "namespace"), f"{namespace!r} is not a DNS-1123 label: {problem}"
            )


RULE = rule(
    "admission.object-name",
    "Object names have the format the API server requires",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    doc=__doc__,
)

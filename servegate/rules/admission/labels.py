"""## What it does
Checks label keys and values on every object, its pod templates and an InferenceService's
components (whose labels KServe puts on the pods): a key is an optional DNS-1123
subdomain prefix and `/`, then a name of at most 63 alphanumerics, `-`, `_` or `.` starting and
ending with an alphanumeric; a value is empty or such a name, and a string.

## Why is this bad?
The API server refuses the object; a selector copied from a bad label never matches.

## Example
```yaml
metadata:
  labels:
    app.kubernetes.io/name: fraud model
```

## Use instead
```yaml
metadata:
  labels:
    app.kubernetes.io/name: fraud-model
```

## References
- kubernetes/apimachinery `pkg/apis/meta/v1/validation/validation.go` (`ValidateLabels`,
  `ValidateLabelName`), `pkg/util/validation/validation.go` (`IsQualifiedName`,
  `IsValidLabelValue`); custom resources get the same metadata validation
  (apiextensions-apiserver `pkg/registry/customresource/validator.go`)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from servegate.model import Severity
from servegate.resource import FieldPath, Resource
from servegate.rules.admission._k8s import is_builtin, label_value, qualified_name
from servegate.rules.base import Context, Scope, Violation, rule

#: Where pod templates keep their metadata, by kind (the API server validates them as well).
_TEMPLATES: dict[str, tuple[FieldPath, ...]] = {
    **dict.fromkeys(
        ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"),
        (("spec", "template", "metadata"),),
    ),
    "CronJob": (
        ("spec", "jobTemplate", "metadata"),
        ("spec", "jobTemplate", "spec", "template", "metadata"),
    ),
    "PodTemplate": (("template", "metadata"),),
    "InferenceService": (("spec", "predictor"), ("spec", "transformer"), ("spec", "explainer")),
}


def _label_maps(resource: Resource) -> Iterator[tuple[FieldPath, Any]]:
    yield ("metadata", "labels"), resource.metadata.get("labels")
    for path in _TEMPLATES.get(resource.kind, ()):
        yield (*path, "labels"), _get(resource.body, path, "labels")


def _get(body: Any, path: FieldPath, key: str) -> Any:
    for part in path:
        body = body.get(part) if isinstance(body, dict) else None
    return body.get(key) if isinstance(body, dict) else None


def check(resource: Resource, ctx: Context) -> Iterator[Violation]:
    for path, labels in _label_maps(resource):
        if not isinstance(labels, dict):
            continue
        for key, value in labels.items():
            if not isinstance(key, str):
                yield Violation((*path, str(key)), f"label key {key!r} is not a string")
                continue
            for problem in qualified_name(key):
                yield Violation((*path, key), f"label key {key!r}: {problem}")
            if value is None:
                continue  # decodes to the empty string
            if not isinstance(value, str):
                if not is_builtin(resource):  # built-in kinds: the schema reports it
                    yield Violation((*path, key), f"label {key!r}: the value must be a string")
                continue
            for problem in label_value(value):
                yield Violation((*path, key), f"label {key!r} value {value!r}: {problem}")


RULE = rule(
    "admission.labels",
    "Label keys and values have the format the API server requires",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    doc=__doc__,
)

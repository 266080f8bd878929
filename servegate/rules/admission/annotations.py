"""## What it does
Checks annotations on every object, custom resources included: each key is a qualified name
(an optional DNS-1123 subdomain prefix and `/`, then at most 63 alphanumerics, `-`, `_` or
`.`), each value is a string (YAML `true`, `8080` or a list is not; quote it), and all keys and
values together stay within 256 KiB.

## Why is this bad?
The API server refuses the object. An unquoted `true` or number is the classic: built-in kinds
fail their schema, and for custom resources the API server refuses what servegate's schemas
cannot see (metadata is not part of a CRD's schema).

## Example
```yaml
metadata:
  annotations:
    serving.kserve.io/enable-prometheus-scraping: true
```

## Use instead
```yaml
metadata:
  annotations:
    serving.kserve.io/enable-prometheus-scraping: "true"
```

## References
- kubernetes/apimachinery `pkg/api/validation/objectmeta.go` (`ValidateAnnotations`,
  `ValidateAnnotationsSize`, `TotalAnnotationSizeLimitB` = 256 KiB)
- metav1.ObjectMeta declares `annotations` as `map[string]string`, for every kind
  (kubernetes/apimachinery `pkg/apis/meta/v1/types.go`)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.admission._k8s import TOTAL_ANNOTATION_SIZE, is_builtin, qualified_name
from servegate.rules.base import Context, Scope, Violation, rule


def check(resource: Resource, ctx: Context) -> Iterator[Violation]:
    annotations = resource.metadata.get("annotations")
    if not isinstance(annotations, dict):
        return
    path = ("metadata", "annotations")
    total = 0
    for key, value in annotations.items():
        name = key if isinstance(key, str) else str(key)
        for problem in qualified_name(name.lower()):
            yield Violation((*path, name), f"annotation key {name!r}: {problem}")
        if value is not None and not isinstance(value, str):
            if not is_builtin(resource):  # built-in kinds: the schema reports it
                shown = (
                    "a list"
                    if isinstance(value, list)
                    else "a map"
                    if isinstance(value, dict)
                    else repr(value)
                )
                yield Violation(
                    (*path, name), f"annotation {name!r}: the value must be a string, not {shown}"
                )
            continue
        total += len(name.encode()) + len((value or "").encode())
    if total > TOTAL_ANNOTATION_SIZE:
        yield Violation(path, f"annotations take {total} bytes, more than 256 KiB")


RULE = rule(
    "admission.annotations",
    "Annotation keys are qualified names and values are strings",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    doc=__doc__,
)

"""## What it does
A mapping repeats a key. A file applied as it is (kubectl, an Argo CD directory app) is still
checked as they decode it, with the last value, so ignoring this rule hides nothing else; a
kustomize resource with a repeated key is refused by kustomize and not rendered.

## Why is this bad?
Kubernetes keeps only the last value, so an earlier setting (a securityContext, an image) silently
disappears.

## Example
```yaml
securityContext:
  runAsNonRoot: true
securityContext: {}
```

## Use instead
```yaml
securityContext:
  runAsNonRoot: true
```

## References
- YAML 1.2 specification: mapping keys are unique (https://yaml.org/spec/1.2.2/#mapping)
- KEP-2885 server-side field validation: without `fieldValidation=Strict` the API server
  keeps the last of duplicate fields
- kubernetes-sigs/yaml (go-yaml v2, not strict): the last value of a repeated key wins, as
  `kubectl annotate --local -o json` shows
"""

from __future__ import annotations

from servegate.model import Severity
from servegate.rules.base import reported
from servegate.yamlsafe import Problem

RULE = reported(
    "yaml.duplicate-key",
    "Mapping has a duplicate key",
    Severity.ERROR,
    doc=__doc__,
    problem=Problem.DUPLICATE_KEY,
    input_problem=True,
)

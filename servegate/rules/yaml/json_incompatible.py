"""## What it does
A value or key that sigs.k8s.io/yaml cannot turn into JSON: `.nan` or `.inf`, a null key, a key
that is an unsigned 64-bit integer.

## Why is this bad?
kubectl and Argo CD convert every manifest to JSON before sending it; the conversion fails
("json: unsupported value: NaN", "unsupported map key of type"), so the sync fails.

## Example
```yaml
data:
  ratio: .nan
```

## Use instead
```yaml
data:
  ratio: "NaN"
```

## References
- sigs.k8s.io/yaml `yaml.go` (`convertToJSONableObject`)
"""

from __future__ import annotations

from servegate.model import Severity
from servegate.rules.base import reported
from servegate.yamlsafe import Problem

RULE = reported(
    "yaml.json-incompatible",
    "Value Kubernetes cannot send as JSON",
    Severity.ERROR,
    doc=__doc__,
    problem=Problem.JSON_INCOMPATIBLE,
    input_problem=True,
)

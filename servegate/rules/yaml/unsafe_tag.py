"""## What it does
A node carries a tag other than YAML's plain data types (for example `!!python/object`).

## Why is this bad?
Such tags make unsafe loaders run code; Kubernetes manifests never need them.

## Example
```yaml
image: !!python/object/apply:os.system [id]
```

## Use instead
```yaml
image: ghcr.io/acme/model:1.2.0
```

## References
- PyYAML documentation: `yaml.load` with a full loader constructs arbitrary Python objects
- YAML 1.2 core schema tags: https://yaml.org/spec/1.2.2/#103-core-schema
"""

from __future__ import annotations

from servegate.model import Severity
from servegate.rules.base import reported
from servegate.yamlsafe import Problem

RULE = reported(
    "yaml.unsafe-tag",
    "YAML uses a non-data tag",
    Severity.ERROR,
    doc=__doc__,
    problem=Problem.UNSAFE_TAG,
    input_problem=True,
)

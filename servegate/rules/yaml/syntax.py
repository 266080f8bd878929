"""## What it does
A YAML file (manifest, patch or kustomization) does not parse.

## Why is this bad?
kustomize and Argo CD would fail on it, or worse, read something else than you meant.

## Example
```yaml
spec: [unclosed
```

## Use instead
```yaml
spec: [closed]
```

## References
- YAML 1.2 specification: https://yaml.org/spec/1.2.2/
- sigs.k8s.io/yaml, the decoder kubectl and Argo CD use (a file it cannot decode is refused)
"""

from __future__ import annotations

from servegate.model import Severity
from servegate.rules.base import reported
from servegate.yamlsafe import Problem

RULE = reported(
    "yaml.syntax",
    "File is not valid YAML",
    Severity.ERROR,
    doc=__doc__,
    problem=Problem.SYNTAX,
    input_problem=True,
)

"""## What it does
A scalar carries an explicit YAML tag (`!!int`, `!!bool`, `!!float`, `!!null`, `!!timestamp`,
`!!binary`) that its value does not fit, read as the consumer reads it: sigs.k8s.io/yaml for a
file applied as it is or a kustomization, kustomize's kyaml for a kustomize resource.

## Why is this bad?
kubectl, Argo CD and kustomize refuse the file ("cannot decode !!null `` as a !!int"), or, for
`!!bool y`, read a value that another tool in the chain reads differently.

## Example
```yaml
data:
  replicas: !!int ""
```

## Use instead
```yaml
data:
  replicas: "3"
```

## References
- go-yaml v2 `resolve.go` (`resolve`: "cannot decode %s `%s` as a %s"), vendored in
  sigs.k8s.io/yaml `goyaml.v2/`
"""

from __future__ import annotations

from servegate.model import Severity
from servegate.rules.base import reported
from servegate.yamlsafe import Problem

RULE = reported(
    "yaml.tag-mismatch",
    "Tagged scalar does not fit its tag",
    Severity.ERROR,
    doc=__doc__,
    problem=Problem.TAG_MISMATCH,
    input_problem=True,
)

"""## What it does
A YAML merge key (`<<`) its consumer refuses: a value that is not a mapping or a list of
mappings, or, in a file kustomize reads, a second `<<` in one mapping.

## Why is this bad?
kubectl and Argo CD fail on a merge of anything but mappings ("map merge requires map or
sequence of maps as the value"); kustomize fails on a second merge key ("duplicate merge key"),
where kubectl would apply both in order, the later overriding the earlier.

## Example
```yaml
spec:
  <<: *defaults
  <<: *hardened
```

## Use instead
```yaml
spec:
  <<: [*hardened, *defaults]
```

## References
- go-yaml v2 `decode.go` (`d.merge`), vendored in sigs.k8s.io/yaml `goyaml.v2/`
- kustomize `kyaml/yaml/rnode.go` (`getMergeTagValue`: "duplicate merge key")
"""

from __future__ import annotations

from servegate.model import Severity
from servegate.rules.base import reported
from servegate.yamlsafe import Problem

RULE = reported(
    "yaml.merge-key",
    "Merge key its consumer refuses",
    Severity.ERROR,
    doc=__doc__,
    problem=Problem.MERGE_KEY,
    input_problem=True,
)

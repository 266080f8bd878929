"""## What it does
A kustomization refers to a path outside the repo root.

## Why is this bad?
Argo CD renders only the repo; a path outside it builds on a developer's machine and fails in the
cluster, or reads files that are not reviewed.

## Example
```yaml
resources: [../../../other-repo/base]
```

## Use instead
Keep bases inside the repo.

## References
- kustomize load restrictions (`--load-restrictor LoadRestrictionsRootOnly`):
  sigs.k8s.io/kustomize/api/loader/fileloader.go
"""

from __future__ import annotations

from servegate.model import Severity
from servegate.rules.base import reported

RULE = reported(
    "repo.kustomize-escape",
    "Kustomization reaches outside the repo",
    Severity.ERROR,
    doc=__doc__,
    input_problem=True,
)

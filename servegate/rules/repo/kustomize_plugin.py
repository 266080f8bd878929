"""## What it does
A kustomization uses helm charts or non-builtin generators/transformers.

## Why is this bad?
Exec and helm plugins run programs from the repo at render time; servegate renders without them.

## Example
```yaml
helmCharts:
- name: model
```

## Use instead
Commit the rendered chart, or use builtin transformers.

## References
- kustomize plugins: https://kubectl.docs.kubernetes.io/guides/extending_kustomize/
- Argo CD: kustomize build options (`--enable-helm`, `--enable-alpha-plugins`)
"""

from __future__ import annotations

from servegate.model import Severity
from servegate.rules.base import reported

RULE = reported(
    "repo.kustomize-plugin",
    "Kustomization needs a plugin that runs code",
    Severity.ERROR,
    doc=__doc__,
    input_problem=True,
)

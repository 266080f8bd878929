"""## What it does
An ApplicationSet's generators cannot be resolved from the repo alone (cluster, SCM provider,
pull request, matrix or merge generators, a Git generator whose file fails to decode, a
`templatePatch` that sets
only names, labels or the sync policy, or a Go template beyond plain field references), so
servegate cannot tell every Application it makes. Sources whose path and tool settings hold
no template are still checked once. When the template's sources carry tool settings, or the
`templatePatch` may change the sources, it is `argocd.source-unchecked` (an error) instead.

## Why is this bad?
The Applications it generates may deploy folders, or settings, that servegate did not check.

## Example
```yaml
spec:
  generators:
  - clusters: {}
  template:
    spec:
      source: {path: "overlays/{{name}}"}
```

## Use instead
Use `list` or Git `directories` or `files` generators for what the repo deploys, or keep template
parameters out of `path` and the tool settings.

## References
- argoproj/argo-cd `docs/operator-manual/applicationset/Generators-List.md`,
  `Generators-Git.md`, `GoTemplate.md`
- argoproj/argo-cd `applicationset/utils/utils.go` (`Render`: fasttemplate and Go templates)
"""

from __future__ import annotations

from servegate.model import Severity
from servegate.rules.base import reported

RULE = reported(
    "argocd.source-unresolved",
    "ApplicationSet generates Applications servegate cannot list",
    Severity.NOTE,
    doc=__doc__,
)

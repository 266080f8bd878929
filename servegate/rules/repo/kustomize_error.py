"""## What it does
A kustomize root cannot be built: `kubectl kustomize` fails on it (missing file, conflicting
IDs, a bad patch); its kustomizations include each other in a cycle; its include graph would
cost more than 10,000 kustomization builds (kustomize builds a shared base again on every path
that reaches it); or it did not render within the run's kustomize time budget
(`SERVEGATE_RENDER_BUDGET`).

## Why is this bad?
Argo CD fails the same way at sync time, or its repo server spends minutes on every refresh. A
root servegate could not render is a root it could not check, so it is an error, never a pass.

## Example
```yaml
# overlays/prod/kustomization.yaml
resources: [../../base]
# base/kustomization.yaml
resources: [../overlays/prod]
```

## Use instead
Fix the kustomization until `kubectl kustomize DIR` succeeds quickly: include each base once,
and never a kustomization that includes you.

## References
- kubernetes-sigs/kustomize `api/internal/loader/fileloader.go` (`errIfArgEqualOrHigher`:
  "cycle detected")
- kubernetes-sigs/kustomize `api/internal/target/kusttarget.go` (`accumulateDirectory` builds a
  new target for every include)
"""

from __future__ import annotations

from servegate.model import Severity
from servegate.rules.base import reported

RULE = reported(
    "repo.kustomize-error",
    "kustomize cannot build a root",
    Severity.ERROR,
    doc=__doc__,
    input_problem=True,
)

"""## What it does
An Argo CD Application (or ApplicationSet) in the repo deploys a source from somewhere else:
another Git repository (its `repoURL` is none of this repo's remotes), a Helm or OCI chart
registry (`chart:`), or a `path` that does not exist in this repo.

## Why is this bad?
servegate checks only this repo and never fetches: what the cluster receives from that source
was not checked here. Check it where it lives, or vendor it.

## Example
```yaml
spec:
  source:
    repoURL: https://charts.example.com
    chart: model-server
    targetRevision: 1.2.0
```

## Use instead
Vendor the chart or manifests into the repo (`helm pull --untar`), or run servegate in the
repository the source comes from.

## References
- argoproj/argo-cd `docs/user-guide/multiple_sources.md`, `docs/user-guide/helm.md`
- argoproj/argo-cd `reposerver/repository/repository.go` (`runManifestGen`)
"""

from __future__ import annotations

from servegate.model import Severity
from servegate.rules.base import reported

RULE = reported(
    "argocd.source-external",
    "Application deploys a source this check cannot see",
    Severity.WARNING,
    doc=__doc__,
)

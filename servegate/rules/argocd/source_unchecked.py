"""## What it does
An Argo CD Application (or ApplicationSet) in the repo deploys content that servegate cannot
render and check as Argo CD would: a `.jsonnet` file of a directory source, a Config
Management Plugin other than servegate's, a Helm chart when no `helm` binary is on PATH or
whose dependencies are not vendored in `charts/`, a source path that leaves the repo, a file
Argo CD would apply that does not decode, a source that names more than one tool, or an
Application (or ApplicationSet) that a kustomization lists and changes: a patch, replacement
or component that alters its sources (other than `targetRevision`), its destination namespace,
or an ApplicationSet's generators or template. servegate reads what an Application deploys
from its file, and Argo CD applies the child Application as kustomize renders it. Also an
ApplicationSet whose generator servegate cannot resolve while its template's sources carry
tool settings (`kustomize`, `helm`, `directory`, `plugin`): each generated folder is rendered
with them, and servegate checked the folders only as they are; and a `templatePatch` that may
change more than names, labels and the sync policy.

## Why is this bad?
servegate is a gate: a green check must mean that what the cluster receives was checked.
Content that Argo CD renders at sync time and servegate never saw could hold a privileged pod.

## Example
```yaml
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: model, namespace: argocd}
spec:
  source:
    repoURL: https://git.example.com/ml/model.git
    path: deploy            # holds model.jsonnet
    directory: {recurse: true}
```

## Use instead
Write an Application's sources in its own file (one file per environment rather than a patch
per overlay), commit plain manifests or a kustomization, install `helm` where servegate runs,
vendor chart dependencies (`helm dependency build`), or deploy through servegate's own plugin.

## References
- argoproj/argo-cd `reposerver/repository/repository.go` (`GenerateManifests`, `findManifests`)
- argoproj/argo-cd `util/app/discovery/discovery.go` (`AppType`: Kustomize, Helm, Directory)
- argoproj/argo-cd `docs/user-guide/directory.md`, `docs/user-guide/helm.md`
- argoproj/argo-cd `docs/operator-manual/cluster-bootstrapping.md` (app of apps: child
  Applications are resources of the parent's rendered manifests)
"""

from __future__ import annotations

from servegate.model import Severity
from servegate.rules.base import reported

RULE = reported(
    "argocd.source-unchecked",
    "Application deploys content servegate cannot check",
    Severity.ERROR,
    doc=__doc__,
    input_problem=True,
)

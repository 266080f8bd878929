"""## What it does
Flags pods and pod templates (Deployments, Jobs, Rollouts, Argo Workflows...) that run as the
namespace's `default` service account, by naming it or by naming none. InferenceServices are
covered by `kserve.service-account`.

## Why is this bad?
Every pod that names no account shares `default`, so a permission granted for one workload
silently applies to all of them, and the audit log cannot tell them apart.

## Example
```yaml
kind: Deployment
spec:
  template:
    spec:
      containers:
      - name: feature-server
        image: ghcr.io/acme/features:1.2.0
```

## Use instead
```yaml
kind: Deployment
spec:
  template:
    spec:
      serviceAccountName: feature-server
      containers:
      - name: feature-server
        image: ghcr.io/acme/features:1.2.0
```

## References
- https://kubernetes.io/docs/concepts/security/service-accounts/#default-service-accounts
- https://kubernetes.io/docs/concepts/security/rbac-good-practices/
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.podspecs import PodSpecView
from servegate.rules.base import Context, Scope, Violation, rule


def check(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    if not pod.pod_level or pod.resource.kind == "InferenceService":
        return
    name = pod.spec.get("serviceAccountName") or pod.spec.get("serviceAccount")
    if not name or name == "default":
        yield Violation(
            pod.at("serviceAccountName"),
            "runs as the 'default' service account: name a dedicated one",
            pod.label,
        )


RULE = rule(
    "rbac.default-service-account",
    "Workloads do not use the default service account",
    Severity.ERROR,
    Scope.POD,
    check,
    doc=__doc__,
)

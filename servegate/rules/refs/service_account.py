"""## What it does
Flags a workload (any pod-bearing kind, InferenceService components included) whose
`serviceAccountName` names a ServiceAccount that the overlay does not define in the workload's
namespace. It only speaks when the overlay defines ServiceAccounts in that namespace at all:
otherwise the accounts are presumably created elsewhere (by the platform, another app).

## Why is this bad?
A pod naming a missing service account is never created: the ReplicaSet or Knative revision
reports `serviceaccount "x" not found` and the model never becomes Ready, usually after a
rename that updated one file but not the other.

## Example
```yaml
kind: ServiceAccount
metadata: {name: kserve-model-sa, namespace: ml-prod}
---
kind: InferenceService
metadata: {name: fraud, namespace: ml-prod}
spec:
  predictor:
    serviceAccountName: kserve-models-sa
```

## Use instead
```yaml
spec:
  predictor:
    serviceAccountName: kserve-model-sa
```

## References
- https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from servegate.model import Severity
from servegate.podspecs import pod_specs
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.refs._index import NameIndex


def check(resources: Sequence[Resource], ctx: Context) -> Iterator[Violation]:
    accounts = NameIndex(resources, {"ServiceAccount"})
    if not accounts.names:
        return
    for r in resources:
        for pod in pod_specs(r):
            if not pod.pod_level:
                continue
            name = pod.spec.get("serviceAccountName")
            if not isinstance(name, str) or not name or name == "default":
                continue
            if accounts.known(r.namespace) and not accounts.has(r.namespace, name):
                where = f" in namespace {r.namespace!r}" if r.namespace else ""
                yield Violation(
                    pod.at("serviceAccountName"),
                    f"service account {name!r} is not defined{where}",
                    pod.label,
                    r,
                )


RULE = rule(
    "refs.service-account",
    "Workloads name service accounts that exist",
    Severity.ERROR,
    Scope.UNIT,
    check,
    doc=__doc__,
)

"""## What it does
Where the environment requires the mesh (the default; `mesh: false` or `mtls: DISABLE` in the
profile turn it off), flags a Namespace that holds workloads in the same overlay but neither
enables sidecar injection (`istio-injection: enabled` or an `istio.io/rev` revision label) nor
joins ambient mode (`istio.io/dataplane-mode: ambient`).

## Why is this bad?
Without a sidecar the model's pods are outside the mesh: STRICT mTLS rejects their calls, and
authorization policies do not protect them at all.

## Example
```yaml
apiVersion: v1
kind: Namespace
metadata:
  name: ml-prod
  labels:
    istio-injection: disabled
```

## Use instead
```yaml
apiVersion: v1
kind: Namespace
metadata:
  name: ml-prod
  labels:
    istio-injection: enabled
```

## References
- https://istio.io/latest/docs/setup/additional-setup/sidecar-injection/
- https://istio.io/latest/docs/ambient/usage/add-workloads/
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.istio._mesh import DATAPLANE, INJECTION, REVISION, requires_mesh
from servegate.rules.namespace._workloads import namespaces_with_workloads


def check(resources: Sequence[Resource], ctx: Context) -> Iterator[Violation]:
    if not requires_mesh(ctx):
        return
    for ns in namespaces_with_workloads(resources):
        labels = ns.labels
        if labels.get(REVISION) or labels.get(DATAPLANE) == "ambient":
            continue
        value = labels.get(INJECTION)
        if value == "enabled":
            continue
        reason = (
            f"{INJECTION}: {value}: the environment requires the mesh"
            if value is not None
            else f"no sidecar injection label: set {INJECTION}: enabled (or {REVISION})"
        )
        yield Violation(("metadata", "labels", INJECTION), reason, f"namespace {ns.name!r}", ns)


RULE = rule(
    "istio.sidecar-injection",
    "Namespaces with workloads join the mesh",
    Severity.ERROR,
    Scope.UNIT,
    check,
    doc=__doc__,
)

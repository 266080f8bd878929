"""## What it does
Flags a Namespace holding workloads that enforces Pod Security `baseline` or `restricted`
(`pod-security.kubernetes.io/enforce`) and turns on Istio sidecar injection
(`istio-injection: enabled`, or an `istio.io/rev` revision label without
`istio-injection: disabled`) when the mesh has no Istio CNI: the `mesh` parameter
(servegate.yaml `policy.mesh`, or the environment profile's `mesh`) is `sidecar`, or unset,
which means Istio's default installation (no CNI). With `mesh: istio-cni` or `mesh: ambient`
(whose install includes the CNI node agent) the namespace passes.

## Why is this bad?
Without the Istio CNI node agent, Istio injects an `istio-init` init container that programs
iptables with the `NET_ADMIN` and `NET_RAW` capabilities. Neither `baseline` nor `restricted`
admits those capabilities, so Pod Security Admission rejects every pod of the namespace: the
model never starts, and nothing in the manifests shows why. Istio's own guide requires either
the CNI plugin or a `privileged` namespace.

## Example
```yaml
# servegate.yaml: policy: {mesh: sidecar}   (or no mesh set: Istio's default install)
apiVersion: v1
kind: Namespace
metadata:
  name: ml-prod
  labels:
    pod-security.kubernetes.io/enforce: restricted
    istio-injection: enabled
```

## Use instead
Install Istio with CNI (`istioctl install --set components.cni.enabled=true`) and say so:
```yaml
# servegate.yaml
policy:
  mesh: istio-cni
```
or use ambient mode (`istio.io/dataplane-mode: ambient`, `mesh: ambient`).

## References
- https://istio.io/latest/docs/setup/additional-setup/pod-security-admission/
- https://istio.io/latest/docs/setup/additional-setup/cni/
- https://github.com/istio/istio/issues/35894
- Pod Security Standards, capabilities (baseline: only the default set; restricted: drop ALL):
  https://kubernetes.io/docs/concepts/security/pod-security-standards/
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.istio._mesh import INJECTION, REVISION, mesh_mode
from servegate.rules.namespace._workloads import namespaces_with_workloads

ENFORCE = "pod-security.kubernetes.io/enforce"
_BLOCKING = ("baseline", "restricted")


def injects_sidecars(labels: dict[str, object]) -> bool:
    """Namespace-level sidecar injection as Istio's injector webhooks select it."""
    value = labels.get(INJECTION)
    if value is not None:
        return str(value) == "enabled"
    return bool(labels.get(REVISION))


def check(resources: Sequence[Resource], ctx: Context) -> Iterator[Violation]:
    mesh = mesh_mode(ctx)
    if mesh != "sidecar":
        return
    for ns in namespaces_with_workloads(resources):
        labels = ns.labels
        level = str(labels.get(ENFORCE) or "")
        if level not in _BLOCKING or not injects_sidecars(labels):
            continue
        declared = (
            "mesh: sidecar"
            if ctx.param("mesh")
            else ("no mesh set: Istio's default install has no CNI")
        )
        yield Violation(
            ("metadata", "labels", ENFORCE),
            f"Pod Security {level!r} with Istio sidecar injection and no Istio CNI ({declared}): "
            "the injected istio-init container needs NET_ADMIN and NET_RAW, so every pod is "
            "rejected; install Istio CNI and set policy.mesh: istio-cni (or use ambient)",
            f"namespace {ns.name!r}",
            ns,
        )


RULE = rule(
    "istio.sidecar-without-cni",
    "Sidecar injection in a baseline/restricted namespace needs Istio CNI",
    Severity.ERROR,
    Scope.UNIT,
    check,
    doc=__doc__,
)

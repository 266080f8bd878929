"""## What it does
Where the environment requires mutual TLS (`mtls: STRICT` in the profile, the default), flags a
PeerAuthentication that does not end up STRICT:

- its mode, or a port-level mode (`portLevelMtls`), is `PERMISSIVE` or `DISABLE`;
- its mode is `UNSET` (or it has no `mtls`) and what it inherits is not STRICT. Istio resolves
  `UNSET` from the next wider policy: a workload policy from the namespace-wide one, a
  namespace-wide policy from the mesh-wide one (no selector, in Istio's root namespace, policy
  parameter `istioRootNamespace`, default `istio-system`); a mesh-wide `UNSET`, or no wider
  policy in the checked set, means PERMISSIVE. A mesh-wide policy counts wherever the check
  finds it in the same environment (a platform folder, another overlay of that cluster); a
  STRICT one among weaker ones does not.

## Why is this bad?
PERMISSIVE accepts plaintext as well as mTLS, so any pod in the cluster (or anything that
reaches the pod network) can call the model without an identity, and authorization policies
that match principals or namespaces no longer see one. A single permissive port is enough.
`UNSET` reads like "the default" but Istio's default is PERMISSIVE.

## Example
```yaml
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: ml-prod}
spec:
  mtls: {mode: UNSET}
```

## Use instead
```yaml
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: ml-prod}
spec:
  mtls: {mode: STRICT}
```

## References
- https://istio.io/latest/docs/reference/config/security/peer_authentication/ (`UNSET`:
  "Inherit from parent, if has one. Otherwise treated as PERMISSIVE")
- istio/istio `pilot/pkg/security/authn/policy_applier.go` (`ComposePeerAuthentication`) and
  `pilot/pkg/model/authentication.go` (mesh-wide UNSET is PERMISSIVE)
- https://istio.io/latest/docs/tasks/security/authentication/mtls-migration/
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from servegate.clusterfacts import mesh_strict, namespace_strict
from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.istio._mesh import mapping, requires_mtls
from servegate.rules.istio._peerauth import (
    DEFAULT_ROOT,
    ROOT_PARAM,
    STRICT,
    UNSET,
    Level,
    MeshPolicies,
    level,
    own_mode,
)

_WEAK = frozenset({"PERMISSIVE", "DISABLE"})


def _voided_by(pa: Resource, mesh: MeshPolicies) -> str:
    """What another unit of the environment may deploy that makes ``pa`` STRICT after all: a
    STRICT mesh-wide policy, or, for a workload policy, a STRICT namespace-wide one too."""
    if level(pa, mesh.root) is Level.WORKLOAD:
        return namespace_strict(pa.namespace or "", mesh.root)
    return mesh_strict(mesh.root)


def _judge(pa: Resource, mesh: MeshPolicies) -> Iterator[Violation]:
    who = f"PeerAuthentication {pa.name!r}"
    mode = own_mode(pa)
    if mode in _WEAK:
        yield Violation(
            ("spec", "mtls", "mode"), f"mTLS mode {mode}: the environment requires STRICT", who, pa
        )
    elif mode == UNSET and level(pa, mesh.root) is not Level.IGNORED:
        resolved = mesh.resolve(pa)
        if resolved.mode != STRICT:
            yield Violation(
                ("spec", "mtls", "mode"),
                f"mTLS mode UNSET inherits {resolved.mode} from {resolved.source}: the "
                "environment requires STRICT (set mode: STRICT, or a STRICT namespace-wide or "
                f"mesh-wide policy in {mesh.root})",
                who,
                pa,
                unless=_voided_by(pa, mesh) if resolved.unchecked_mesh else None,
            )
    for port, setting in mapping(pa.spec.get("portLevelMtls")).items():
        port_mode = str(mapping(setting).get("mode") or "").upper()
        if port_mode in _WEAK:
            yield Violation(
                ("spec", "portLevelMtls", port, "mode"),
                f"port {port} mTLS mode {port_mode}: the environment requires STRICT",
                who,
                pa,
            )


def check(resources: Sequence[Resource], ctx: Context) -> Iterator[Violation]:
    if not requires_mtls(ctx):
        return
    mesh = MeshPolicies.of(resources, ctx)
    for pa in mesh.policies:
        yield from _judge(pa, mesh)


RULE = rule(
    "istio.peer-authentication-strict",
    "mTLS is STRICT where the environment requires it",
    Severity.ERROR,
    Scope.UNIT,
    check,
    params={ROOT_PARAM: DEFAULT_ROOT},
    doc=__doc__,
)

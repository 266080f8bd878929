"""## What it does
Where the environment requires mutual TLS (`mtls: STRICT` in the profile, the default), flags a
PeerAuthentication whose mode, or any port-level mode (`portLevelMtls`), is `PERMISSIVE` or
`DISABLE`.

## Why is this bad?
PERMISSIVE accepts plaintext as well as mTLS, so any pod in the cluster (or anything that
reaches the pod network) can call the model without an identity, and authorization policies
that match principals or namespaces no longer see one. A single permissive port is enough.

## Example
```yaml
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: ml-prod}
spec:
  mtls: {mode: STRICT}
  portLevelMtls:
    8080: {mode: PERMISSIVE}
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
- https://istio.io/latest/docs/reference/config/security/peer_authentication/
- https://istio.io/latest/docs/tasks/security/authentication/mtls-migration/
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.istio._mesh import mapping, requires_mtls

_WEAK = frozenset({"PERMISSIVE", "DISABLE"})


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    if not requires_mtls(ctx):
        return
    who = f"PeerAuthentication {r.name!r}"
    mode = str(mapping(r.spec.get("mtls")).get("mode") or "").upper()
    if mode in _WEAK:
        yield Violation(
            ("spec", "mtls", "mode"), f"mTLS mode {mode}: the environment requires STRICT", who
        )
    for port, setting in mapping(r.spec.get("portLevelMtls")).items():
        port_mode = str(mapping(setting).get("mode") or "").upper()
        if port_mode in _WEAK:
            yield Violation(
                ("spec", "portLevelMtls", port, "mode"),
                f"port {port} mTLS mode {port_mode}: the environment requires STRICT",
                who,
            )


RULE = rule(
    "istio.peer-authentication-strict",
    "mTLS is STRICT where the environment requires it",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={"PeerAuthentication"},
    doc=__doc__,
)

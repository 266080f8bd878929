"""## What it does
Where the environment requires mutual TLS, flags a DestinationRule that sets `tls.mode: DISABLE`
(in `trafficPolicy`, a `portLevelSettings` entry or a subset) for a host inside the mesh: a
short name, `*.svc`, `*.svc.cluster.local`, `*.local` or `*`.

## Why is this bad?
The client sidecar then sends plaintext: against a STRICT server every call fails, against a
PERMISSIVE one the traffic and the caller's identity travel unprotected. External hosts are
not reported; those have their own TLS story.

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: fraud, namespace: ml-prod}
spec:
  host: fraud-predictor.ml-prod.svc.cluster.local
  trafficPolicy:
    tls: {mode: DISABLE}
```

## Use instead
```yaml
spec:
  host: fraud-predictor.ml-prod.svc.cluster.local
  trafficPolicy:
    tls: {mode: ISTIO_MUTUAL}
```

## References
- https://istio.io/latest/docs/reference/config/networking/destination-rule/#ClientTLSSettings-TLSmode
- https://istio.io/latest/docs/ops/configuration/traffic-management/tls-configuration/
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from servegate.model import Severity
from servegate.resource import FieldPath, Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.istio._mesh import items, mapping, requires_mtls

_MESH_SUFFIXES = (".svc", ".svc.cluster.local", ".local", ".cluster.local")


def mesh_host(host: str) -> bool:
    return host == "*" or "." not in host or host.endswith(_MESH_SUFFIXES)


def _policies(spec: dict[str, Any]) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    yield ("spec", "trafficPolicy"), mapping(spec.get("trafficPolicy"))
    for i, subset in enumerate(items(spec.get("subsets"))):
        yield ("spec", "subsets", i, "trafficPolicy"), mapping(mapping(subset).get("trafficPolicy"))


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    host = str(r.spec.get("host") or "")
    if not requires_mtls(ctx) or not mesh_host(host):
        return
    who = f"DestinationRule {r.name!r}"
    for path, policy in _policies(r.spec):
        if str(mapping(policy.get("tls")).get("mode") or "").upper() == "DISABLE":
            yield Violation((*path, "tls", "mode"), f"TLS DISABLE to mesh host {host!r}", who)
        for j, port in enumerate(items(policy.get("portLevelSettings"))):
            if str(mapping(mapping(port).get("tls")).get("mode") or "").upper() == "DISABLE":
                yield Violation(
                    (*path, "portLevelSettings", j, "tls", "mode"),
                    f"TLS DISABLE to mesh host {host!r} on a port",
                    who,
                )


RULE = rule(
    "istio.destination-rule-tls",
    "DestinationRules keep mTLS to mesh hosts",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={"DestinationRule"},
    doc=__doc__,
)

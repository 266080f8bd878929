"""## What it does
Flags an Istio AuthorizationPolicy that lets everyone in: an `ALLOW` policy (the default
action) with an empty rule (`- {}`), a source with `principals: ["*"]` or `namespaces: ["*"]`,
or, in production (and where the environment is unknown), a rule without `from` whose `to`
is not limited to probe and metrics paths (`/healthz`, `/metrics`...). A `DENY` policy with an
empty rule is fine: it denies everything.

## Why is this bad?
An ALLOW policy with an empty rule matches every request, so it switches authorization off for
the selected workloads while looking like a policy. `principals: ["*"]` matches any
authenticated workload in the mesh, and a rule without `from` accepts any caller, including
plaintext ones where mTLS is not strict.

## Example
```yaml
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-all, namespace: ml-prod}
spec:
  action: ALLOW
  rules:
  - {}
```

## Use instead
```yaml
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: fraud-model, namespace: ml-prod}
spec:
  action: ALLOW
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account"]
```

## References
- https://istio.io/latest/docs/reference/config/security/authorization-policy/ (allow-all
  and deny-all examples; "If there are no ALLOW policies for the workload, allow the request")
- https://istio.io/latest/docs/ops/best-practices/security/#use-allow-with-positive-matching
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.istio._mesh import PROBE_PATHS, is_prod, items, mapping


def probe_only(rule_body: dict[str, Any]) -> bool:
    """True when every operation of the rule is limited to probe/metrics paths."""
    ops = [mapping(mapping(t).get("operation")) for t in items(rule_body.get("to"))]
    if not ops:
        return False
    return all(
        op.get("paths") and set(map(str, items(op.get("paths")))) <= PROBE_PATHS for op in ops
    )


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    if str(r.spec.get("action") or "ALLOW").upper() != "ALLOW" or r.spec.get("provider"):
        return
    who = f"AuthorizationPolicy {r.name!r}"
    prod = is_prod(ctx)
    for i, body in enumerate(items(r.spec.get("rules"))):
        body = mapping(body)
        path = ("spec", "rules", i)
        if not body:
            yield Violation(path, "empty ALLOW rule matches every request", who)
            continue
        sources = [mapping(mapping(f).get("source")) for f in items(body.get("from"))]
        for j, source in enumerate(sources):
            for key in ("principals", "namespaces"):
                if "*" in items(source.get(key)):
                    yield Violation(
                        (*path, "from", j, "source", key), f"{key}: ['*'] allows any caller", who
                    )
        if prod and not sources and not probe_only(body):
            yield Violation(path, "ALLOW rule without 'from' accepts any caller in production", who)


RULE = rule(
    "istio.authz-allow-all",
    "AuthorizationPolicy does not allow everyone",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={"AuthorizationPolicy"},
    doc=__doc__,
)

"""## What it does
For an InferenceService in Knative mode (the deployment-mode annotation, or the cluster's
default `kserveDefaultDeploymentMode` when it is unset), in an environment with STRICT mTLS,
warns when the namespace's ALLOW AuthorizationPolicies admit the `knative-serving` namespace
but none of those rules lets its probes reach `/healthz`. A policy that admits nothing from
`knative-serving` is `istio.knative-activator`'s error (one cause, one finding).

## Why is this bad?
In Knative mode requests reach the model through the activator when it scales from zero, and
Knative's system pods probe and scrape every revision. Once any ALLOW policy selects the model,
everything else is denied: the revision never becomes Ready, or cold starts fail with 403.

## Example
```yaml
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: fraud, namespace: ml-prod}
spec:
  action: ALLOW
  rules:
  - from:
    - source:
        namespaces: ["knative-serving"]
    to:
    - operation:
        paths: ["/v1/models/*"]
```

## Use instead
```yaml
spec:
  action: ALLOW
  rules:
  - from:
    - source:
        namespaces: ["knative-serving"]
    to:
    - operation:
        paths: ["/v1/models/*", "/healthz"]
```

## References
- https://knative.dev/docs/serving/istio-authorization/
- https://kserve.github.io/website/docs/admin-guide/serverless/servicemesh
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.istio._mesh import KNATIVE_NAMESPACE, items, mapping, requires_mtls
from servegate.rules.kserve._isvc import effective_mode

_KNATIVE_PRINCIPAL = f"cluster.local/ns/{KNATIVE_NAMESPACE}/"


def _admits_knative(body: dict[str, Any]) -> bool:
    sources = [mapping(mapping(f).get("source")) for f in items(body.get("from"))]
    if not sources:
        return True
    for source in sources:
        if KNATIVE_NAMESPACE in items(source.get("namespaces")):
            return True
        if any(str(p).startswith(_KNATIVE_PRINCIPAL) for p in items(source.get("principals"))):
            return True
    return False


def _admits_probe(body: dict[str, Any]) -> bool:
    ops = [mapping(mapping(t).get("operation")) for t in items(body.get("to"))]
    return not ops or any(not op.get("paths") or "/healthz" in items(op.get("paths")) for op in ops)


def check(resources: Sequence[Resource], ctx: Context) -> Iterator[Violation]:
    if not requires_mtls(ctx):
        return
    knative = {
        r.namespace
        for r in resources
        if r.kind == "InferenceService" and effective_mode(r, ctx) == "Knative"
    }
    for ns in sorted(n or "" for n in knative):
        policies = [
            r
            for r in resources
            if r.kind == "AuthorizationPolicy"
            and (r.namespace or "") == ns
            and str(r.spec.get("action") or "ALLOW").upper() == "ALLOW"
            and not r.spec.get("provider")
        ]
        if not policies:
            continue  # no ALLOW policy: Istio allows every request
        rules = [mapping(b) for p in policies for b in items(p.spec.get("rules"))]
        knative_rules = [b for b in rules if _admits_knative(b)]
        where = f"namespace {ns!r}" if ns else "InferenceService namespace"
        if knative_rules and not any(_admits_probe(b) for b in knative_rules):
            yield Violation(
                ("spec", "rules"),
                "no ALLOW rule admits Knative's probes to /healthz",
                where,
                policies[0],
            )


RULE = rule(
    "istio.knative-authz",
    "Knative-mode models admit the knative-serving namespace",
    Severity.WARNING,
    Scope.UNIT,
    check,
    doc=__doc__,
)

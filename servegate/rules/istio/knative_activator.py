"""## What it does
For an InferenceService in Knative mode (the `serving.kserve.io/deploymentMode` annotation is
`Knative` or `Serverless`, or unset where the cluster's default is Knative: the policy parameter
`kserveDefaultDeploymentMode`, as for the other KServe rules), flags the Istio
AuthorizationPolicies of its namespace that select the model's pods when they deny Knative's
activator: ALLOW policies of which no rule admits the activator's identity
(`<trust domain>/ns/knative-serving/sa/activator`, or the `knative-serving` namespace) for a
prediction request (any path, `POST`), or a DENY policy that matches it. Not checked when the
`mesh` parameter is `none`.

## Why is this bad?
In Knative mode the activator sits in the request path whenever the model scales from zero and
whenever spare capacity falls below the target burst capacity (200 by default): it buffers and
proxies the prediction. Since Knative v1.11 it runs as its own service account `activator`
(knative/serving#14133); a policy that admits only the ingress gateway, or Knative's old
`controller` account, answers those predictions with HTTP 403, and a scaled-to-zero model never
serves at all.

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
        principals:
        - cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account
        - cluster.local/ns/knative-serving/sa/controller
```

## Use instead
```yaml
spec:
  action: ALLOW
  rules:
  - from:
    - source:
        principals:
        - cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account
        - cluster.local/ns/knative-serving/sa/activator
```

## References
- https://github.com/knative/serving/pull/14133 (activator service account, Knative v1.11)
- https://knative.dev/docs/serving/istio-authorization/
- https://knative.dev/docs/serving/load-balancing/target-burst-capacity/
- Istio AuthorizationPolicy semantics (ALLOW/DENY, principal wildcards):
  https://istio.io/latest/docs/reference/config/security/authorization-policy/
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.istio._mesh import (
    KNATIVE_ACTIVATOR_SA,
    KNATIVE_NAMESPACE,
    items,
    mapping,
    mesh_mode,
)
from servegate.rules.kserve._isvc import effective_mode

ACTIVATOR = f"cluster.local/ns/{KNATIVE_NAMESPACE}/sa/{KNATIVE_ACTIVATOR_SA}"
_SUFFIX = f"/ns/{KNATIVE_NAMESPACE}/sa/{KNATIVE_ACTIVATOR_SA}"
#: What a prediction request looks like to the model's sidecar: the activator POSTs to it.
_REQUEST = {"method": "POST", "path": "/v1/models/model:predict", "port": "8012"}


def _matches(pattern: str, value: str) -> bool:
    """Istio string match: exact, ``*``, ``prefix*`` or ``*suffix``."""
    if pattern == "*":
        return True
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    if pattern.startswith("*"):
        return value.endswith(pattern[1:])
    return pattern == value


def _principal_matches(pattern: str) -> bool:
    if _matches(pattern, ACTIVATOR):
        return True
    # another trust domain than cluster.local names the same workload
    return pattern.endswith(_SUFFIX) and "*" not in pattern


def _source_matches(source: Mapping[str, Any]) -> bool:
    """Whether one ``from.source`` matches the activator (every field given must match)."""
    principals = [str(p) for p in items(source.get("principals"))]
    namespaces = [str(n) for n in items(source.get("namespaces"))]
    if principals and not any(_principal_matches(p) for p in principals):
        return False
    if namespaces and not any(_matches(n, KNATIVE_NAMESPACE) for n in namespaces):
        return False
    if any(_principal_matches(str(p)) for p in items(source.get("notPrincipals"))):
        return False
    if any(_matches(str(n), KNATIVE_NAMESPACE) for n in items(source.get("notNamespaces"))):
        return False
    # other source fields (ipBlocks, requestPrincipals...) do not describe the activator
    others = set(source) - {"principals", "namespaces", "notPrincipals", "notNamespaces"}
    return not others


def _operation_matches(op: Mapping[str, Any]) -> bool:
    for key, value in (("methods", "method"), ("paths", "path"), ("ports", "port")):
        listed = [str(v) for v in items(op.get(key))]
        if listed and not any(_matches(v, _REQUEST[value]) for v in listed):
            return False
        negated = [str(v) for v in items(op.get("not" + key[0].upper() + key[1:]))]
        if any(_matches(v, _REQUEST[value]) for v in negated):
            return False
    return not (set(op) - {"methods", "paths", "ports", "notMethods", "notPaths", "notPorts"})


def _rule_matches(body: Mapping[str, Any]) -> bool:
    """Whether one policy rule matches a prediction proxied by the activator."""
    sources = [mapping(mapping(f).get("source")) for f in items(body.get("from"))]
    if sources and not any(_source_matches(s) for s in sources):
        return False
    ops = [mapping(mapping(t).get("operation")) for t in items(body.get("to"))]
    if ops and not any(_operation_matches(o) for o in ops):
        return False
    return not items(body.get("when"))  # conditions servegate cannot evaluate: not a match


def _selects(policy: Resource, isvc: Resource) -> bool:
    selector = mapping(mapping(policy.spec.get("selector")).get("matchLabels"))
    if not policy.spec.get("selector"):
        return not policy.spec.get("targetRef") and not policy.spec.get("targetRefs")
    pod_labels = {
        **{str(k): str(v) for k, v in isvc.labels.items()},
        "serving.kserve.io/inferenceservice": isvc.name,
        "component": "predictor",
    }
    return all(pod_labels.get(str(k)) == str(v) for k, v in selector.items())


def check(resources: Sequence[Resource], ctx: Context) -> Iterator[Violation]:
    if mesh_mode(ctx) == "none":
        return
    policies = [r for r in resources if r.kind == "AuthorizationPolicy"]
    if not policies:
        return
    for isvc in resources:
        if isvc.kind != "InferenceService" or effective_mode(isvc, ctx) != "Knative":
            continue
        applying = [
            p
            for p in policies
            if (p.namespace or "") == (isvc.namespace or "")
            and not p.spec.get("provider")
            and _selects(p, isvc)
        ]
        who = f"InferenceService {isvc.name!r}"
        for p in applying:
            action = str(p.spec.get("action") or "ALLOW").upper()
            if action == "DENY" and any(
                _rule_matches(mapping(b)) for b in items(p.spec.get("rules"))
            ):
                yield Violation(
                    ("spec", "rules"),
                    f"DENY policy {p.name!r} matches Knative's activator ({ACTIVATOR}), which "
                    "proxies predictions in Knative mode: they get 403",
                    who,
                    p,
                )
        allow = [p for p in applying if str(p.spec.get("action") or "ALLOW").upper() == "ALLOW"]
        if allow and not any(
            _rule_matches(mapping(b)) for p in allow for b in items(p.spec.get("rules"))
        ):
            yield Violation(
                ("spec", "rules"),
                f"no ALLOW rule admits Knative's activator ({ACTIVATOR}) to send predictions: "
                "scale-from-zero and buffered requests get 403",
                who,
                allow[0],
            )


RULE = rule(
    "istio.knative-activator",
    "Knative-mode models admit the activator",
    Severity.ERROR,
    Scope.UNIT,
    check,
    doc=__doc__,
)

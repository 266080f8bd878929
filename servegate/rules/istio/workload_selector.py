"""## What it does
Flags an Istio workload selector that can never select the pods it was meant for:
`spec.selector.matchLabels` of PeerAuthentication, AuthorizationPolicy, RequestAuthentication,
Telemetry and WasmPlugin, and `spec.workloadSelector.labels` of Sidecar and EnvoyFilter. A key
or value holding `*`, an empty key, an empty value, or a value that is no valid Kubernetes
label value (more than 63 characters, or characters other than letters, digits, `-`, `_` and
`.`, or not starting and ending with a letter or digit).

## Why is this bad?
Istio matches selector labels exactly (no globs): `app: "*"` or `host: "*.ml.svc"` selects
nothing, because no pod can carry such a label, and the upstream CRD refuses `*` outright
("wildcard not allowed in label value match"). An empty value selects only pods that carry the
label with an empty value, almost always an unrendered template variable. Either way the STRICT
mTLS or the authorization policy the author meant to add protects no workload.

## Example
```yaml
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: prom-metrics, namespace: ml-prod}
spec:
  selector:
    matchLabels:
      host: "*.ml-prod.svc.cluster.local"
  mtls: {mode: STRICT}
```

## Use instead
```yaml
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: prom-metrics, namespace: ml-prod}
spec:
  selector:
    matchLabels:
      app: fraud-model
  mtls: {mode: STRICT}
```

## References
- istio/istio `manifests/charts/base/files/crd-all.gen.yaml` (`selector.matchLabels`
  x-kubernetes-validations: "wildcard not allowed in label value match", "key must not be
  empty")
- istio/istio `pkg/config/labels/instance.go` (`SubsetOf`: exact key and value match)
- https://github.com/istio/istio/issues/35871
- https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import FieldPath, Resource, as_dict
from servegate.rules.base import Context, Scope, Violation, rule

_SELECTOR_KINDS = {
    "PeerAuthentication": ("selector", "matchLabels"),
    "AuthorizationPolicy": ("selector", "matchLabels"),
    "RequestAuthentication": ("selector", "matchLabels"),
    "Telemetry": ("selector", "matchLabels"),
    "WasmPlugin": ("selector", "matchLabels"),
    "Sidecar": ("workloadSelector", "labels"),
    "EnvoyFilter": ("workloadSelector", "labels"),
}
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def _value_problem(value: object) -> str | None:
    text = str(value)
    if "*" in text:
        return f"wildcard in label value {text!r}: Istio matches labels exactly"
    if text == "":
        return "empty label value: selects only pods whose label is set to ''"
    if len(text) > 63 or not _LABEL_VALUE.match(text):
        return f"{text!r} is not a valid label value: no pod can carry it"
    return None


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    outer, inner = _SELECTOR_KINDS[r.kind]
    path: FieldPath = ("spec", outer, inner)
    who = f"{r.kind} {r.name!r}"
    for key, value in as_dict(as_dict(r.spec.get(outer)).get(inner)).items():
        key = str(key)
        if not key or "*" in key:
            yield Violation(
                (*path, key),
                f"selector key {key!r} can match no pod label (empty or wildcard)",
                who,
            )
            continue
        problem = _value_problem(value)
        if problem is not None:
            yield Violation(
                (*path, key), f"selector {key}: {problem}; the policy applies to no pod", who
            )


RULE = rule(
    "istio.workload-selector",
    "Istio selectors can match pods",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds=set(_SELECTOR_KINDS),
    doc=__doc__,
)

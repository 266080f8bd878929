"""## What it does
Warns when an Istio AuthorizationPolicy's `selector.matchLabels` matches no workload the
overlay defines in its namespace (pod template labels; for an InferenceService its labels,
its components' `labels`, and the labels KServe adds: `serving.kserve.io/inferenceservice`,
`component`, `app`, and Knative's `serving.knative.dev/*` labels that start with its name).
Policies in namespaces without workloads in the overlay are not judged.

## Why is this bad?
A selector that matches nothing protects nothing: the policy looks like access control in
review while the model accepts every caller. Typos and label renames cause it.

## Example
```yaml
kind: AuthorizationPolicy
metadata: {name: fraud, namespace: ml-prod}
spec:
  selector:
    matchLabels:
      serving.kserve.io/inferenceservice: frud
```

## Use instead
```yaml
spec:
  selector:
    matchLabels:
      serving.kserve.io/inferenceservice: fraud
```

## References
- https://istio.io/latest/docs/reference/config/type/workload-selector/
- https://istio.io/latest/docs/reference/config/security/authorization-policy/
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from servegate.model import Severity
from servegate.podspecs import pod_specs
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule


def _labels(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def workload_labels(r: Resource) -> Iterator[dict[str, str]]:
    for pod in pod_specs(r):
        labels = _labels(pod.metadata.get("labels"))
        if pod.component is not None:
            component = pod.component
            labels.update(_labels(pod.spec.get("labels")))
            labels.setdefault("serving.kserve.io/inferenceservice", r.name)
            labels.setdefault("component", component)
            labels.setdefault("app", f"isvc.{r.name}-{component}")
        yield labels


_KNATIVE = "serving.knative.dev/"
_ISVC = "serving.kserve.io/inferenceservice"


def _matches(labels: dict[str, str], wanted: dict[str, str]) -> bool:
    for key, value in wanted.items():
        if labels.get(key) == value:
            continue
        # Knative names revisions and services after the InferenceService (``fraud-predictor-...``).
        isvc = labels.get(_ISVC)
        if not (key.startswith(_KNATIVE) and isvc and value.startswith(f"{isvc}-")):
            return False
    return True


def check(resources: Sequence[Resource], ctx: Context) -> Iterator[Violation]:
    by_namespace: dict[str | None, list[dict[str, str]]] = {}
    for r in resources:
        by_namespace.setdefault(r.namespace, []).extend(workload_labels(r))
    for p in resources:
        if p.kind != "AuthorizationPolicy":
            continue
        selector = p.spec.get("selector")
        wanted = _labels(selector.get("matchLabels")) if isinstance(selector, dict) else {}
        pods = by_namespace.get(p.namespace, [])
        if not wanted or not pods:
            continue
        if not any(_matches(labels, wanted) for labels in pods):
            shown = ", ".join(f"{k}={v}" for k, v in wanted.items())
            yield Violation(
                ("spec", "selector", "matchLabels"),
                f"selector {shown} matches no workload in the namespace",
                f"AuthorizationPolicy {p.name!r}",
                p,
            )


RULE = rule(
    "refs.authz-selector",
    "AuthorizationPolicy selectors match a workload",
    Severity.WARNING,
    Scope.UNIT,
    check,
    doc=__doc__,
)

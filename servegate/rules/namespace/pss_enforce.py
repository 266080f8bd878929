"""## What it does
Flags a Namespace that holds workloads (in the same overlay) but does not carry the label
`pod-security.kubernetes.io/enforce` at least at the Pod Security level the overlay is checked
at (`--pss-level`, else its environment's `podSecurity`, else its policy set's; `restricted`
unless something says otherwise), or lacks `pod-security.kubernetes.io/enforce-version`. One
exception: where the environment allows a privileged namespace (`allowPrivilegedNamespace:
true`) and the mesh is Istio sidecars without CNI (`mesh: sidecar`), `privileged` is accepted,
as Istio requires for its `istio-init` container; the namespace must then still warn and audit
at that level.

## Why is this bad?
servegate checks Pod Security before sync; the cluster's Pod Security Admission enforces it
after. Without the `enforce` label the cluster admits any pod in the namespace, including ones
created later by controllers or by hand. Without `enforce-version` the meaning of the level
changes silently when the cluster is upgraded.

## Example
```yaml
apiVersion: v1
kind: Namespace
metadata:
  name: ml-prod
  labels:
    pod-security.kubernetes.io/enforce: baseline
```

## Use instead
```yaml
apiVersion: v1
kind: Namespace
metadata:
  name: ml-prod
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/enforce-version: v1.33
```

## References
- https://istio.io/latest/docs/setup/additional-setup/pod-security-admission/
- https://kubernetes.io/docs/concepts/security/pod-security-admission/#pod-security-admission-labels-for-namespaces
- https://kubernetes.io/docs/tasks/configure-pod-container/enforce-standards-namespace-labels/
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.istio._mesh import mesh_mode
from servegate.rules.namespace._workloads import namespaces_with_workloads

ENFORCE = "pod-security.kubernetes.io/enforce"
ENFORCE_VERSION = "pod-security.kubernetes.io/enforce-version"
_RANK = {"privileged": 0, "baseline": 1, "restricted": 2}


def _privileged_mesh(ctx: Context, labels: dict[str, object], required: str) -> bool:
    """Istio sidecars without CNI in an environment that allows a privileged namespace, with
    warn and audit still at the required level."""
    return (
        ctx.environment.get("allowPrivilegedNamespace") is True
        and mesh_mode(ctx) == "sidecar"
        and all(
            _RANK.get(str(labels.get(f"pod-security.kubernetes.io/{m}")), -1)
            >= _RANK.get(required, 2)
            for m in ("warn", "audit")
        )
    )


def check(resources: Sequence[Resource], ctx: Context) -> Iterator[Violation]:
    required = ctx.pss_level.value  # the unit's plan: --pss-level, else its environment's
    need = _RANK[required]
    for ns in namespaces_with_workloads(resources):
        labels = ns.labels
        level = labels.get(ENFORCE)
        if level == "privileged" and _privileged_mesh(ctx, labels, required):
            level = required
        if level is None:
            yield Violation(
                ("metadata", "labels", ENFORCE),
                f"no {ENFORCE} label: set it to {required!r}",
                f"namespace {ns.name!r}",
                ns,
            )
        elif _RANK.get(str(level), -1) < need:
            yield Violation(
                ("metadata", "labels", ENFORCE),
                f"{ENFORCE} is {level!r}, the environment requires {required!r}",
                f"namespace {ns.name!r}",
                ns,
            )
        if not labels.get(ENFORCE_VERSION):
            yield Violation(
                ("metadata", "labels", ENFORCE_VERSION),
                f"no {ENFORCE_VERSION} label: pin the Pod Security version",
                f"namespace {ns.name!r}",
                ns,
            )


RULE = rule(
    "namespace.pss-enforce",
    "Namespaces holding workloads enforce Pod Security",
    Severity.ERROR,
    Scope.UNIT,
    check,
    doc=__doc__,
)

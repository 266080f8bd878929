"""## What it does
Flags a Namespace, whether or not the checked set puts pods in it yet, when its Pod Security
labels let admission enforce less than its environment requires: no
`pod-security.kubernetes.io/enforce` label, or one below the level the overlay is checked at
(`--pss-level`, else its environment profile's `podSecurity`, else its policy set's;
`restricted` unless something says otherwise);
no `pod-security.kubernetes.io/enforce-version`, or one pinned below the profile's
`podSecurityMinVersion`; and any Pod Security label admission cannot read (an invalid
`enforce` level is enforced as `restricted`, an invalid version as `latest`, an invalid `warn`
or `audit` level as `privileged`).

servegate judges the Namespace's pods at the stricter of its `enforce` label and the
environment's level, at its `enforce-version` (`servegate.podsecurity`): relabelling a
Namespace can never weaken the check, and this rule says where the cluster would.

One exception, where the operator's environment allows a privileged namespace
(`allowPrivilegedNamespace: true`) and the mesh is Istio sidecars without CNI (`mesh:
sidecar`): `privileged` is accepted, as Istio requires for its `istio-init` container, when
the namespace still warns and audits at the environment's level. Its pods are still judged at
that level, apart from the containers Istio injects (`servegate.podsecurity`).

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
from servegate.podsecurity import (
    ENFORCE,
    ENFORCE_VERSION,
    mesh_exempt,
    namespace_policy,
    rank,
    requirement,
    show,
)
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule


def check(resources: Sequence[Resource], ctx: Context) -> Iterator[Violation]:
    required = requirement(ctx)  # the unit's plan: level, podSecurityMinVersion
    need = required.level.value
    for ns in (r for r in resources if r.kind == "Namespace" and r.api_version == "v1"):
        who = f"namespace {ns.name!r}"
        labels = ns.labels
        policy = namespace_policy(labels)
        for label, value, why in policy.errors:
            yield Violation(
                ("metadata", "labels", label),
                f"{label}: {value!r} is not a Pod Security value ({why})",
                who,
                ns,
            )
        level = labels.get(ENFORCE)
        if mesh_exempt(policy, required):
            level = need
        if level is None:
            yield Violation(
                ("metadata", "labels", ENFORCE),
                f"no {ENFORCE} label: set it to {need!r}",
                who,
                ns,
            )
        elif rank(str(level)) < rank(need):
            yield Violation(
                ("metadata", "labels", ENFORCE),
                f"{ENFORCE} is {level!r}, the environment requires {need!r} (servegate judges "
                f"the pods at {need!r}; the cluster would admit less)",
                who,
                ns,
            )
        if not labels.get(ENFORCE_VERSION):
            yield Violation(
                ("metadata", "labels", ENFORCE_VERSION),
                f"no {ENFORCE_VERSION} label: pin the Pod Security version",
                who,
                ns,
            )
        elif (
            required.min_version is not None
            and policy.enforce.version is not None
            and policy.enforce.version < required.min_version
        ):
            yield Violation(
                ("metadata", "labels", ENFORCE_VERSION),
                f"{ENFORCE_VERSION} is {show(policy.enforce.version)}, below the environment's "
                f"podSecurityMinVersion {show(required.min_version)}",
                who,
                ns,
            )


RULE = rule(
    "namespace.pss-enforce",
    "Namespaces enforce Pod Security",
    Severity.ERROR,
    Scope.UNIT,
    check,
    doc=__doc__,
)

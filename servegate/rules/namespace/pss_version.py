"""## What it does
Notes a Namespace holding workloads whose `pod-security.kubernetes.io/enforce-version` pins a
Pod Security version older than the oldest servegate has checks and upstream conformance
fixtures for (v1.25): its pods are judged at that oldest version instead, and the note says so.

## Why is this bad?
Admission judges a pod at the version its Namespace pins, so servegate does too
(`servegate.podsecurity`). For a version it cannot judge exactly it uses the nearest it can;
the checks of v1.22 to v1.24 differ from v1.25 only in details (the Windows pod relaxation of
v1.25), but the result is not exact, and a pin that old is due for an update.

## Example
```yaml
metadata:
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/enforce-version: v1.23
```

## Use instead
```yaml
    pod-security.kubernetes.io/enforce-version: v1.33
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-admission/#pod-security-admission-labels-for-namespaces
- kubernetes/pod-security-admission `api/helpers.go` (`PolicyToEvaluate`, `ParseVersion`)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from servegate.model import Severity
from servegate.podsecurity import ENFORCE_VERSION, judge, requirement
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.namespace._workloads import namespaces_with_workloads


def check(resources: Sequence[Resource], ctx: Context) -> Iterator[Violation]:
    from servegate.schema.validate import supported_versions

    oldest = supported_versions()[0]
    required = requirement(ctx)
    for ns in namespaces_with_workloads(resources):
        judged = judge(ns, required, ctx.k8s_version, oldest)
        if judged.note:
            yield Violation(
                ("metadata", "labels", ENFORCE_VERSION),
                f"{ENFORCE_VERSION} {judged.note}",
                f"namespace {ns.name!r}",
                ns,
            )


RULE = rule(
    "namespace.pss-version",
    "Namespaces pin a Pod Security version servegate can judge",
    Severity.NOTE,
    Scope.UNIT,
    check,
    doc=__doc__,
)

"""## What it does
Warns about a ServiceAccount that does not set `automountServiceAccountToken: false`.

## Why is this bad?
Model servers do not call the Kubernetes API, yet by default every pod gets a token for its
service account mounted at `/var/run/secrets/kubernetes.io/serviceaccount`. Anyone who gets
code execution in the model (a pickled model is code) gets that token. Pods that really need
it can opt in with `automountServiceAccountToken: true` in their own spec.

## Example
```yaml
apiVersion: v1
kind: ServiceAccount
metadata: {name: kserve-model-sa}
```

## Use instead
```yaml
apiVersion: v1
kind: ServiceAccount
metadata: {name: kserve-model-sa}
automountServiceAccountToken: false
```

## References
- https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#opt-out-of-api-credential-automounting
- https://kubernetes.io/docs/concepts/security/service-accounts/
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    if r.body.get("automountServiceAccountToken") is not False:
        # Point at the field when set, else at metadata (a missing top-level key has no line).
        present = "automountServiceAccountToken" in r.body
        yield Violation(
            ("automountServiceAccountToken",) if present else ("metadata",),
            "token is mounted into every pod: set automountServiceAccountToken: false",
            f"ServiceAccount {r.name!r}",
        )


RULE = rule(
    "rbac.automount-token",
    "Service accounts do not automount API tokens",
    Severity.WARNING,
    Scope.OBJECT,
    check,
    kinds={"ServiceAccount"},
    doc=__doc__,
)

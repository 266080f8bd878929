"""## What it does
Flags a Namespace that carries both `istio-injection` and `istio.io/rev`.

## Why is this bad?
The two labels select different injector webhooks; with both set, which sidecar (if any) the
pods get depends on webhook ordering and Istio's precedence rules (`istio-injection` wins),
and a revision-based canary upgrade silently does nothing.

## Example
```yaml
metadata:
  labels:
    istio-injection: enabled
    istio.io/rev: 1-22
```

## Use instead
```yaml
metadata:
  labels:
    istio.io/rev: 1-22
```

## References
- https://istio.io/latest/docs/setup/upgrade/canary/ (remove istio-injection when using revisions)
- https://istio.io/latest/docs/setup/additional-setup/sidecar-injection/#controlling-the-injection-policy
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.istio._mesh import INJECTION, REVISION


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    labels = r.labels
    if INJECTION in labels and REVISION in labels:
        yield Violation(
            ("metadata", "labels", REVISION),
            f"both {INJECTION} and {REVISION} are set: keep one",
            f"namespace {r.name!r}",
        )


RULE = rule(
    "istio.injection-conflict",
    "Namespaces do not mix istio-injection and istio.io/rev",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={"Namespace"},
    doc=__doc__,
)

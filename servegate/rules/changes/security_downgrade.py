"""## What it does
With `check --base REF`, flags a change that lowers an environment's security since REF: a
Namespace's Pod Security `pod-security.kubernetes.io/enforce` level (restricted > baseline >
privileged; removing the label means privileged), an Istio PeerAuthentication's mTLS mode
(STRICT > PERMISSIVE/UNSET > DISABLE), or `podSecurity`/`mtls` in the repo's own environment
profiles (`environments/*.yaml`).

## Why is this bad?
A downgrade hidden in a large change is easy to miss in review, and it silently widens what every
workload in the environment may do.

## Example
```yaml
metadata:
  labels:
    pod-security.kubernetes.io/enforce: baseline   # was restricted
```

## Use instead
Keep the level; exempt the one workload that needs more, with a reason, in `servegate.yaml`.

## References
- Kubernetes Pod Security Admission labels
- Istio PeerAuthentication mutual TLS modes
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule

ENFORCE = "pod-security.kubernetes.io/enforce"
_RANKS: dict[str, dict[str, int]] = {
    "podSecurity": {"privileged": 0, "baseline": 1, "restricted": 2},
    "mtls": {"DISABLE": 0, "PERMISSIVE": 1, "UNSET": 1, "STRICT": 2},
}
#: What an absent value means: no label is privileged; no mode inherits (treated as PERMISSIVE).
_ABSENT = {"podSecurity": "privileged", "mtls": "UNSET"}


def downgrade(field: str, before: Any, after: Any) -> str | None:
    """A one-line reason when ``after`` is weaker than ``before`` for ``field``, else None."""
    ranks = _RANKS[field]
    old = str(before) if before is not None else _ABSENT[field]
    new = str(after) if after is not None else _ABSENT[field]
    if old not in ranks or new not in ranks or ranks[new] >= ranks[old]:
        return None
    shown = new if after is not None else f"{new} (unset)"
    return f"{field} lowered from {old} to {shown}"


def check(before: Resource | None, after: Resource, ctx: Context) -> Iterator[Violation]:
    if before is None:
        return
    if after.kind == "Namespace":
        labels = before.labels
        reason = downgrade("podSecurity", labels.get(ENFORCE), after.labels.get(ENFORCE))
        if reason and ENFORCE in labels:
            yield Violation(("metadata", "labels", ENFORCE), reason=reason, detail=ENFORCE)
    elif after.kind == "PeerAuthentication":
        old_mtls = before.spec.get("mtls")
        old = old_mtls.get("mode") if isinstance(old_mtls, dict) else None
        mtls = after.spec.get("mtls")
        new = mtls.get("mode") if isinstance(mtls, dict) else None
        reason = downgrade("mtls", old, new)
        if reason and old is not None:
            yield Violation(("spec", "mtls", "mode"), reason=reason, detail="mTLS")


RULE = rule(
    "changes.security-downgrade",
    "Changes may not lower an environment's security",
    Severity.ERROR,
    Scope.CHANGE,
    check,
    doc=__doc__,
    kinds={"Namespace", "PeerAuthentication"},
)

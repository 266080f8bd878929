"""## What it does
Flags seccomp profiles that switch seccomp off: `securityContext.seccompProfile.type` other than
`RuntimeDefault` or `Localhost` (that is, `Unconfined`) at pod or container level. Policies older
than 1.19 read the alpha annotations `seccomp.security.alpha.kubernetes.io/pod` and
`container.seccomp.security.alpha.kubernetes.io/<container>` instead.

At the `restricted` level `pss.seccomp-restricted` replaces this rule (upstream's
`seccompProfile_restricted` overrides `seccompProfile_baseline`), so a defect is reported once.

## Why is this bad?
Seccomp blocks the system calls behind most container escapes. `Unconfined` removes that filter
from the model server, which parses untrusted input all day. Pod Security `baseline` forbids it.

## Example
```yaml
spec:
  predictor:
    securityContext:
      seccompProfile: {type: Unconfined}
    model:
      modelFormat: {name: sklearn}
```

## Use instead
```yaml
spec:
  predictor:
    securityContext:
      seccompProfile: {type: RuntimeDefault}
    model:
      modelFormat: {name: sklearn}
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline (Seccomp)
- kubernetes/pod-security-admission `policy/check_seccompProfile_baseline.go`
  (`seccompProfile_baseline`, 1.0 annotations, 1.19 field; overridden by
  `seccompProfile_restricted` from 1.19)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from servegate.model import Severity
from servegate.podspecs import PodSpecView
from servegate.rules.base import Context, Level, Scope, Violation, rule
from servegate.rules.pss._psa import pod_security_context, restricted_overrides, who

ALLOWED_TYPES = frozenset({"RuntimeDefault", "Localhost"})
POD_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod"
CONTAINER_ANNOTATION_PREFIX = "container.seccomp.security.alpha.kubernetes.io/"


def _allowed_annotation(value: Any) -> bool:
    return value in ("runtime/default", "docker/default") or (
        isinstance(value, str) and value.startswith("localhost/")
    )


def check_v1_0(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    annotations = pod.annotations
    keys = [POD_ANNOTATION, *(CONTAINER_ANNOTATION_PREFIX + c.name for c in pod.containers)]
    for key in keys:
        if key in annotations and not _allowed_annotation(annotations[key]):
            yield Violation(
                (*pod.metadata_path, "annotations", key),
                f"seccomp annotation {key}={annotations[key]!r} is not allowed",
                who(pod),
            )


def check_v1_19(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    profile = pod_security_context(pod).get("seccompProfile")
    if isinstance(profile, dict) and profile.get("type") not in ALLOWED_TYPES:
        yield Violation(
            pod.at("securityContext", "seccompProfile", "type"),
            f"seccompProfile.type {profile.get('type')!r} is not allowed",
            who(pod),
        )
    for c in pod.containers:
        profile = c.security_context.get("seccompProfile")
        if isinstance(profile, dict) and profile.get("type") not in ALLOWED_TYPES:
            yield Violation(
                c.at("securityContext", "seccompProfile", "type"),
                f"seccompProfile.type {profile.get('type')!r} is not allowed",
                who(pod, c),
            )


RULE = rule(
    "pss.seccomp-baseline",
    "Seccomp must not be disabled",
    Severity.ERROR,
    Scope.POD,
    check_v1_0,
    level=Level.BASELINE,
    versions={(1, 0): check_v1_0, (1, 19): restricted_overrides(check_v1_19)},
    doc=__doc__,
)

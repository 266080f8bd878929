"""## What it does
Flags AppArmor profiles other than the runtime default or a profile loaded on the node: the
`appArmorProfile.type` field (pod or container securityContext) set to anything but
`RuntimeDefault` or `Localhost`, and the deprecated
`container.apparmor.security.beta.kubernetes.io/<container>` annotation set to anything but
`runtime/default`, `localhost/<profile>` or empty. Both channels are checked, as upstream does.

## Why is this bad?
`Unconfined` switches AppArmor off for the container, removing one of the layers that stops a
compromised model server from touching the node. Pod Security `baseline` forbids it.

## Example
```yaml
spec:
  predictor:
    securityContext:
      appArmorProfile: {type: Unconfined}
    model:
      modelFormat: {name: sklearn}
```

## Use instead
```yaml
spec:
  predictor:
    securityContext:
      appArmorProfile: {type: RuntimeDefault}
    model:
      modelFormat: {name: sklearn}
```

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline (AppArmor)
- kubernetes/pod-security-admission `policy/check_appArmorProfile.go` (`appArmorProfile`, 1.0;
  the field check was added to the 1.0 policy in Kubernetes 1.30)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.podspecs import PodSpecView
from servegate.rules.base import Context, Level, Scope, Violation, rule
from servegate.rules.pss._psa import pod_security_context, who

ALLOWED_TYPES = frozenset({"RuntimeDefault", "Localhost"})
ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/"


def _allowed_annotation(value: object) -> bool:
    return value in ("", None, "runtime/default") or (
        isinstance(value, str) and value.startswith("localhost/")
    )


def check_v1_0(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    profile = pod_security_context(pod).get("appArmorProfile")
    if isinstance(profile, dict) and profile.get("type") not in ALLOWED_TYPES:
        yield Violation(
            pod.at("securityContext", "appArmorProfile", "type"),
            f"AppArmor profile type {profile.get('type')!r} is not allowed",
            who(pod),
        )
    for c in pod.containers:
        profile = c.security_context.get("appArmorProfile")
        if isinstance(profile, dict) and profile.get("type") not in ALLOWED_TYPES:
            yield Violation(
                c.at("securityContext", "appArmorProfile", "type"),
                f"AppArmor profile type {profile.get('type')!r} is not allowed",
                who(pod, c),
            )
    for key, value in pod.annotations.items():
        if (
            isinstance(key, str)
            and key.startswith(ANNOTATION_PREFIX)
            and not _allowed_annotation(value)
        ):
            yield Violation(
                (*pod.metadata_path, "annotations", key),
                f"AppArmor annotation {key}={value!r} is not allowed",
                who(pod),
            )


RULE = rule(
    "pss.apparmor",
    "AppArmor must not be disabled or overridden",
    Severity.ERROR,
    Scope.POD,
    check_v1_0,
    level=Level.BASELINE,
    versions={(1, 0): check_v1_0},
    doc=__doc__,
)

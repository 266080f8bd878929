"""## What it does
Flags an InferenceService whose `serving.kserve.io/deploymentMode` annotation is not a mode
KServe knows: `Knative`, `Standard` (or `ModelMesh`; the legacy `Serverless` and
`RawDeployment` are reported by `kserve.legacy-deployment-mode`).

## Why is this bad?
An unknown mode is rejected by KServe's webhook, or, in older releases, silently replaced by
the cluster default: the model is deployed in a way nobody reviewed.

## Example
```yaml
metadata:
  annotations:
    serving.kserve.io/deploymentMode: Raw
```

## Use instead
```yaml
metadata:
  annotations:
    serving.kserve.io/deploymentMode: Standard
```

## References
- https://github.com/kserve/kserve/pull/4608 (modes renamed to Knative and Standard)
- https://kserve.github.io/website/docs/admin-guide/kubernetes-deployment
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.kserve._isvc import CURRENT_MODES, LEGACY_MODES, MODE_ANNOTATION, raw_mode


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    value = raw_mode(r)
    if value is None or value in CURRENT_MODES or value in LEGACY_MODES:
        return
    yield Violation(
        ("metadata", "annotations", MODE_ANNOTATION),
        f"unknown deployment mode {value!r}: use Knative or Standard",
        f"InferenceService {r.name!r}",
    )


RULE = rule(
    "kserve.deployment-mode",
    "InferenceService deployment mode is valid",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={"InferenceService"},
    doc=__doc__,
)

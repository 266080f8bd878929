"""## What it does
Warns when an InferenceService uses the legacy deployment-mode names `Serverless` or
`RawDeployment` instead of `Knative` or `Standard`, unless the repo's KServe version
(servegate.yaml `kserveVersion`) is older than 0.16, which knows only the legacy names.

## Why is this bad?
Since KServe 0.17 the webhook rewrites the legacy names to the current ones. The object in the
cluster then differs from the one in Git, and Argo CD shows the application OutOfSync forever
(or fights the webhook on every self-heal).

## Example
```yaml
metadata:
  annotations:
    serving.kserve.io/deploymentMode: RawDeployment
```

## Use instead
```yaml
metadata:
  annotations:
    serving.kserve.io/deploymentMode: Standard
```

## References
- https://github.com/kserve/kserve/issues/4602
- https://github.com/kserve/kserve/pull/4608 (legacy values upconverted, default now Standard;
  first in v0.16.0)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.kserve._isvc import LEGACY_MODES, MODE_ANNOTATION, raw_mode


def _knows_only_legacy_names(ctx: Context) -> bool:
    from servegate import kserve_versions

    value = ctx.param("kserveVersion")
    try:
        return bool(value) and not kserve_versions.parse(str(value)).new_mode_names
    except kserve_versions.UnsupportedVersion:
        return False


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    value = raw_mode(r)
    if value in LEGACY_MODES and not _knows_only_legacy_names(ctx):
        yield Violation(
            ("metadata", "annotations", MODE_ANNOTATION),
            f"legacy deployment mode {value!r}: KServe rewrites it to {LEGACY_MODES[value]!r}, "
            "leaving Argo CD OutOfSync",
            f"InferenceService {r.name!r}",
        )


RULE = rule(
    "kserve.legacy-deployment-mode",
    "InferenceService uses the current deployment-mode names",
    Severity.WARNING,
    Scope.OBJECT,
    check,
    kinds={"InferenceService"},
    doc=__doc__,
)

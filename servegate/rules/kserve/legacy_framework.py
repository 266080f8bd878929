"""## What it does
Warns when an InferenceService component uses a framework shortcut key (`predictor.sklearn:`,
`predictor.tensorflow:`, `predictor.pytorch:`...) instead of `predictor.model` with
`modelFormat`.

## Why is this bad?
KServe's webhook converts the old keys to `model.modelFormat`, so the stored object differs
from Git and Argo CD reports the application OutOfSync. The new form also lets KServe choose
among ServingRuntimes and is the only one that receives new features.

## Example
```yaml
spec:
  predictor:
    sklearn:
      storageUri: s3://models/iris
```

## Use instead
```yaml
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
      storageUri: s3://models/iris
```

## References
- https://kserve.github.io/website/docs/model-serving/predictive-inference/frameworks/overview
- KServe InferenceService CRD `spec.predictor.model.modelFormat`
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.podspecs import KSERVE_SHORTCUTS
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.kserve._isvc import components, who

# `art` is an explainer type with no modelFormat equivalent.
_LEGACY_KEYS = tuple(k for k in KSERVE_SHORTCUTS if k not in ("model", "art"))


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    for label, path, body in components(r):
        for key in _LEGACY_KEYS:
            if isinstance(body.get(key), dict):
                yield Violation(
                    (*path, key),
                    f"framework key {key!r} is legacy: use model.modelFormat.name: {key}",
                    who(r, label),
                )


RULE = rule(
    "kserve.legacy-framework",
    "Use model.modelFormat, not framework keys",
    Severity.WARNING,
    Scope.OBJECT,
    check,
    kinds={"InferenceService"},
    doc=__doc__,
)

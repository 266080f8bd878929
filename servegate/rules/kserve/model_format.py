"""## What it does
Flags an InferenceService predictor (canaries included) whose `model:` has no
`modelFormat.name`.

## Why is this bad?
KServe picks the ServingRuntime from the model format. Without it the webhook rejects the
object, or a runtime is chosen by accident of what is installed in the cluster.

## Example
```yaml
spec:
  predictor:
    model:
      storageUri: s3://acme-models/iris
```

## Use instead
```yaml
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
      storageUri: s3://acme-models/iris
```

## References
- https://kserve.github.io/website/docs/model-serving/predictive-inference/frameworks/overview
- KServe InferenceService CRD `spec.predictor.model.modelFormat` (required `name`)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.kserve._isvc import components, is_predictor, who


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    for label, path, body in components(r):
        model = body.get("model")
        if not is_predictor(label) or not isinstance(model, dict):
            continue
        fmt = model.get("modelFormat")
        if not isinstance(fmt, dict) or not fmt.get("name"):
            yield Violation(
                (*path, "model", "modelFormat"), "model has no modelFormat.name", who(r, label)
            )


RULE = rule(
    "kserve.model-format",
    "Models declare their format",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={"InferenceService"},
    doc=__doc__,
)

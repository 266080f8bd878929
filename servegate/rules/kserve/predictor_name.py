"""## What it does
Flags a `name` on the model container of an InferenceService's predictor: `predictor.model.name`
or the same field of a framework shortcut (`predictor.sklearn.name`, `predictor.triton.name`...).
KServe's validating webhook refuses it since KServe 0.16. The predictor's own
`predictor.name` (which names a variant for the Standard-mode canary API) is a different field
and is not reported.

## Why is this bad?
The model server's container is always `kserve-container`: KServe names it when it builds the
pod. A name in Git is refused at sync ("the 'name' field is not allowed in standard
predictor"), though the CRD schema and a dry run accept it.

## Example
```yaml
spec:
  predictor:
    model:
      name: kserve-container
      modelFormat: {name: sklearn}
```

## Use instead
```yaml
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
```

## References
- kserve/kserve `pkg/apis/serving/v1beta1/inference_service_validation.go` (`validatePredictor`)
- https://github.com/kserve/kserve/pull/4535 (in KServe 0.16.0 and later)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.podspecs import KSERVE_SHORTCUTS
from servegate.resource import Resource, as_dict
from servegate.rules.base import Context, Scope, Violation, rule


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    predictor = as_dict(r.spec.get("predictor"))
    for key in KSERVE_SHORTCUTS:
        container = predictor.get(key)
        if isinstance(container, dict) and container.get("name"):
            yield Violation(
                ("spec", "predictor", key, "name"),
                f"the 'name' field is not allowed in standard predictor ({key}.name): KServe "
                "names the container itself",
                f"InferenceService {r.name!r} predictor",
            )


RULE = rule(
    "kserve.predictor-name",
    "The predictor's model container carries no name",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={"InferenceService"},
    doc=__doc__,
)

"""## What it does
Flags InferenceService components (predictor, transformer, explainer, canaries) that do not set
`serviceAccountName`, or set it to `default`.

## Why is this bad?
The model server's service account carries the credentials for its storage and whatever RBAC
the namespace grants. On `default` every pod in the namespace shares them; a dedicated account
(`kserve-model-sa`) scopes storage secrets and RBAC to this model only.

## Example
```yaml
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
```

## Use instead
```yaml
spec:
  predictor:
    serviceAccountName: kserve-model-sa
    model:
      modelFormat: {name: sklearn}
```

## References
- https://kubernetes.io/docs/concepts/security/service-accounts/
- https://kserve.github.io/website/docs/model-serving/storage/providers/s3 (credentials via SA)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.podspecs import PodSpecView
from servegate.rules.base import Context, Scope, Violation, rule


def check(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    if pod.resource.kind != "InferenceService" or pod.path[-1] == "workerSpec":
        return
    name = pod.spec.get("serviceAccountName") or pod.spec.get("serviceAccount")
    if not name:
        yield Violation(
            pod.at("serviceAccountName"),
            "no serviceAccountName: runs as 'default'; use a dedicated account",
            pod.label,
        )
    elif name == "default":
        yield Violation(
            pod.at("serviceAccountName"),
            "serviceAccountName is 'default': use a dedicated account",
            pod.label,
        )


RULE = rule(
    "kserve.service-account",
    "Models run under a dedicated service account",
    Severity.ERROR,
    Scope.POD,
    check,
    doc=__doc__,
)

"""## What it does
An object does not validate against its kind's schema: Kubernetes core kinds through kubernetes-
validate's strict schemas, CRD kinds through schemas derived from the upstream CRDs. Unknown
fields are errors.

## Why is this bad?
The API server (or Argo CD's dry run) rejects it, or, for fields a CRD preserves, silently ignores
a typo.

## Example
```yaml
spec:
  predictor:
    modle: {}
```

## Use instead
```yaml
spec:
  predictor:
    model: {}
```

## References
- kubernetes-validate (core kinds): https://github.com/willthames/kubernetes-validate
- the upstream CRDs' `openAPIV3Schema` (`../shared/upstream/crds`)
"""

from __future__ import annotations

from servegate.model import Severity
from servegate.rules.base import reported

RULE = reported(
    "schema.invalid",
    "Object does not match its schema",
    Severity.ERROR,
    doc=__doc__,
)

"""Rules the engine reports while loading: the schema family."""

from __future__ import annotations

from servegate.findings import Severity
from servegate.rules._reported import reported

_INVALID = """\
## What it does
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
"""

_UNKNOWN_KIND = """\
## What it does
servegate has no schema for an object's apiVersion and kind.

## Why is this bad?
It cannot be validated; a typo in apiVersion looks exactly like this.

## Example
```yaml
apiVersion: serving.kserve.io/v1
kind: InferenceService
```

## Use instead
Fix the apiVersion, or pass the CRD with `--crds DIR` (or `crds:` in servegate.yaml).
"""

RULES = [
    reported("schema.invalid", "Object does not match its schema", _INVALID, Severity.ERROR),
    reported(
        "schema.unknown-kind", "No schema known for the kind", _UNKNOWN_KIND, Severity.WARNING
    ),
]

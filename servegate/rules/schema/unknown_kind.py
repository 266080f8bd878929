"""## What it does
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

## References
- Kubernetes API: an unknown kind is rejected (`no matches for kind`)
"""

from __future__ import annotations

from servegate.model import Severity
from servegate.rules.base import reported

RULE = reported(
    "schema.unknown-kind",
    "No schema known for the kind",
    Severity.WARNING,
    doc=__doc__,
)

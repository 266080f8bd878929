"""## What it does
An exemption in servegate.yaml or an inline `servegate.io/exempt.<rule>` annotation lacks a
reason, or its date is not YYYY-MM-DD.

## Why is this bad?
An exemption nobody can explain is a finding nobody fixed.

## Example
```yaml
exemptions:
- rule: pss.run-as-non-root
```

## Use instead
```yaml
exemptions:
- rule: pss.run-as-non-root
  resource: {kind: InferenceService, name: legacy}
  reason: vendor image runs as root; ticket ML-42
  expires: 2027-03-31
```

## References
- `schemas/servegate.schema.json`: an exemption needs `rule`, `resource.kind`,
  `resource.name` and `reason`
"""

from __future__ import annotations

from servegate.model import Severity
from servegate.rules.base import reported

RULE = reported(
    "repo.exemption-invalid",
    "Exemption has no reason or is malformed",
    Severity.ERROR,
    doc=__doc__,
    input_problem=True,
)

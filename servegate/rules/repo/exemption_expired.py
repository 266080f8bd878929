"""## What it does
An exemption's `expires` date has passed.

## Why is this bad?
Temporary exceptions become permanent unless they expire loudly.

## Example
```yaml
expires: 2024-01-01
```

## Use instead
Fix the finding, or renew the exemption with a new date and reason.

## References
- `schemas/servegate.schema.json` (`expires`, a YYYY-MM-DD date)
"""

from __future__ import annotations

from servegate.model import Severity
from servegate.rules.base import reported

RULE = reported(
    "repo.exemption-expired",
    "Exemption has expired",
    Severity.ERROR,
    doc=__doc__,
    input_problem=True,
)

"""## What it does
Reports an entry of the baseline given with `servegate check --baseline FILE` that no current
finding matches: the finding was fixed, or its object or field is gone. A note, at the entry's
line in the baseline file; only a check of the whole repo reports it (a narrowed check cannot
tell a fixed finding from one it did not look at).

## Why is this bad?
A baseline that only grows hides more than it must: an entry whose finding is fixed would
silently accept the same defect if it came back.

## Example
```json
{"fingerprint": "125e577c7b3848798f2f8a0d8a1c63f5", "rule": "pss.run-as-non-root", "...": "..."}
```

## Use instead
Delete the entry, or rewrite the file with the entries that still match:
`servegate baseline --prune`.

## References
- SARIF 2.1.0 §3.27.24 `baselineState` (`absent`: in the baseline, not in this run)
"""

from __future__ import annotations

from servegate.model import Severity
from servegate.rules.base import reported

RULE = reported(
    "repo.baseline-unmatched", "Baseline entry matches no finding", Severity.NOTE, doc=__doc__
)

"""## What it does
A symlink in the repo points outside the repo root.

## Why is this bad?
It makes the checked content depend on the machine that renders it, and can expose host files.

## Example
`ln -s /etc overlays/prod/etc`

## Use instead
Replace the link with the file itself.

## References
- Argo CD `util/app/path/path.go` `CheckOutOfBoundsSymlinks`: the repo server refuses
  symlinks that leave the repository
"""

from __future__ import annotations

from servegate.model import Severity
from servegate.rules.base import reported

RULE = reported(
    "repo.symlink-escape",
    "Symlink leaves the repo",
    Severity.ERROR,
    doc=__doc__,
    input_problem=True,
)

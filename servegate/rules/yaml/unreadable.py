"""## What it does
A file cannot be opened (permissions, a directory named like a file).

## Why is this bad?
servegate cannot vouch for what it cannot read.

## Example
`chmod 000 overlays/prod/patch.yaml`

## Use instead
Make the file readable.

## References
- servegate fails closed: what it cannot read it reports
"""

from __future__ import annotations

from servegate.model import Severity
from servegate.rules.base import reported
from servegate.yamlsafe import Problem

RULE = reported(
    "yaml.unreadable",
    "File cannot be read",
    Severity.ERROR,
    doc=__doc__,
    problem=Problem.UNREADABLE,
    input_problem=True,
)

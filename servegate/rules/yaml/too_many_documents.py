"""## What it does
A YAML file holds more than 2,000 documents, or the files of one run more than 100,000.

## Why is this bad?
Almost always generated output committed by mistake.

## Example
A file with thousands of `---` separators.

## Use instead
Split it, or generate it in CI instead of committing it.

## References
- servegate's own bound (`servegate.yamlsafe.MAX_DOCUMENTS`)
"""

from __future__ import annotations

from servegate.model import Severity
from servegate.rules.base import reported
from servegate.yamlsafe import Problem

RULE = reported(
    "yaml.too-many-documents",
    "File has too many documents",
    Severity.ERROR,
    doc=__doc__,
    problem=Problem.TOO_MANY_DOCUMENTS,
    input_problem=True,
)

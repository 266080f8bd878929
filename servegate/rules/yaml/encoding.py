"""## What it does
A file ending in .yaml is binary or not UTF-8.

## Why is this bad?
YAML must be UTF-8; other bytes are read differently by different tools.

## Example
A Latin-1 encoded file with `é` in a label.

## Use instead
Save the file as UTF-8.

## References
- YAML 1.2 specification, 5.2 character encodings: https://yaml.org/spec/1.2.2/#52-character-encodings
"""

from __future__ import annotations

from servegate.model import Severity
from servegate.rules.base import reported
from servegate.yamlsafe import Problem

RULE = reported(
    "yaml.encoding",
    "File is not UTF-8 text",
    Severity.ERROR,
    doc=__doc__,
    problem=Problem.ENCODING,
    input_problem=True,
)

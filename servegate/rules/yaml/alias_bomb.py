"""## What it does
Aliases expand a file beyond servegate's bound (100,000 added nodes per file, 500,000 over all
the files of a run: a 'billion laughs' file, whole or split over many documents), or an alias
refers to itself.

## Why is this bad?
Expanding it exhausts memory in every tool that reads it, Argo CD's repo server included.

## Example
```yaml
a: &a [x, x]
b: &b [*a, *a]
# ... nine levels deep
```

## Use instead
Write the data out; manifests need no aliases.

## References
- https://en.wikipedia.org/wiki/Billion_laughs_attack
- kubernetes/kubernetes#83253 (CVE-2019-11253: kubectl and the API server vulnerable to a
  YAML billion laughs)
"""

from __future__ import annotations

from servegate.model import Severity
from servegate.rules.base import reported
from servegate.yamlsafe import Problem

RULE = reported(
    "yaml.alias-bomb",
    "YAML aliases expand too far",
    Severity.ERROR,
    doc=__doc__,
    problem=Problem.ALIAS_BOMB,
    input_problem=True,
)

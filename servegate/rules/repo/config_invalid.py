"""## What it does
Configuration in the checked repo that servegate cannot apply as written: a `servegate.yaml`
(at the root or below it) that is not valid YAML, is not a mapping, or fails its schema
(`schemas/servegate.schema.json`) outside the exemption entries (an invalid exemption entry is
`repo.exemption-invalid`); a policy set in the repo's `policies/` that fails
`schemas/policy.schema.json` or names a rule servegate does not have (with a did-you-mean); an
environment profile in the repo's `environments/` that fails its schema; a `crds:` entry of
the root `servegate.yaml` that is missing or leads out of the repo (not read), and a CRD file
there that cannot be read or used (not UTF-8, invalid YAML, no `spec.names`, a kind defined
twice differently, a symlink out of the repo): then none of the repo's CRDs applies, and
objects of their kinds are `schema.unknown-kind` errors.

## Why is this bad?
A configuration servegate cannot read as written would be applied in part or guessed at, and
a typo such as `enviroments:` would silently drop what it meant to say. servegate applies none
of it: without the root file every folder is checked as an unknown environment, with the
strictest policy set; without a nested file, policy set or profile, the operator's applies.

## Example
```yaml
version: 1
enviroments:
  overlays/dev: dev
```

## Use instead
```yaml
version: 1
environments:
  overlays/dev: dev
```

## References
- `schemas/servegate.schema.json` (servegate's own schema, also for editors through the
  `yaml-language-server` modeline)
"""

from __future__ import annotations

from servegate.model import Severity
from servegate.rules.base import reported

RULE = reported(
    "repo.config-invalid",
    "servegate.yaml fails its schema",
    Severity.ERROR,
    doc=__doc__,
    input_problem=True,
)

"""## What it does
Reports a CRD validation rule (`x-kubernetes-validations`) that servegate cannot evaluate: it
calls a CEL function servegate does not provide (the Kubernetes `format`, `semver`, `image`
and `authz` libraries, two-variable comprehensions), or it does not compile.

## Why is this bad?
The API server evaluates it, so the object may be refused although servegate passes it. A
security gate says so instead of passing silently.

## Example
```yaml
# a CRD passed with --crds whose rule reads
#   x-kubernetes-validations: [{rule: "isSemver(self.version)"}]
spec:
  version: "1.2"
```

## Use instead
Check the object against the rule by hand (or on a cluster with a server-side dry run), or
exempt the finding with the reason.

## References
- kubernetes/apiserver `pkg/cel/environment/base.go` (the libraries the API server has)
- `servegate/schema/cel_library.py` (the ones servegate provides)
"""

from __future__ import annotations

from servegate.model import Severity
from servegate.rules.base import reported

RULE = reported(
    "schema.cel-not-evaluated",
    "A CRD validation rule servegate cannot evaluate",
    Severity.WARNING,
    doc=__doc__,
)

"""## What it does
Lists each kustomize root and plain manifest file that the root `servegate.yaml`'s `exclude:`
globs hide from the check, as a suppressed note naming the glob. Excludes apply only when the
operator asks (`--honor-excludes`, or `honorExcludes: true` in the operator configuration);
otherwise every folder is checked and this rule reports nothing.

## Why is this bad?
An exclude is the checked repo telling the gate what not to look at. It is meant for folders
no Application deploys (scratch manifests, examples), but a glob that is too wide hides what
the cluster receives. So the operator decides whether excludes count, and whatever they hide
is listed in every report, where a reviewer sees it.

## Example
```yaml
# servegate.yaml
version: 1
exclude:
  - models/*/examples
```

## Use instead
Exclude only folders no Argo CD Application deploys, and keep the list short; an object that
is deployed but needs an exception gets an exemption with a reason.

## References
- `docs/security.md` (who controls what)
"""

from __future__ import annotations

from servegate.model import Severity
from servegate.rules.base import reported

RULE = reported(
    "repo.excluded",
    "What servegate.yaml excludes is listed",
    Severity.NOTE,
    doc=__doc__,
    input_problem=True,
)

"""Rules the engine reports while loading: the repo family."""

from __future__ import annotations

from servegate.findings import Severity
from servegate.rules._reported import reported

_KUSTOMIZE_ERROR = """\
## What it does
`kubectl kustomize` fails on a kustomization (missing file, conflicting IDs, a bad patch).

## Why is this bad?
Argo CD fails the same way at sync time.

## Example
```yaml
resources: [missing.yaml]
```

## Use instead
Fix the kustomization until `kubectl kustomize DIR` succeeds.
"""

_REMOTE_BASE = """\
## What it does
A kustomization includes a URL (git or http) as a resource, base or component.

## Why is this bad?
servegate, like a careful Argo CD, does not fetch code from the network; a remote base changes
under you without a commit in your repo.

## Example
```yaml
resources:
- https://github.com/acme/base?ref=main
```

## Use instead
Vendor the base into the repo and refer to it by path.
"""

_KUSTOMIZE_ESCAPE = """\
## What it does
A kustomization refers to a path outside the repo root.

## Why is this bad?
Argo CD renders only the repo; a path outside it builds on a developer's machine and fails in the
cluster, or reads files that are not reviewed.

## Example
```yaml
resources: [../../../other-repo/base]
```

## Use instead
Keep bases inside the repo.
"""

_KUSTOMIZE_PLUGIN = """\
## What it does
A kustomization uses helm charts or non-builtin generators/transformers.

## Why is this bad?
Exec and helm plugins run programs from the repo at render time; servegate renders without them.

## Example
```yaml
helmCharts:
- name: model
```

## Use instead
Commit the rendered chart, or use builtin transformers.
"""

_SYMLINK_ESCAPE = """\
## What it does
A symlink in the repo points outside the repo root.

## Why is this bad?
It makes the checked content depend on the machine that renders it, and can expose host files.

## Example
`ln -s /etc overlays/prod/etc`

## Use instead
Replace the link with the file itself.
"""

_EXEMPTION_INVALID = """\
## What it does
An exemption in servegate.yaml or an inline `servegate.io/exempt.<rule>` annotation lacks a
reason, or its date is not YYYY-MM-DD.

## Why is this bad?
An exemption nobody can explain is a finding nobody fixed.

## Example
```yaml
exemptions:
- rule: pss.run-as-non-root
```

## Use instead
```yaml
exemptions:
- rule: pss.run-as-non-root
  resource: {kind: InferenceService, name: legacy}
  reason: vendor image runs as root; ticket ML-42
  expires: 2027-03-31
```
"""

_EXEMPTION_EXPIRED = """\
## What it does
An exemption's `expires` date has passed.

## Why is this bad?
Temporary exceptions become permanent unless they expire loudly.

## Example
```yaml
expires: 2024-01-01
```

## Use instead
Fix the finding, or renew the exemption with a new date and reason.
"""

RULES = [
    reported(
        "repo.kustomize-error", "kustomize cannot build a root", _KUSTOMIZE_ERROR, Severity.ERROR
    ),
    reported("repo.remote-base", "Kustomization names a remote base", _REMOTE_BASE, Severity.ERROR),
    reported(
        "repo.kustomize-escape",
        "Kustomization reaches outside the repo",
        _KUSTOMIZE_ESCAPE,
        Severity.ERROR,
    ),
    reported(
        "repo.kustomize-plugin",
        "Kustomization needs a plugin that runs code",
        _KUSTOMIZE_PLUGIN,
        Severity.ERROR,
    ),
    reported("repo.symlink-escape", "Symlink leaves the repo", _SYMLINK_ESCAPE, Severity.ERROR),
    reported(
        "repo.exemption-invalid",
        "Exemption has no reason or is malformed",
        _EXEMPTION_INVALID,
        Severity.ERROR,
    ),
    reported("repo.exemption-expired", "Exemption has expired", _EXEMPTION_EXPIRED, Severity.ERROR),
]

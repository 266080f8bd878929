"""Rules the engine reports while loading: the repo family."""

from __future__ import annotations

from servegate.findings import Severity
from servegate.rules._reported import reported

_KUSTOMIZE_ERROR = """\
## What it does
A kustomize root cannot be built: `kubectl kustomize` fails on it (missing file, conflicting
IDs, a bad patch); its kustomizations include each other in a cycle; its include graph would
cost more than 10,000 kustomization builds (kustomize builds a shared base again on every path
that reaches it); or it did not render within the run's kustomize time budget
(`SERVEGATE_RENDER_BUDGET`).

## Why is this bad?
Argo CD fails the same way at sync time, or its repo server spends minutes on every refresh. A
root servegate could not render is a root it could not check, so it is an error, never a pass.

## Example
```yaml
# overlays/prod/kustomization.yaml
resources: [../../base]
# base/kustomization.yaml
resources: [../overlays/prod]
```

## Use instead
Fix the kustomization until `kubectl kustomize DIR` succeeds quickly: include each base once,
and never a kustomization that includes you.

## References
- kubernetes-sigs/kustomize `api/internal/loader/fileloader.go` (`errIfArgEqualOrHigher`:
  "cycle detected")
- kubernetes-sigs/kustomize `api/internal/target/kusttarget.go` (`accumulateDirectory` builds a
  new target for every include)
"""

_REMOTE_BASE = """\
## What it does
A kustomization names a location kustomize would fetch over the network or clone from another
repository: `git::`, `ssh://`, `file://`, `http(s)://` in any case, `user@host:path`,
`github.com/...`, `gitlab.com/...`, `bitbucket.org/...`, `gh:`, or a `host.tld/path` that is
no path in the repo, with or without `?ref=`, in any field (resources, bases, components,
patches, generators and their `files`/`envs`, transformers, validators, `crds`,
`configurations`, `openapi`, `replacements`, helm repositories). Also reported when a render's
objects came from anything but a file of the repo.

## Why is this bad?
servegate, like a careful Argo CD, does not fetch code from the network: what it checked would
not be what the cluster receives, and a remote base changes under you without a commit in your
repo. servegate renders without a network and never caches such a render.

## Example
```yaml
resources:
- HTTPS://github.com/acme/base?ref=main
- git::https://git.example.com/acme/base.git//deploy
```

## Use instead
Vendor the base into the repo and refer to it by path.

## References
- kubernetes-sigs/kustomize `api/internal/git/repospec.go` (`NewRepoSpecFromURL`,
  `extractHost`: prefixes matched ignoring case)
- kubernetes-sigs/kustomize `api/internal/loader/fileloader.go` (`IsRemoteFile`, `Load`, `New`)
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

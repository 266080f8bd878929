"""## What it does
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

from __future__ import annotations

from servegate.model import Severity
from servegate.rules.base import reported

RULE = reported(
    "repo.remote-base",
    "Kustomization names a remote base",
    Severity.ERROR,
    doc=__doc__,
    input_problem=True,
)

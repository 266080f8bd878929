"""## What it does
Flags an Argo CD AppProject `sourceRepos` entry that admits more than the repositories it
names, matched the way Argo CD matches them (`IsSourcePermitted`: URLs normalised, gobwas globs
with `/` as separator): a deny pattern (`!x` admits every repository but `x`; `!**` admits
none, while `!*` admits every URL with a `/`, since `*` stops at `/` here), a glob that admits
any repository (`*`, `**`, `https://**`...), or a glob in the host or the owner part of the
URL (`https://github.com/*/fraud-model`, `https://git*.com/acme/*`), which admits forks and
look-alike organisations.

## Why is this bad?
The project is the security boundary of Argo CD: a repository it admits is deployed with the
project's destinations and rights. A deny-list or an owner wildcard lets anyone who can create a
repository (a fork, a typo-squatted organisation) feed manifests into the cluster.

## Example
```yaml
kind: AppProject
spec:
  sourceRepos:
  - '!https://github.com/acme/legacy'
  - 'https://github.com/*/fraud-model'
```

## Use instead
```yaml
kind: AppProject
spec:
  sourceRepos:
  - https://github.com/acme/fraud-model.git
  - https://github.com/acme/ml-*
```

## References
- argoproj/argo-cd `pkg/apis/application/v1alpha1/app_project_types.go` (`IsSourcePermitted`,
  `globMatch`) and `util/git/git.go` (`NormalizeGitURL`)
- https://argo-cd.readthedocs.io/en/stable/user-guide/projects/
- https://argo-cd.readthedocs.io/en/stable/operator-manual/project-specification/
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.argocd._argo import items, who
from servegate.rules.argocd._glob import glob_match, has_meta, is_deny
from servegate.rules.base import Context, Scope, Violation, rule

_SCP = re.compile(r"^[\w.-]+@[\w.-]+:(?!//)")
_PROBES = (
    "https://servegate-probe.invalid/servegate-probe/probe-repo",
    "servegate-probe.invalid/servegate-probe/probe-repo",
)


def normalize(repo: str) -> str:
    """Argo CD's ``NormalizeGitURL``, as far as matching needs: lower case, scp-style SSH
    (``git@host:org/repo``) as ``host/org/repo``, no ``ssh://``, no ``.git``."""
    repo = repo.strip().lower()
    if _SCP.match(repo):
        repo = repo.replace(":", "/", 1)
    repo = repo.removesuffix(".git")
    return repo.removeprefix("ssh://")


def breadth(pattern: str) -> str | None:
    if is_deny(pattern):
        if not any(glob_match("!" + normalize(pattern[1:]), p, "/") for p in _PROBES):
            return None  # the negated glob matches any repository: it admits none
        return f"{pattern!r} is a deny pattern: it admits every repository but {pattern[1:]!r}"
    normalized = normalize(pattern)
    if any(glob_match(normalized, probe, "/") for probe in _PROBES):
        return f"{pattern!r} admits any repository"
    path = normalized.split("://", 1)[-1]
    if "@" in path.split("/", 1)[0]:
        path = path.split("@", 1)[1]
    parts = path.split("/")
    if has_meta(parts[0]):
        return f"{pattern!r} admits any host"
    if len(parts) > 1 and has_meta(parts[1]):
        return f"{pattern!r} admits repositories of any owner on {parts[0]} (forks, look-alikes)"
    return None


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    for i, repo in enumerate(items(r.spec.get("sourceRepos"))):
        if not isinstance(repo, str) or not repo.strip():
            continue
        why = breadth(repo.strip())
        if why is not None:
            yield Violation(
                ("spec", "sourceRepos", i), f"sourceRepos {why}: name the repositories", who(r)
            )


RULE = rule(
    "argocd.project-source-repos",
    "AppProjects name their source repositories",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={"AppProject"},
    doc=__doc__,
)

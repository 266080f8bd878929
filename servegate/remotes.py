"""Which kustomization entries kustomize would fetch over the network (or from another repo).

kustomize reads an entry in two ways, and both reach the network (kubernetes-sigs/kustomize):

- ``api/internal/loader/fileloader.go`` ``Load``: a file entry (a resource, patch, generator
  ``files``/``envs``, ``crds``, ``configurations``, ``openapi.path``, ``replacements[].path``,
  a generator or transformer configuration) is fetched with an HTTP GET when
  ``IsRemoteFile`` holds: Go's ``url.Parse`` finds the scheme ``http`` or ``https``, which it
  lowercases, so ``HTTP://`` and ``hTtPs://`` are fetched too.
- ``fileloader.go`` ``New``: a directory entry (a resource, base, component, generator or
  transformer folder) is cloned with ``git`` whenever ``git.NewRepoSpecFromURL`` parses it
  (``api/internal/git/repospec.go``): an optional ``git::`` prefix, then a scheme among
  ``ssh://``, ``https://``, ``http://``, ``file://`` (all matched ignoring case), or an
  scp-like ``user@host:path``, or ``github.com/`` / ``github.com:`` in any case, with or
  without ``?ref=``/``?version=`` and a ``//subdir``. ``file://`` clones a repository from an
  absolute path outside the checked one.

Older kustomize releases (v3, through hashicorp/go-getter, and v4's ``parseHostSpec``) also
took ``gh:``, ``gitlab.com/`` and ``bitbucket.org/`` without a scheme, and Argo CD may run any
release, so this module answers for all of them: it is a superset of what one release fetches.
A path whose first segment looks like a host name (``example.org/team/base``) is remote unless
it exists in the repo (then every release reads it as a local path). Multi-line entries are
inline content (a ``patchesStrategicMerge`` patch), never a location.
"""

from __future__ import annotations

import re
from collections.abc import Callable

#: Scheme-like prefixes (lowercase, without ":") that name a network or another repository.
_SCHEMES = frozenset(
    {"http", "https", "ssh", "file", "git", "git+ssh", "ssh+git", "gh", "s3", "gcs", "hg", "oci"}
)
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")
#: kustomize's username pattern (repospec.go ``extractUsername``).
_USERNAME = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*@")
#: Hosts older kustomize releases (go-getter's detectors) take without a scheme.
_KNOWN_HOSTS = frozenset({"github.com", "gitlab.com", "bitbucket.org"})
_DOMAIN = re.compile(
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}\.?(?::[0-9]{1,5})?"
)
_QUERY = re.compile(r"\?(?:.*&)?(?:ref|version|submodules|timeout)=", re.IGNORECASE)


def remote_kind(entry: str, exists: Callable[[], bool] | None = None) -> str | None:
    """Why kustomize would fetch ``entry`` (a short phrase), or None for a local path.

    ``exists`` tells whether the entry names something present in the repo; it is asked only
    for a host-like first segment without a scheme (``example.org/base``), which is remote
    when nothing local has that name. Without it, such an entry counts as remote.
    """
    if "\n" in entry or "\r" in entry:
        return None  # inline content
    text = entry.strip()
    if not text:
        return None
    lowered = text.lower()
    if lowered.startswith("git::"):
        return "a git:: URL"
    first = text.split("/", 1)[0]
    host = first.split(":", 1)[0].lower()
    if host in _KNOWN_HOSTS:
        return f"a {host} repository"
    scheme = _SCHEME.match(text)
    if scheme is not None:
        name = scheme.group(1).lower()
        rest = text[scheme.end() :]
        if name in _SCHEMES or rest.startswith("//"):
            return f"a {name}: URL"
    user = _USERNAME.match(text)
    if user is not None and any(c in text[user.end() :] for c in ":/"):
        return "an scp-like git URL (user@host:path)"
    if _QUERY.search(text):
        return "a git URL with a ?ref= query"
    if "/" in text and _DOMAIN.fullmatch(first) and not (exists is not None and exists()):
        return f"a URL on host {first!r} (no such path in the repo)"
    return None


def is_remote(entry: str, exists: Callable[[], bool] | None = None) -> bool:
    """``remote_kind(entry, exists) is not None``."""
    return remote_kind(entry, exists) is not None

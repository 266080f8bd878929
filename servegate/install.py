"""Where a generated repo installs servegate from: its pre-commit hook and CI workflow.

A *source* is one of:

- a wheel: a URL or path ending in ``.whl`` (``https://…/servegate-0.1.0-py3-none-any.whl``,
  ``file:///…``, ``./dist/…``), optionally with ``#sha256=<hex>``, which pip verifies;
- a git repository URL (``https://``, ``ssh://``, ``git@host:path``, ``file://``, with or
  without ``git+``) at a *revision* (a commit or tag);
- ``pypi``: the package index, at a version.

The default is the servegate that runs ``servegate new``, as pip recorded its origin (PEP 610
``direct_url.json``): a wheel by its URL and hash, a git install by its URL and commit, an
editable checkout by its git commit, and an index install by its version. The *spec* is what
``pip install`` and ``pipx install`` both take.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from servegate import __version__

INDEX = "pypi"

#: Characters a source may hold: the spec is written into YAML and a shell variable, so no
#: quotes, spaces, ``$``, backslashes, braces or backticks.
_SAFE = re.compile(r"^[A-Za-z0-9._~:/@%+=#,-]+$")
_REV = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/+-]*$")
_GIT = re.compile(r"^(git\+)?(https://[^/\s]+/\S+|ssh://\S+|git@[^\s:]+:\S+|file:///\S+)$")


class SourceError(ValueError):
    """A servegate source or revision that cannot be used (one line for the user)."""


@dataclass(frozen=True, slots=True)
class Source:
    """Where to install servegate from; ``rev`` is the git revision or the index version."""

    location: str
    rev: str = ""

    @property
    def kind(self) -> str:
        """``wheel``, ``git`` or ``index``."""
        if self.location == INDEX:
            return "index"
        return "wheel" if _wheel_path(self.location) else "git"

    @property
    def spec(self) -> str:
        """What ``pip install`` / ``pipx install`` take: ``git+URL@REV``, the wheel's URL,
        or ``servegate==VERSION``."""
        if self.kind == "index":
            return f"servegate=={self.rev}"
        if self.kind == "wheel":
            return self.location
        url = self.location if self.location.startswith("git+") else f"git+{self.location}"
        return f"{url}@{self.rev}"

    @property
    def schema_url(self) -> str | None:
        """Where an editor fetches the servegate.yaml JSON Schema of this revision: a git
        source on an https host serves it at ``<url>/raw/<rev>/...`` (GitHub, GitLab, Gitea);
        None for the others, which have no such URL."""
        url = self.location.removeprefix("git+")
        if self.kind != "git" or not url.startswith("https://"):
            return None
        return f"{url.removesuffix('.git')}/raw/{self.rev}/schemas/servegate.schema.json"

    @property
    def local(self) -> bool:
        """True when only this machine can install from it (a ``file://`` location)."""
        return self.location.removeprefix("git+").startswith("file:")


def _wheel_path(location: str) -> bool:
    return urlsplit(location).path.endswith(".whl")


def parse(location: str, rev: str | None) -> Source:
    """The Source for ``--servegate-source``/``--servegate-rev``; SourceError when unusable.

    A wheel path is made an absolute ``file://`` URL; a git source needs a revision; the
    index takes a version (default: this servegate's).
    """
    location = location.strip()
    rev = (rev or "").strip()
    if location == INDEX:
        version = rev or __version__
        if not re.match(r"^[0-9][0-9A-Za-z.+!-]*$", version):
            raise SourceError(
                f"--servegate-rev {version!r}: the index needs a version such as 0.1.0"
            )
        return Source(INDEX, version)
    if not location or not _SAFE.match(location) or location.startswith("-"):
        raise SourceError(
            f"--servegate-source {location!r}: expected a wheel URL or path, a git URL, or "
            f"{INDEX!r} (no spaces, quotes or shell characters)"
        )
    if _wheel_path(location):
        if rev:
            raise SourceError("--servegate-rev applies to a git or index source, not a wheel")
        if "://" not in location:
            path = Path(location).expanduser().resolve()
            if not path.is_file():
                raise SourceError(f"--servegate-source {location}: no such wheel")
            location = path.as_uri()
            if not _SAFE.match(location):
                raise SourceError(f"--servegate-source {location}: unusual characters in the path")
        elif not location.startswith(("https://", "file:///")):
            raise SourceError(f"--servegate-source {location}: a wheel URL is https:// or file://")
        return Source(location)
    if not _GIT.match(location):
        raise SourceError(
            f"--servegate-source {location!r}: a git URL is https://, ssh://, git@host:path or "
            "file:///, or give a .whl or 'pypi'"
        )
    if not rev:
        raise SourceError(
            f"--servegate-source {location}: give the revision to install with --servegate-rev "
            "(a commit, or a tag that exists)"
        )
    if not _REV.match(rev) or ".." in rev:
        raise SourceError(f"--servegate-rev {rev!r}: expected a git commit or tag")
    return Source(location, rev)


@cache
def installed() -> Source:
    """How the running servegate was installed (PEP 610), as a Source to install it again."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        text = distribution("servegate").read_text("direct_url.json")
    except PackageNotFoundError:
        text = None
    if not text:
        return Source(INDEX, __version__)
    try:
        data = json.loads(text)
        url = str(data["url"])
    except (ValueError, KeyError, TypeError):
        return Source(INDEX, __version__)
    vcs = data.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("vcs") == "git" and vcs.get("commit_id"):
        return Source(url, str(vcs["commit_id"]))
    archive = data.get("archive_info")
    if isinstance(archive, dict) and _wheel_path(url):
        hashes = archive.get("hashes") or {}
        digest = hashes.get("sha256") if isinstance(hashes, dict) else None
        return Source(f"{url}#sha256={digest}" if digest else url)
    if isinstance(data.get("dir_info"), dict) and url.startswith("file://"):
        commit = _git_head(Path(unquote(urlsplit(url).path)))
        if commit:
            return Source(url, commit)
    return Source(INDEX, __version__)


def _git_head(checkout: Path) -> str | None:
    """The commit checked out in ``checkout``, or None (not a git checkout, git missing)."""
    if not (checkout / ".git").exists():
        return None
    try:
        done = subprocess.run(
            ["git", "-C", str(checkout), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    head = done.stdout.strip()
    return head if done.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", head) else None

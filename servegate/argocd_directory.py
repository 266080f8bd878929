"""Which files an Argo CD directory source applies, by Argo CD's own rules.

argoproj/argo-cd ``reposerver/repository/repository.go`` (``findManifests``,
``getPotentiallyValidManifests``, ``getPotentiallyValidManifestFile``) and
``docs/user-guide/directory.md``:

- the folder is walked with Go's ``filepath.Walk`` (lexical order); sub-folders only with
  ``directory.recurse: true``, and then every one, dot-folders included; symlinked folders
  are not entered;
- a file is a candidate when its name ends in ``.yaml``, ``.yml``, ``.json`` or ``.jsonnet``
  (dot-files included), or any name with ``disableExtensionFilter: true``;
- a symlink is followed to its target, which must stay inside the repo (else Argo CD refuses
  the whole source) and be a regular file;
- ``exclude`` then ``include`` are gobwas/glob patterns (no separators: ``*`` crosses ``/``;
  ``{a,b}`` alternatives) matched against the path relative to the source folder; a pattern
  that does not compile matches nothing;
- a file holding ``+argocd:skip-file-rendering`` is skipped;
- ``.jsonnet`` files are evaluated by Argo CD (servegate does not evaluate Jsonnet);
  ``.json`` files must hold one object; anything else is read as YAML documents.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANIFEST_NAME = re.compile(r"^.*\.(yaml|yml|json|jsonnet)$", re.DOTALL)
SKIP_MARKER = b"+argocd:skip-file-rendering"


@dataclass(slots=True)
class Selection:
    """What a directory source applies: repo-relative ``files`` to read as manifests,
    ``jsonnet`` files Argo CD would evaluate, and ``problems`` (repo-relative path, message)
    that make Argo CD refuse the source."""

    files: list[str] = field(default_factory=list)
    jsonnet: list[str] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)


def select(root: Path, app_dir: str, settings: Mapping[str, Any]) -> Selection:
    """The files the directory source ``app_dir`` (repo-relative) applies with its
    ``spec.source.directory`` ``settings``."""
    from servegate.rules.argocd._glob import gobwas

    recurse = settings.get("recurse") is True
    no_filter = settings.get("disableExtensionFilter") is True
    include = settings.get("include") if isinstance(settings.get("include"), str) else ""
    exclude = settings.get("exclude") if isinstance(settings.get("exclude"), str) else ""
    include_re = gobwas(include) if include else None
    exclude_re = gobwas(exclude) if exclude else None
    base = os.path.realpath(root)
    top = os.path.join(str(root), app_dir) if app_dir != "." else str(root)
    found = Selection()
    for here, dirs, files in os.walk(top):
        dirs.sort()
        if not recurse:
            dirs[:] = []
        for name in sorted(files):
            full = os.path.join(here, name)
            rel_app = Path(os.path.relpath(full, top)).as_posix()
            rel_repo = Path(os.path.relpath(full, root)).as_posix()
            if not no_filter and not MANIFEST_NAME.match(name):
                continue
            if os.path.islink(full):
                real = os.path.realpath(full)
                if not os.path.exists(real):
                    continue  # Argo CD: "destination of symlink is missing", skipped
                if not (real == base or real.startswith(base + os.sep)):
                    found.problems.append(
                        (rel_repo, "symlink leaves the repo: Argo CD refuses the source")
                    )
                    continue
            if not os.path.isfile(full):
                continue
            if exclude and exclude_re is not None and exclude_re.fullmatch(rel_app):
                continue
            if include and (include_re is None or not include_re.fullmatch(rel_app)):
                continue
            try:
                with open(full, "rb") as handle:
                    if SKIP_MARKER in handle.read():
                        continue
            except OSError as err:
                found.problems.append((rel_repo, f"cannot read file: {err.strerror}"))
                continue
            if name.endswith(".jsonnet"):
                found.jsonnet.append(rel_repo)
            else:
                found.files.append(rel_repo)
    return found

"""The paths each kustomization of a repo names, so that a pre-commit run
(``--changed-files``) parses only the kustomizations that changed.

One entry per repo (key: sha256 of its absolute path): kustomization folder -> (its file, the
file's digest, the paths it names). An entry is reused while the file's digest
(``servegate.memo.digests``, through the stat index) is the recorded one. With the memo off
every kustomization is read.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from servegate.memo import Memo

#: The stage and its format version (3: one memo format for every stage).
STAGE, VERSION = "paths", 3
#: (kustomization folder, file, raw bytes) -> the repo-relative paths it names.
Reader = Callable[[str, str, bytes], set[str]]


def path_entries(
    memo: Memo, root: Path, kfiles: Mapping[str, str], read: Reader
) -> dict[str, set[str]]:
    """``read`` of every kustomization (``kfiles``: folder -> file, all of the repo's), from
    the memo where the file is unchanged."""
    store = memo.store(STAGE, VERSION)
    if store is None:
        return {kdir: _read(root, kdir, kfile, read)[0] for kdir, kfile in kfiles.items()}
    hasher = memo.hasher(root)
    key = hashlib.sha256(os.fsencode(str(root))).hexdigest()
    loaded = store.get(key)
    known: dict[str, tuple[str, bytes, list[str]]] = loaded if isinstance(loaded, dict) else {}
    found: dict[str, set[str]] = {}
    fresh: dict[str, tuple[str, bytes, list[str]]] = {}
    for kdir, kfile in kfiles.items():
        digest = hasher.file(kfile)
        entry = known.get(kdir)
        if type(entry) is tuple and len(entry) == 3 and entry[:2] == (kfile, digest):
            found[kdir] = set(entry[2])
            fresh[kdir] = entry
            continue
        entries, raw = _read(root, kdir, kfile, read)
        found[kdir] = entries
        if raw is not None and hashlib.sha256(raw).digest() == digest:
            fresh[kdir] = (kfile, digest, sorted(entries))
        # else: missing, or changed while being read: used, but not remembered
    hasher.save()
    if fresh != known:
        store.put(key, fresh)
    return found


def _read(root: Path, kdir: str, kfile: str, read: Reader) -> tuple[set[str], bytes | None]:
    try:
        raw = (root / kfile).read_bytes()
    except OSError:
        return set(), None
    return read(kdir, kfile, raw), raw

"""File digests of one repo: each file hashed once per run, and, with the memo on, not read
again across runs while its stat is unchanged (a stat index, like git's).

The stat index of a repo is one entry of the ``digests`` stage, keyed by the sha256 of the
repo's absolute path: repo-relative path -> (size, mtime, ctime, inode, device, when it was
hashed, sha256). An entry is trusted only when the file's stat is the recorded one and the
file had not changed within ``RACY_NS`` of being hashed ("racy git": a change inside the
timestamp granularity would keep the stat).
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from servegate.memo.store import Store

#: The stage of the stat indexes, and its format version (bump when the entry changes).
STAGE, VERSION = "digests", 2
#: A file whose mtime or ctime is this close to (or after) the moment it was hashed may have
#: changed again within the timestamp granularity: its entry is not trusted.
RACY_NS = 2_000_000_000
_SKIP_DIRS = frozenset({".git", ".hg", ".svn"})

#: (size, mtime_ns, ctime_ns, inode, device, hashed at ns, sha256 digest)
_IndexEntry = tuple[int, int, int, int, int, int, bytes]


def _hash_file(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).digest()
    except IsADirectoryError:
        return b"dir"
    except OSError:
        return b"missing"  # creating the file later changes the key


class _StatIndex:
    def __init__(self, store: Store, key: str) -> None:
        self.store = store
        self.key = key
        self.entries: dict[str, _IndexEntry] | None = None
        self.dirty = False

    def load(self) -> dict[str, _IndexEntry]:
        if self.entries is None:
            found = self.store.get(self.key)
            self.entries = found if isinstance(found, dict) else {}
        return self.entries

    def save(self) -> None:
        if self.dirty and self.entries is not None:
            self.dirty = False
            self.store.put(self.key, self.entries)


class InputHasher:
    """Digests of files and directory trees of the repo at ``root``, each computed once per
    run; with a ``store`` (the memo on), a file whose stat matches its stat index entry is not
    read (``Memo.hasher`` makes the one of a run)."""

    def __init__(self, root: Path, store: Store | None = None) -> None:
        self.root = root
        self._base = str(root)
        self._files: dict[str, bytes] = {}
        self._trees: dict[str, list[tuple[str, bytes]]] = {}
        key = hashlib.sha256(os.fsencode(self._base)).hexdigest()
        self._index = _StatIndex(store, key) if store is not None else None

    def again(self) -> InputHasher:
        """A hasher of the same repo and stat index that has computed nothing yet: each file
        is stat-checked anew (and hashed again when its stat changed since)."""
        fresh = InputHasher(self.root)
        fresh._index = self._index
        return fresh

    def save(self) -> None:
        """Write the stat index (when anything in it changed)."""
        if self._index is not None:
            self._index.save()

    def file(self, rel: str, st: os.stat_result | None = None) -> bytes:
        """The sha256 digest of the file at ``rel`` (``b"missing"``/``b"dir"`` when it cannot
        be read as one); ``st``: its ``os.stat`` when the caller has it already."""
        found = self._files.get(rel)
        if found is None:
            if rel.endswith(("/", "/.")) or rel == ".":
                path = str(self.root / rel)  # what pathlib would open
            else:
                path = os.path.join(self._base, rel)
            found = _hash_file(path) if self._index is None else self._indexed(rel, path, st)
            self._files[rel] = found
        return found

    def _indexed(self, rel: str, path: str, st: os.stat_result | None) -> bytes:
        assert self._index is not None
        entries = self._index.load()
        started = time.time_ns()
        try:
            st = os.stat(path) if st is None else st
        except (OSError, ValueError):
            if entries.pop(rel, None) is not None:
                self._index.dirty = True
            return _hash_file(path)
        if not stat.S_ISREG(st.st_mode):
            return _hash_file(path)
        sig = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
        known = entries.get(rel)
        if (
            type(known) is tuple
            and len(known) == 7
            and known[:5] == sig
            and max(st.st_mtime_ns, st.st_ctime_ns) < known[5] - RACY_NS
            and type(known[6]) is bytes
        ):
            return known[6]
        digest = _hash_file(path)
        if len(digest) == 32:
            entries[rel] = (*sig, started, digest)
        else:
            entries.pop(rel, None)
        self._index.dirty = True
        return digest

    def tree(self, rel_dir: str) -> list[tuple[str, bytes]]:
        """(path, digest) of every file under ``rel_dir``, recursively, sorted."""
        found = self._trees.get(rel_dir)
        if found is None:
            found = []
            base = self.root / rel_dir
            for dirpath, dirnames, filenames in os.walk(base):
                dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
                prefix = self._rel_prefix(dirpath)
                for name in sorted(filenames):
                    if prefix is None:
                        full = os.path.join(dirpath, name)
                        rel = Path(os.path.relpath(full, self.root)).as_posix()
                    else:
                        rel = prefix + name
                    found.append((rel, self.file(rel)))
            self._trees[rel_dir] = found
        return found

    def _rel_prefix(self, dirpath: str) -> str | None:
        """``dirpath`` relative to the root plus "/", by string when that is what relpath
        gives (a plain path below the root); None: ask relpath."""
        if os.sep != "/":
            return None
        if dirpath == self._base:
            return ""
        if not dirpath.startswith(self._base + "/") or self._base.endswith("/"):
            return None
        rest = dirpath[len(self._base) + 1 :]
        if any(part in ("", ".", "..") for part in rest.split("/")):
            return None
        return rest + "/"

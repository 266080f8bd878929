"""The memo's one on-disk format and folder layout.

Every stage keeps its entries in its own folder of the cache directory, named by the stage
and its format version (``renders-v2``), one file per key under the key's first two hex digits:
``<cache>/<stage>-v<N>/<key[:2]>/<key>``. An entry is ``marshal`` of ``(stage, data)``; data
``marshal`` cannot hold (a timestamp) is not stored. Entries are written to a temporary file
and renamed into place, so concurrent runs never see half an entry; one that cannot be read is
a miss and is computed again. The folder is ``$SERVEGATE_CACHE_DIR``, else the platform's user
cache folder (``platformdirs``). It holds only what servegate wrote: reading it back is as
trusted as servegate's own code.

A check's memo (``servegate.memo.Memo``) writes its entries in a background thread
(``Writer``): a cold check writes thousands, each a few file system calls, and the thread that
computed an entry need not wait for them. An entry not yet written is read from the queue.

``servegate cache info`` lists the stage folders (``info``) and ``servegate cache clear``
removes them (``clear``), nothing else: the folder may be shared.
"""

from __future__ import annotations

import marshal
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from servegate.rawfiles import read_bytes

#: A folder of the cache directory that holds one stage's entries: ``<stage>-v<version>`` (or
#: ``tools``, the layout of servegate 0.1's first releases).
STAGE_FOLDER = re.compile(r"^([a-z][a-z-]*-v[0-9]+|tools)$")


def cache_dir() -> Path:
    """Where entries live: $SERVEGATE_CACHE_DIR, else the platform's user cache folder."""
    override = os.environ.get("SERVEGATE_CACHE_DIR")
    if override:
        return Path(override)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("servegate"))


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and a rename; errors are ignored, since
    a memo that cannot be written only costs time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return


class Writer:
    """Entries written by one background thread, in the order they were put (``write_atomic``
    each). ``pending`` answers a read of an entry not yet written; ``flush`` waits until every
    entry is written. The thread is no daemon: what was put before the interpreter exits is
    still written."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._queue: dict[str, bytes] = {}
        self._busy = False

    def put(self, path: str, data: bytes) -> None:
        with self._lock:
            self._queue.pop(path, None)  # written once, after what was put before it
            self._queue[path] = data
            if not self._busy:
                self._busy = True
                threading.Thread(target=self._run, name="servegate-memo-writer").start()

    def pending(self, path: str) -> bytes | None:
        """The entry at ``path`` when it is still waiting to be written."""
        with self._lock:
            return self._queue.get(path)

    def flush(self) -> None:
        """Wait until every entry put so far is written."""
        with self._lock:
            while self._busy:
                self._idle.wait()

    def _run(self) -> None:
        try:
            while True:
                with self._lock:
                    if not self._queue:
                        self._busy = False
                        self._idle.notify_all()
                        return
                    path, data = next(iter(self._queue.items()))
                write_atomic(Path(path), data)
                with self._lock:
                    if self._queue.get(path) is data:
                        del self._queue[path]
        except BaseException:  # unexpected: the entries left are only lost time
            with self._lock:
                self._queue.clear()
                self._busy = False
                self._idle.notify_all()
            raise


class Store:
    """One stage's entries by key (a hex digest), in ``<cache>/<name>-v<version>/``; written
    by ``writer`` in the background when given, else at once."""

    def __init__(
        self, directory: Path, name: str, version: int, writer: Writer | None = None
    ) -> None:
        self.name = name
        self.folder = directory / f"{name}-v{version}"
        self._base = str(self.folder)
        self._writer = writer
        self.hits = 0
        self.misses = 0

    def path(self, key: str) -> str:
        return os.path.join(self._base, key[:2], key)

    def has(self, key: str) -> bool:
        """Whether an entry exists (without reading it)."""
        path = self.path(key)
        return (self._writer is not None and self._writer.pending(path) is not None) or (
            os.path.isfile(path)
        )

    def get(self, key: str) -> Any:
        """The entry's data, or None when absent or unreadable (counted as hit or miss)."""
        path = self.path(key)
        try:
            raw = self._writer.pending(path) if self._writer is not None else None
            if raw is None:
                raw = read_bytes(path)
            # written only by servegate, in the user's own cache folder (see the docstring)
            stage, data = marshal.loads(raw)  # noqa: S302
        except (OSError, ValueError, EOFError, TypeError):
            data, stage = None, None
        if stage != self.name:
            data = None
        if data is None:
            self.misses += 1
        else:
            self.hits += 1
        return data

    def put(self, key: str, data: Any) -> bool:
        """Store ``data`` (plain values marshal holds); False when it cannot be held."""
        try:
            packed = marshal.dumps((self.name, data))
        except ValueError:
            return False
        if self._writer is not None:
            self._writer.put(self.path(key), packed)
        else:
            write_atomic(Path(self.path(key)), packed)
        return True


@dataclass(frozen=True, slots=True)
class StageInfo:
    """One folder of the cache directory, as ``servegate cache info`` shows it."""

    name: str
    entries: int
    bytes: int


def info(directory: Path) -> list[StageInfo]:
    """Every stage folder in ``directory`` with its entry count and size."""
    stages = []
    for folder in _stage_folders(directory):
        entries = size = 0
        for path in folder.rglob("*"):
            if path.is_file():
                entries += 1
                size += path.stat().st_size
        stages.append(StageInfo(folder.name, entries, size))
    return stages


def clear(directory: Path) -> int:
    """Remove every stage folder from ``directory`` (nothing else: the folder may be shared);
    the number of entries removed."""
    removed = 0
    for folder in _stage_folders(directory):
        removed += sum(1 for p in folder.rglob("*") if p.is_file())
        shutil.rmtree(folder, ignore_errors=True)
    return removed


def _stage_folders(directory: Path) -> Iterator[Path]:
    if not directory.is_dir():
        return
    for folder in sorted(directory.iterdir()):
        if folder.is_dir() and not folder.is_symlink() and STAGE_FOLDER.match(folder.name):
            yield folder

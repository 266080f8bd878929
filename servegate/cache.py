"""Content-hash cache of kustomize output, under the user cache directory.

A root's key is a sha256 over everything its rendering can depend on: the path and content of
every file kustomize may read for it (the files discovery lists, plus every file under every
directory of its kustomization closure, since ``LoadRestrictionsRootOnly`` confines kustomize to
those), the kubectl/kustomize version, the flags, the absolute repo root and the wrapper layout.
A changed, added or removed input changes the key, so a stale entry is never read. Entries are
written to a temporary file and renamed into place, so concurrent runs never see half an entry.
The folder is ``platformdirs.user_cache_dir("servegate")``, or ``$SERVEGATE_CACHE_DIR``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from servegate.yamlsafe import LoadResult

#: Bump when the entry format or the key recipe changes: old entries are then never read.
FORMAT = "render-v1"
_SKIP_DIRS = frozenset({".git", ".hg", ".svn"})


def cache_dir() -> Path:
    """Where entries live: $SERVEGATE_CACHE_DIR, else the platform's user cache folder."""
    override = os.environ.get("SERVEGATE_CACHE_DIR")
    if override:
        return Path(override)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("servegate"))


@dataclass(frozen=True, slots=True)
class Entry:
    """A cached render: kustomize's stdout (or its cleaned error) and the wrapper it ran in."""

    output: str | None
    error: str | None
    wrapper: str
    objects: list[Any] | None = None
    """``output`` parsed, kept as JSON (read about 20x faster than YAML) when it survives a
    JSON round trip unchanged (no timestamps, binary or non-string keys)."""


class InputHasher:
    """Digests of files and directory trees of one repo, each computed once per run."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._files: dict[str, bytes] = {}
        self._trees: dict[str, list[tuple[str, bytes]]] = {}

    def file(self, rel: str) -> bytes:
        found = self._files.get(rel)
        if found is None:
            path = self.root / rel
            try:
                found = hashlib.sha256(path.read_bytes()).digest()
            except IsADirectoryError:
                found = b"dir"
            except OSError:
                found = b"missing"  # creating the file later changes the key
            self._files[rel] = found
        return found

    def tree(self, rel_dir: str) -> list[tuple[str, bytes]]:
        """(path, digest) of every file under ``rel_dir``, recursively, sorted."""
        found = self._trees.get(rel_dir)
        if found is None:
            found = []
            base = self.root / rel_dir
            for dirpath, dirnames, filenames in os.walk(base):
                dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
                for name in sorted(filenames):
                    rel = Path(os.path.relpath(os.path.join(dirpath, name), self.root)).as_posix()
                    found.append((rel, self.file(rel)))
            self._trees[rel_dir] = found
        return found


def render_key(
    hasher: InputHasher,
    files: Iterable[str],
    dirs: Iterable[str],
    context: Iterable[str],
) -> str:
    """The key of one render: ``files`` and the trees under ``dirs`` (repo-relative), plus
    ``context`` strings (tool version, flags, root, wrapper layout)."""
    digest = hashlib.sha256(FORMAT.encode())
    for text in context:
        digest.update(b"\0c" + text.encode("utf-8", "surrogateescape"))
    entries: dict[str, bytes] = {}
    for rel in files:
        entries[rel] = hasher.file(rel)
    for d in dirs:
        entries.update(hasher.tree(d))
    for rel in sorted(entries):
        digest.update(b"\0f" + rel.encode("utf-8", "surrogateescape") + b"\0" + entries[rel])
    return digest.hexdigest()


class RenderCache:
    """Entries by key; a disabled cache (``--no-cache``) never reads nor writes."""

    def __init__(self, directory: Path | None = None, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.directory = (directory or cache_dir()) / FORMAT if enabled else Path()
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> Entry | None:
        if not self.enabled:
            return None
        try:
            data: Any = json.loads(self._path(key).read_bytes())
            objects = data.get("objects")
            entry = Entry(
                data["output"],
                data["error"],
                data["wrapper"],
                objects if isinstance(objects, list) else None,
            )
        except (OSError, ValueError, KeyError, TypeError):
            self.misses += 1
            return None  # absent or unreadable: render again (and overwrite)
        if not isinstance(entry.wrapper, str) or (entry.output is None) == (entry.error is None):
            self.misses += 1
            return None
        self.hits += 1
        return entry

    def put(self, key: str, entry: Entry) -> None:
        if not self.enabled:
            return
        path = self._path(key)
        data = {
            "output": entry.output,
            "error": entry.error,
            "wrapper": entry.wrapper,
            "objects": entry.objects,
        }
        write_atomic(path, json.dumps(data).encode("utf-8"))


def as_json_data(output: str | None) -> list[Any] | None:
    """kustomize ``output`` parsed as the engine parses it, if JSON keeps it exactly; else None
    (the engine then parses the YAML text itself)."""
    if output is None:
        return None
    import yaml

    from servegate.yamlsafe import load_plain

    try:
        objects = load_plain(output)
        if json.loads(json.dumps(objects)) != objects:
            return None
    except (yaml.YAMLError, TypeError, ValueError, RecursionError):
        return None
    return objects


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and a rename; errors are ignored, since
    a cache that cannot be written only costs time."""
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


def read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


#: Bump when the parse entry format changes.
PARSE_FORMAT = "parse-v1"


class ParseCache:
    """Strict-parse results of source files by sha256 of their bytes and servegate's version,
    stored with ``marshal`` (data, node positions and problems; about 10x faster to read back
    than parsing). Results marshal cannot hold (timestamps) are simply not stored."""

    def __init__(self, directory: Path | None = None, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.directory = (directory or cache_dir()) / PARSE_FORMAT if enabled else Path()

    def _path(self, raw: bytes) -> Path:
        from servegate import __version__

        key = hashlib.sha256(__version__.encode() + b"\0" + raw).hexdigest()
        return self.directory / key[:2] / key

    def load(self, raw: bytes) -> LoadResult:
        """``raw`` strictly parsed (``servegate.yamlsafe.load_bytes``), from the cache if there."""
        from servegate.yamlsafe import load_bytes

        if not self.enabled:
            return load_bytes(raw)
        path = self._path(raw)
        found = _unpack(path)
        if found is not None:
            return found
        result = load_bytes(raw)
        packed = _pack(result)
        if packed is not None:
            write_atomic(path, packed)
        return result


def _pack(result: LoadResult) -> bytes | None:
    import marshal

    docs = [(d.data, d.line, d.positions) for d in result.documents]
    problems = [(p.rule, p.message, p.line) for p in result.problems]
    try:
        return marshal.dumps((docs, problems))
    except ValueError:
        return None  # a value marshal cannot hold (a datetime): parse this file every time


def _unpack(path: Path) -> LoadResult | None:
    import marshal

    from servegate.yamlsafe import Document, LoadResult, YAMLProblem

    try:
        # the user's own cache folder, written only by servegate: as trusted as its code
        docs, problems = marshal.loads(path.read_bytes())  # noqa: S302
        return LoadResult(
            [Document(data, line, positions) for data, line, positions in docs],
            [YAMLProblem(rule, message, line) for rule, message, line in problems],
        )
    except (OSError, ValueError, EOFError, TypeError):
        return None  # absent or damaged: parse again (and overwrite)

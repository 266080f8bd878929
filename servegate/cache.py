"""Content-hash cache of kustomize output, under the user cache directory.

A root's key is a sha256 over everything its rendering can depend on: the path and content of
every file kustomize may read for it (the files discovery lists, plus every file under every
directory of its kustomization closure, since ``LoadRestrictionsRootOnly`` confines kustomize to
those), the kubectl/kustomize version, the flags, the absolute repo root and the wrapper layout.
A changed, added or removed input changes the key, so a stale entry is never read. Entries are
written to a temporary file and renamed into place, so concurrent runs never see half an entry.
The folder is ``platformdirs.user_cache_dir("servegate")``, or ``$SERVEGATE_CACHE_DIR``.
File digests are remembered across runs in a stat index (``hash-v1``), trusted only for files
whose stat is unchanged and that had not changed within ``RACY_NS`` of being hashed.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from servegate.yamlsafe import Budget, LoadResult

#: Bump when the entry format or the key recipe changes: old entries are then never read.
FORMAT = "render-v2"
_T = TypeVar("_T")
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


#: Bump when the stat index format changes: old indexes are then never read.
HASH_FORMAT = "hash-v1"
#: A file whose mtime or ctime is this close to (or after) the moment it was hashed may have
#: changed again within the timestamp granularity ("racy git"): its entry is not trusted.
RACY_NS = 2_000_000_000
_stat_index = False


def use_stat_index(enabled: bool) -> None:
    """Turn the persistent stat index of ``InputHasher`` on or off for this process (off by
    default; ``servegate.sources.use_parse_cache`` sets it with the caches)."""
    global _stat_index
    _stat_index = enabled


def stat_index_enabled() -> bool:
    return _stat_index


#: (size, mtime_ns, ctime_ns, inode, device, hashed at ns, sha256 digest)
_IndexEntry = tuple[int, int, int, int, int, int, bytes]


class _StatIndex:
    """Digests of one repo's files by repo-relative path, trusted while the file's stat is the
    same and was not recent when hashed; kept in ``<cache>/hash-v1/<sha256 of the root>``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, _IndexEntry] | None = None
        self.dirty = False

    def load(self) -> dict[str, _IndexEntry]:
        if self.entries is None:
            import marshal

            self.entries = {}
            try:
                with open(self.path, "rb") as handle:
                    # the user's own cache folder, written only by servegate: as trusted as its code
                    fmt, entries = marshal.loads(handle.read())  # noqa: S302
                if fmt == HASH_FORMAT and isinstance(entries, dict):
                    self.entries = entries
            except (OSError, ValueError, EOFError, TypeError):
                pass  # absent or damaged: hash everything (and rewrite it)
        return self.entries

    def save(self) -> None:
        if self.dirty and self.entries is not None:
            import marshal

            self.dirty = False
            write_atomic(self.path, marshal.dumps((HASH_FORMAT, self.entries)))


def _hash_file(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).digest()
    except IsADirectoryError:
        return b"dir"
    except OSError:
        return b"missing"  # creating the file later changes the key


class InputHasher:
    """Digests of files and directory trees of one repo, each computed once per run. With the
    stat index on (``use_stat_index``), a file whose size, mtime, ctime, inode and device are
    those recorded when it was hashed at least ``RACY_NS`` after its last change is not read
    again; the index is saved by ``save()`` or when the hasher is dropped."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._base = str(root)
        self._files: dict[str, bytes] = {}
        self._trees: dict[str, list[tuple[str, bytes]]] = {}
        self._index: _StatIndex | None = None
        if _stat_index:
            import weakref

            name = hashlib.sha256(os.fsencode(self._base)).hexdigest()
            self._index = _StatIndex(cache_dir() / HASH_FORMAT / name)
            self._saver = weakref.finalize(self, self._index.save)

    def save(self) -> None:
        """Write the stat index now (when anything in it changed)."""
        if self._index is not None:
            self._index.save()

    def file(self, rel: str) -> bytes:
        found = self._files.get(rel)
        if found is None:
            if rel.endswith(("/", "/.")) or rel == ".":
                path = str(self.root / rel)  # what pathlib would open
            else:
                path = os.path.join(self._base, rel)
            found = _hash_file(path) if self._index is None else self._indexed(rel, path)
            self._files[rel] = found
        return found

    def _indexed(self, rel: str, path: str) -> bytes:
        assert self._index is not None
        entries = self._index.load()
        started = time.time_ns()
        try:
            st = os.stat(path)
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


class JSONStore:
    """JSON entries by key in one folder (``fmt``) of the cache directory, written atomically;
    a disabled store (``--no-cache``) never reads nor writes. Subclasses give entries a type."""

    def __init__(self, fmt: str, directory: Path | None = None, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.directory = (directory or cache_dir()) / fmt if enabled else Path()
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def has(self, key: str) -> bool:
        """Whether an entry exists (without reading it)."""
        return self.enabled and self._path(key).is_file()

    def read(self, key: str) -> Any:
        """The entry's JSON data, or None when disabled, absent or unreadable."""
        if not self.enabled:
            return None
        try:
            return json.loads(self._path(key).read_bytes())
        except (OSError, ValueError):
            return None

    def write(self, key: str, data: Any) -> None:
        if self.enabled:
            write_atomic(self._path(key), json.dumps(data).encode("utf-8"))

    def counted(self, entry: _T | None) -> _T | None:
        """``entry``, counted as a hit or (None: absent or damaged, so redone) a miss."""
        if entry is None:
            self.misses += 1
        else:
            self.hits += 1
        return entry


class RenderCache(JSONStore):
    """Rendered roots by render key (``render_key``)."""

    def __init__(self, directory: Path | None = None, *, enabled: bool = True) -> None:
        super().__init__(FORMAT, directory, enabled=enabled)

    def get(self, key: str) -> Entry | None:
        if not self.enabled:
            return None
        return self.counted(_entry(self.read(key)))

    def put(self, key: str, entry: Entry) -> None:
        data = {
            "output": entry.output,
            "error": entry.error,
            "wrapper": entry.wrapper,
            "objects": entry.objects,
        }
        self.write(key, data)


def _entry(data: Any) -> Entry | None:
    try:
        objects = data.get("objects")
        entry = Entry(
            data["output"],
            data["error"],
            data["wrapper"],
            objects if isinstance(objects, list) else None,
        )
    except (AttributeError, KeyError, TypeError):
        return None
    if not isinstance(entry.wrapper, str) or (entry.output is None) == (entry.error is None):
        return None
    return entry


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


#: Bump when the parse entry format changes (v2: positions marshalled apart, decoded on use;
#: v3: keyed by dialect, alias-expanded node count kept).
PARSE_FORMAT = "parse-v3"


class ParseCache:
    """Strict-parse results of source files by sha256 of their bytes and servegate's version,
    stored with ``marshal`` (data, node positions and problems; about 10x faster to read back
    than parsing). Results marshal cannot hold (timestamps) are simply not stored. A file
    loaded again under the same ``name`` with the same bytes gets the result already built
    (discovery and the source files both read patch files)."""

    def __init__(self, directory: Path | None = None, *, enabled: bool = True) -> None:
        from servegate import __version__

        self.enabled = enabled
        self.directory = (directory or cache_dir()) / PARSE_FORMAT if enabled else Path()
        self._dir = str(self.directory)
        from servegate.yamlsafe import decoder_fingerprint

        self._salt = f"{__version__}\0{decoder_fingerprint()}\0".encode()
        self._memo: dict[tuple[str, str], LoadResult] = {}

    def _path(self, raw: bytes) -> Path:
        return Path(self._file(hashlib.sha256(self._salt + raw).hexdigest()))

    def _file(self, key: str) -> str:
        return os.path.join(self._dir, key[:2], key)

    def load(
        self,
        raw: bytes,
        name: str | None = None,
        *,
        dialect: str = "kubernetes",
        budget: Budget | None = None,
    ) -> LoadResult:
        """``raw`` strictly parsed (``servegate.yamlsafe.load_bytes``) in ``dialect``, from the
        cache if there; a result that depends on the run's ``budget`` is never stored."""
        from servegate.yamlsafe import load_bytes

        if not self.enabled:
            return load_bytes(raw, dialect=dialect, budget=budget)
        key = hashlib.sha256(self._salt + dialect.encode() + b"\0" + raw).hexdigest()
        if name is not None:
            known = self._memo.get((name, key))
            if known is not None:
                return known
        path = self._file(key)
        found = _unpack(path)
        if found is None:
            found = load_bytes(raw, dialect=dialect, budget=budget)
            packed = _pack(found) if found.cacheable else None
            if packed is not None:
                write_atomic(Path(path), packed)
        if name is not None:
            self._memo[(name, key)] = found
        return found


def _pack(result: LoadResult) -> bytes | None:
    import marshal

    problems = [(p.kind.value, p.message, p.line) for p in result.problems]
    try:
        docs = [(d.data, d.line, marshal.dumps(d.positions)) for d in result.documents]
        return marshal.dumps((docs, problems, result.alias_nodes))
    except ValueError:
        return None  # a value marshal cannot hold (a datetime): parse this file every time


def _unpack(path: Path | str) -> LoadResult | None:
    import marshal

    from servegate.yamlsafe import Document, LoadResult, Problem, YAMLProblem

    try:
        with open(path, "rb") as handle:
            # the user's own cache folder, written only by servegate: as trusted as its code
            docs, problems, alias_nodes = marshal.loads(handle.read())  # noqa: S302
        documents = []
        for data, line, positions in docs:
            if type(positions) is not bytes:
                return None
            documents.append(Document(data, line, packed=positions))
        return LoadResult(
            documents,
            [YAMLProblem(Problem(kind), message, line) for kind, message, line in problems],
            alias_nodes,
        )
    except (OSError, ValueError, EOFError, TypeError):
        return None  # absent or damaged: parse again (and overwrite)

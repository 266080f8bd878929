"""The repo's source files, each read and strictly parsed at most once per run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from servegate.findings import Finding, Severity
from servegate.yamlsafe import LoadResult, YAMLProblem, load_bytes

if TYPE_CHECKING:
    from servegate.cache import ParseCache

_parse_cache: ParseCache | None = None


def use_parse_cache(enabled: bool) -> None:
    """Turn the persistent parse cache (``servegate.cache.ParseCache``) on or off for this
    process; the engine calls it per check with ``--no-cache`` and $SERVEGATE_CACHE_DIR."""
    global _parse_cache
    from servegate import cache

    # the render inputs' stat index lives and dies with the caches (--no-cache: neither)
    cache.use_stat_index(enabled)
    _parse_cache = cache.ParseCache() if enabled else None


def parse(raw: bytes, name: str | None = None) -> LoadResult:
    """``raw`` strictly parsed, through the parse cache when it is on; ``name`` (the file's
    repo-relative path) lets a second load of the same bytes reuse the first result."""
    if _parse_cache is None:
        return load_bytes(raw)
    return _parse_cache.load(raw, name)


class SourceFiles:
    """Strictly parsed YAML files of one repo, by path relative to its root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._base = str(root)
        self._loaded: dict[str, LoadResult] = {}

    def load(self, rel: str) -> LoadResult:
        found = self._loaded.get(rel)
        if found is None:
            found = self._read(rel)
            self._loaded[rel] = found
        return found

    def _read(self, rel: str) -> LoadResult:
        path = str(self.root / rel) if rel.endswith(("/", "/.")) else os.path.join(self._base, rel)
        try:
            with open(path, "rb") as handle:
                if os.fstat(handle.fileno()).st_size > 64 * 1024 * 1024:
                    return LoadResult([], [YAMLProblem("yaml.too-large", "file is over 64 MiB")])
                raw = handle.read()
        except IsADirectoryError:
            return LoadResult([], [YAMLProblem("yaml.unreadable", "is a directory, not a file")])
        except OSError as err:
            return LoadResult(
                [], [YAMLProblem("yaml.unreadable", f"cannot read file: {err.strerror}")]
            )
        return parse(raw, rel)

    def findings(self, rel: str) -> list[Finding]:
        """The yaml.* findings of one file."""
        return [
            Finding(p.rule, Severity.ERROR, p.message, rel, p.line) for p in self.load(rel).problems
        ]

    @property
    def count(self) -> int:
        return len(self._loaded)

    @property
    def names(self) -> set[str]:
        """The files loaded so far."""
        return set(self._loaded)

    @property
    def problems(self) -> set[str]:
        """The files loaded so far that have yaml.* findings."""
        return {rel for rel, result in self._loaded.items() if result.problems}

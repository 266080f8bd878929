"""Strictly parsed files (``servegate.yamlsafe.load_bytes``) by their content and dialect, and
the run's reading budget.

Key: sha256 of servegate's version, the decoder's fingerprint, the dialect and the file's
bytes. Entry: each document's data, first line and node positions (kept marshalled until a
line is asked for: most documents never need one), the problems and the nodes alias expansion
added; about 10x faster to read back than parsing. A result that depends on more than the bytes
(the run's budget refused part of it) or that marshal cannot hold is not stored. Within a run a
file loaded again under the same name with the same bytes gets the result already built
(discovery and the source files both read patch files). With the memo off every load parses,
and nothing is hashed.

Every load of a run, hit or not, is charged to the run's ``Budget`` of bytes, documents and
alias-expanded nodes (``servegate.yamlsafe``): one ``ParseMemo`` per run holds it.
"""

from __future__ import annotations

import hashlib
import marshal
from typing import TYPE_CHECKING, Any

from servegate.yamlsafe import (
    Budget,
    Document,
    LoadResult,
    Problem,
    YAMLProblem,
    load_bytes,
    node_estimate,
)

if TYPE_CHECKING:
    from servegate.memo.store import Store

#: The stage and its format version (4: one memo format for every stage; keyed by dialect).
STAGE, VERSION = "parses", 5  # 5: a duplicate key keeps its document (last value)


class ParseMemo:
    """Parsed files through ``store`` (None: the memo is off), within one run's budget;
    ``Memo.parses`` makes the one of a run."""

    def __init__(self, store: Store | None) -> None:
        self._store = store
        self._salt = b""
        self._seen: dict[tuple[str, str], LoadResult] = {}
        self.budget = Budget()
        """What the run may still read."""

    def load(self, raw: bytes, name: str | None, dialect: str) -> LoadResult:
        """``raw`` strictly parsed in ``dialect``, from the memo when it holds it, within what
        the run's budget has left; ``name`` (the file's repo-relative path) lets a second load
        of the same bytes in this run reuse the first."""
        nodes = node_estimate(raw)
        refused = self.budget.refuse(len(raw), nodes)
        if refused is not None:
            return LoadResult([], [refused], cacheable=False)
        result = self._load(raw, name, dialect, nodes)
        self.budget.charge(len(raw), result, nodes)
        return result

    def _load(self, raw: bytes, name: str | None, dialect: str, nodes: int) -> LoadResult:
        if self._store is None:
            return load_bytes(raw, dialect=dialect, budget=self.budget, nodes=nodes)
        if not self._salt:
            from servegate import __version__
            from servegate.yamlsafe import decoder_fingerprint

            self._salt = f"{__version__}\0{decoder_fingerprint()}\0".encode()
        key = hashlib.sha256(self._salt + dialect.encode() + b"\0" + raw).hexdigest()
        if name is not None:
            known = self._seen.get((name, key))
            if known is not None:
                return known
        found = _unpack(self._store.get(key))
        if found is None:
            found = load_bytes(raw, dialect=dialect, budget=self.budget, nodes=nodes)
            packed = _pack(found) if found.cacheable else None
            if packed is not None:
                self._store.put(key, packed)
        if name is not None:
            self._seen[(name, key)] = found
        return found


def _pack(result: LoadResult) -> Any:
    problems = [(p.kind.value, p.message, p.line) for p in result.problems]
    try:
        docs = [(d.data, d.line, marshal.dumps(d.positions)) for d in result.documents]
    except ValueError:
        return None  # a value marshal cannot hold: parse this file every time
    return [docs, problems, result.alias_nodes]


def _unpack(data: Any) -> LoadResult | None:
    try:
        docs, problems, alias_nodes = data
        documents = []
        for value, line, positions in docs:
            if type(positions) is not bytes:
                return None
            documents.append(Document(value, line, packed=positions))
        found = [YAMLProblem(Problem(kind), message, line) for kind, message, line in problems]
        return LoadResult(documents, found, int(alias_nodes))
    except (ValueError, TypeError):
        return None  # absent or damaged: parse again (and overwrite)

"""Strict, bounded YAML loading with a line number for every node, decoded as its consumer does.

Untrusted repositories are read here, so: safe tags only (anything else, ``!!python/...``
included, is refused), duplicate keys are errors at the duplicate's line, alias expansion,
document count and file size are bounded per file and per run (``Budget``), and encoding
problems become findings, never tracebacks. Composition runs in libyaml's C parser where
available; scalars, keys and merge keys are resolved here, in one of two dialects
(``servegate.yamldialects``):

- ``KUBERNETES``: sigs.k8s.io/yaml, which kubectl, Argo CD (directory apps, plugin output) and
  kustomize (for kustomization files) decode with: go-yaml v2's YAML 1.1 booleans; ``<<``
  entries applied in document order, each overriding what is already there, the sources of a
  ``<<: [a, b]`` list last to first (go-yaml v2 ``decode.go``: ``d.mapping``, ``d.merge``);
  map keys written as JSON strings and numbers as the API server holds them.
- ``KUSTOMIZE``: kustomize's kyaml (go-yaml v3): YAML 1.2 booleans; explicit keys win over
  merged ones, earlier merge sources over later ones, and a second ``<<`` is refused (kyaml
  ``yaml/rnode.go``: ``getMergeTagValue``, ``findMergeValues``, ``mergeAll``).
"""

from __future__ import annotations

import base64
import binascii
import enum
import math
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import yaml

from servegate.yamldialects import (
    BINARY,
    BOOL,
    FLOAT,
    INT,
    KUBERNETES,
    KUSTOMIZE,
    MERGE,
    NULL,
    STR,
    TIMESTAMP,
    float_key,
    json_number,
    resolve,
)

__all__ = [
    "KUBERNETES",
    "KUSTOMIZE",
    "Budget",
    "Document",
    "LoadResult",
    "Problem",
    "YAMLProblem",
]

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_DOCUMENTS = 2_000
MAX_ALIAS_NODES = 100_000
"""Nodes alias expansion may add to one file (a billion-laughs file adds 10**9)."""
MAX_NODES = 600_000
"""Nodes one file may hold, estimated before parsing (``node_estimate``): an 8 MiB file of
``[1,1,1,...]`` holds 3.9 million, which took a minute and 1.8 GB to check (about 17 µs a
node). The largest upstream CRDs (2.9 MB) estimate at about 100,000, so 8 MiB of them at
about 300,000."""
RUN_BYTES = 256 * 1024 * 1024
RUN_DOCUMENTS = 100_000
RUN_ALIAS_NODES = 500_000
RUN_NODES = 16_000_000
"""The same bounds over all the files one run reads (the bench's 300-model monorepo, 8,701
files, estimates at about 1,000,000 nodes)."""
CACHE_ALIAS_NODES = 10_000
"""A result whose aliases added more nodes than this is not worth a parse-cache entry."""

Path_ = tuple[str | int, ...]
BLOCK = -1
"""``Document.positions[(*path, BLOCK)]``: the line where the literal block scalar (``|``) at
``path`` starts its text, so that lines inside it (an embedded manifest) can be found. No
real path ends so: keys are strings, list indexes are not negative."""

_PLAIN = "servegate:plain"
"""The tag the composer gives an untagged plain scalar: resolved later, per dialect."""
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MAPPING_TAGS = frozenset({_MAP, "tag:yaml.org,2002:set", "tag:yaml.org,2002:omap"})
_RESOLVABLE = frozenset({BOOL, INT, FLOAT, NULL, TIMESTAMP})


class Problem(enum.Enum):
    """Why a file cannot be read safely. Each is reported by the ``yaml.<value>`` rule, whose
    module (``servegate/rules/yaml/``) names it."""

    SYNTAX = "syntax"
    DUPLICATE_KEY = "duplicate-key"
    UNSAFE_TAG = "unsafe-tag"
    ALIAS_BOMB = "alias-bomb"
    TOO_LARGE = "too-large"
    TOO_MANY_DOCUMENTS = "too-many-documents"
    ENCODING = "encoding"
    UNREADABLE = "unreadable"
    TAG_MISMATCH = "tag-mismatch"
    JSON_INCOMPATIBLE = "json-incompatible"
    MERGE_KEY = "merge-key"


class YAMLProblem(Exception):
    """One reason a file cannot be read safely; ``line`` is 1-based."""

    def __init__(self, kind: Problem, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.line = line


class YAMLDecodeError(yaml.YAMLError):
    """``load_plain``'s error: the text is YAML its consumer would refuse."""


class Document:
    """One YAML document: its data, the line it starts on, and the line of every node path.

    A document read back from the parse cache holds its positions still marshalled
    (``packed``) and decodes them on first use: most documents never need a line number.
    """

    __slots__ = ("_packed", "_positions", "data", "line")

    def __init__(
        self,
        data: Any,
        line: int,
        positions: dict[Path_, int] | None = None,
        *,
        packed: bytes | None = None,
    ) -> None:
        self.data = data
        self.line = line
        self._positions: dict[Path_, int] = {} if positions is None else positions
        self._packed = packed

    @property
    def positions(self) -> dict[Path_, int]:
        packed = self._packed
        if packed is not None:
            import marshal

            self._packed = None
            try:
                # written by servegate's own parse cache, as trusted as the data beside it
                decoded = marshal.loads(packed)  # noqa: S302
            except (ValueError, EOFError, TypeError):
                decoded = None  # a damaged entry: line numbers fall back to the document's
            self._positions = decoded if isinstance(decoded, dict) else {}
        return self._positions

    @positions.setter
    def positions(self, value: dict[Path_, int]) -> None:
        self._positions = value
        self._packed = None

    def packed_positions(self) -> bytes:
        """The node positions, marshalled (as the memo keeps them; not decoded when they
        still are). Raises ValueError when marshal cannot hold them."""
        if self._packed is not None:
            return self._packed
        import marshal

        return marshal.dumps(self._positions)

    def line_of(self, path: Path_) -> int:
        """Line of the deepest node on ``path`` that exists in this document."""
        positions = self.positions
        for end in range(len(path), 0, -1):
            found = positions.get(path[:end])
            if found is not None:
                return found
        return self.line

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Document):
            return NotImplemented
        return (self.data, self.line, self.positions) == (other.data, other.line, other.positions)

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value (as the dataclass was)

    def __repr__(self) -> str:
        return f"Document(data={self.data!r}, line={self.line!r}, positions={self.positions!r})"


@dataclass(slots=True)
class LoadResult:
    documents: list[Document]
    problems: list[YAMLProblem]
    alias_nodes: int = 0
    """Nodes alias expansion added to the documents."""
    cacheable: bool = True
    """False when the result depends on more than the bytes (a run bound) or is too large."""


@dataclass(slots=True)
class Budget:
    """What one run may still read: bytes, documents and alias-expanded nodes over all files.

    ``charge`` counts a result once, however often it is handed out."""

    bytes: int = RUN_BYTES
    documents: int = RUN_DOCUMENTS
    alias_nodes: int = RUN_ALIAS_NODES
    nodes: int = RUN_NODES
    _charged: set[int] = field(default_factory=set)

    def charge(self, size: int, result: LoadResult, nodes: int = 0) -> None:
        """Count one file's ``size`` bytes, its documents and aliases, and its ``nodes``
        (``node_estimate``) against the run's bounds."""
        if id(result) in self._charged:
            return
        self._charged.add(id(result))
        self.bytes -= size
        self.documents -= len(result.documents)
        self.alias_nodes -= result.alias_nodes
        self.nodes -= nodes

    def refuse(self, size: int, nodes: int = 0) -> YAMLProblem | None:
        """Why a file of ``size`` bytes and about ``nodes`` nodes is not read any more this
        run, if it is not."""
        if size > self.bytes:
            return YAMLProblem(
                Problem.TOO_LARGE,
                f"this run has already read {(RUN_BYTES - self.bytes) / 1048576:.0f} MiB of "
                f"YAML; servegate reads up to {RUN_BYTES // 1048576} MiB per run",
            )
        if nodes > self.nodes:
            return YAMLProblem(
                Problem.TOO_LARGE,
                f"this file holds about {nodes:,} YAML nodes and this run has already read "
                f"{RUN_NODES - self.nodes:,}; servegate reads up to {RUN_NODES:,} per run",
            )
        if self.documents <= 0:
            return YAMLProblem(
                Problem.TOO_MANY_DOCUMENTS,
                f"this run has already read {RUN_DOCUMENTS:,} documents, servegate's bound",
            )
        return None


@cache
def decoder_fingerprint() -> str:
    """This decoder's source files by size and modification time: a parse cache keyed with it
    never hands out a result an older decoder produced."""
    import hashlib
    import os

    from servegate import yamldialects

    digest = hashlib.sha256()
    for path in (__file__, yamldialects.__file__):
        try:
            st = os.stat(path)
        except OSError:
            continue
        digest.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    return digest.hexdigest()[:16]


_STRUCTURE = "\n,:[{"
_STRUCTURE_BYTES = tuple(c.encode() for c in _STRUCTURE)


def node_estimate(data: str | bytes) -> int:
    """An upper estimate of the nodes YAML text holds, without parsing it: its line breaks,
    commas, colons and opening brackets (every node but a few shares one with at most one
    other). Counted in C, a few milliseconds per megabyte."""
    if isinstance(data, bytes):
        return sum(data.count(c) for c in _STRUCTURE_BYTES)
    return sum(data.count(c) for c in _STRUCTURE)


def decode(raw: bytes) -> str:
    """Decode file bytes as YAML text, or raise YAMLProblem with the offending line."""
    if len(raw) > MAX_FILE_BYTES:
        raise YAMLProblem(
            Problem.TOO_LARGE,
            f"file is {len(raw) / 1048576:.1f} MiB; servegate reads YAML files up to "
            f"{MAX_FILE_BYTES // 1048576} MiB",
        )
    if b"\x00" in raw[:8192] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise YAMLProblem(Problem.ENCODING, "file is binary (NUL bytes), not YAML text")
    try:
        text = raw.decode("utf-8-sig") if raw[:3] == b"\xef\xbb\xbf" else raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise YAMLProblem(
            Problem.ENCODING, f"file is not UTF-8 (byte 0x{raw[err.start]:02x})", line
        ) from None
    return text


def load_bytes(
    raw: bytes,
    *,
    positions: bool = True,
    dialect: str = KUBERNETES,
    budget: Budget | None = None,
    nodes: int | None = None,
) -> LoadResult:
    """Load every document in ``raw`` as ``dialect`` decodes it; problems are returned, never
    raised. ``budget`` (not charged here) lowers the file's bounds to what the run has left.
    ``nodes``: ``node_estimate(raw)`` when the caller has it (UTF-8 text counts the same)."""
    if nodes is None:
        nodes = node_estimate(raw)
    refused = budget.refuse(len(raw), nodes) if budget is not None else None
    if refused is not None:
        return LoadResult([], [refused], cacheable=False)
    try:
        text = decode(raw)
    except YAMLProblem as problem:
        return LoadResult([], [problem])
    return load_text(text, positions=positions, dialect=dialect, budget=budget, nodes=nodes)


# kubectl, Argo CD and kustomize split a stream at its ``---`` lines and decode each document
# alone, so a byte order mark may open every document (apimachinery ``util/yaml``
# ``YAMLReader``; go-yaml skips a leading BOM); libyaml refuses one after the first. Removing
# it keeps every line where it is.
_DOCUMENT_BOM = re.compile(r"^(---[ \t]*(?:#[^\n]*)?\n)\ufeff", re.M)


def load_text(
    text: str,
    *,
    positions: bool = True,
    dialect: str = KUBERNETES,
    budget: Budget | None = None,
    nodes: int | None = None,
) -> LoadResult:
    """``load_bytes`` for decoded text (``nodes``: its ``node_estimate``, when known)."""
    if "\ufeff" in text:
        text = _DOCUMENT_BOM.sub(r"\1", text)
    max_documents, max_aliases = MAX_DOCUMENTS, MAX_ALIAS_NODES
    if budget is not None:
        max_documents = min(max_documents, budget.documents)
        max_aliases = min(max_aliases, budget.alias_nodes)
    if nodes is None:
        nodes = node_estimate(text)
    if nodes > MAX_NODES:
        problem = YAMLProblem(
            Problem.TOO_LARGE,
            f"file holds about {nodes:,} YAML nodes (its lines, commas, colons and brackets); "
            f"servegate reads up to {MAX_NODES:,} per file",
        )
        return LoadResult([], [problem])
    documents: list[Document] = []
    problems: list[YAMLProblem] = []
    aliases = 0
    # an alias is written ``*name``: without a "*" the text has none, and expansion adds nothing
    may_alias = "*" in text
    loader = _composer(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            if len(documents) >= max_documents:
                whose = "one file" if max_documents == MAX_DOCUMENTS else "this run"
                bound = MAX_DOCUMENTS if whose == "one file" else RUN_DOCUMENTS
                problem = YAMLProblem(
                    Problem.TOO_MANY_DOCUMENTS,
                    f"more than {bound:,} documents in {whose}",
                    node.start_mark.line + 1,
                )
                return LoadResult([], [problem], cacheable=whose == "one file")
            converter = _Converter(dialect, positions)
            try:
                added = converter.alias_nodes_of(node) if may_alias else 0
                if aliases + added > max_aliases:
                    own = max_aliases == MAX_ALIAS_NODES  # else the run's bound: not the bytes'
                    return LoadResult([], [_bomb(node, max_aliases)], cacheable=own)
                aliases += added
                documents.append(converter.document(node))
                problems.extend(converter.problems)
            except YAMLProblem as problem:
                if problem.kind is Problem.ALIAS_BOMB:
                    return LoadResult([], [problem])
                problems.append(problem)
            except RecursionError:
                problems.append(
                    YAMLProblem(Problem.SYNTAX, "nested too deeply", node.start_mark.line + 1)
                )
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else 1
        problems.append(YAMLProblem(Problem.SYNTAX, _syntax_message(err), line))
    except (yaml.YAMLError, RecursionError, ValueError) as err:
        problems.append(YAMLProblem(Problem.SYNTAX, f"cannot parse YAML: {err}".splitlines()[0]))
    finally:
        loader.dispose()
    return LoadResult(documents, problems, aliases, aliases <= CACHE_ALIAS_NODES)


def _bomb(node: yaml.Node, limit: int) -> YAMLProblem:
    scope = "one file" if limit == MAX_ALIAS_NODES else "what this run has left"
    return YAMLProblem(
        Problem.ALIAS_BOMB,
        f"aliases expand this file by more than {limit:,} nodes ({scope}); "
        "every consumer pays for each copy",
        node.start_mark.line + 1,
    )


def _syntax_message(err: yaml.MarkedYAMLError) -> str:
    parts = [p for p in (err.context, err.problem) if p]
    return "invalid YAML: " + (", ".join(parts) if parts else "syntax error")


def _resolve_node(self: Any, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
    """The composer's tags: untagged plain scalars keep ``_PLAIN`` (resolved per dialect),
    other untagged scalars are strings; a YAML tag written in the file is kept as it is."""
    if kind is yaml.ScalarNode:
        return _PLAIN if implicit[0] else STR
    return _SEQ if kind is yaml.SequenceNode else _MAP


# A non-specific tag (a lone ``!``) makes go-yaml keep a plain scalar a string; libyaml reports
# it to the composer exactly as an untagged plain scalar, so such text is composed in Python.
_NON_SPECIFIC = re.compile(r"(?:^|(?<=[\s\[{,]))!(?=[\s\]},]|$)", re.M)


def _compose_scalar_node(self: Any, anchor: Any) -> yaml.ScalarNode:
    """PyYAML's ``Composer.compose_scalar_node``, with ``!`` meaning a string."""
    event = self.get_event()
    tag = event.tag
    if tag == "!":
        tag = STR
    elif tag is None:
        tag = self.resolve(yaml.ScalarNode, event.value, event.implicit)
    node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
    if anchor is not None:
        self.anchors[anchor] = node
    return node


def _no_path_resolvers(self: Any, *args: Any) -> None:
    pass


try:
    from yaml._yaml import CParser

    class _CComposer(CParser):
        """libyaml's parser and composer."""

        resolve = _resolve_node
        descend_resolver = ascend_resolver = _no_path_resolvers

    class _EventComposer(yaml.composer.Composer, CParser):
        """libyaml's parser, PyYAML's composer."""

        resolve = _resolve_node
        descend_resolver = ascend_resolver = _no_path_resolvers
        compose_scalar_node = _compose_scalar_node

        def __init__(self, text: str) -> None:
            CParser.__init__(self, text)
            yaml.composer.Composer.__init__(self)

    def _composer(text: str) -> Any:
        return _EventComposer(text) if _NON_SPECIFIC.search(text) else _CComposer(text)

except ImportError:  # pragma: no cover - libyaml is in every PyYAML wheel

    class _PyComposer(
        yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer
    ):
        resolve = _resolve_node
        descend_resolver = ascend_resolver = _no_path_resolvers
        compose_scalar_node = _compose_scalar_node

        def __init__(self, text: str) -> None:
            yaml.reader.Reader.__init__(self, text)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)

        def dispose(self) -> None:
            pass

    def _composer(text: str) -> Any:
        return _PyComposer(text)


def _short(tag: str) -> str:
    return "!!" + tag.rsplit(":", 1)[-1] if tag.startswith("tag:yaml.org,2002:") else tag


def _is_merge(key: yaml.Node) -> bool:
    """go-yaml's ``isMerge``: a plain (or ``!!merge``-tagged) scalar ``<<``."""
    return isinstance(key, yaml.ScalarNode) and key.value == "<<" and key.tag in (_PLAIN, MERGE)


class _Converter:
    """Turn one composed node tree into plain data as ``dialect`` decodes it, enforcing
    servegate's limits and recording the line of every path."""

    __slots__ = ("_dialect", "_kubernetes", "_positions", "_record", "_sizes", "problems")

    def __init__(self, dialect: str, record: bool) -> None:
        self._dialect = dialect
        self._kubernetes = dialect == KUBERNETES
        self._record = record
        self._positions: dict[Path_, int] = {}
        self._sizes: dict[int, int] = {}
        self.problems: list[YAMLProblem] = []
        """What the consumer accepts but servegate reports, the document still converted as
        the consumer converts it (a duplicate key: go-yaml v2 keeps the last value)."""

    def alias_nodes_of(self, node: yaml.Node) -> int:
        """Nodes that alias expansion adds to this document (memoised per node, so a bomb
        costs O(unique nodes) to measure)."""
        added = [0]
        self._expanded_size(node, set(), added)
        return added[0]

    def document(self, node: yaml.Node) -> Document:
        data = self._convert(node, ())
        return Document(data, node.start_mark.line + 1, self._positions)

    def _expanded_size(self, node: yaml.Node, active: set[int], added: list[int]) -> int:
        key = id(node)
        known = self._sizes.get(key)
        if known is not None:
            added[0] += known  # a node met again is an alias: every use is a copy
            return known
        if key in active:
            raise YAMLProblem(
                Problem.ALIAS_BOMB,
                "recursive alias (a node contains itself)",
                node.start_mark.line + 1,
            )
        if isinstance(node, yaml.ScalarNode):
            return 1
        active.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            for child in node.value:
                total += self._expanded_size(child, active, added)
        else:
            for k, v in node.value:
                total += self._expanded_size(k, active, added)
                total += self._expanded_size(v, active, added)
        active.discard(key)
        self._sizes[key] = total
        return total

    def _convert(self, node: yaml.Node, path: Path_, line: int | None = None) -> Any:
        if self._record:
            # a mapping value is located at its key's line, where a reader looks for it
            self._positions[path] = line or node.start_mark.line + 1
            if isinstance(node, yaml.ScalarNode) and node.style == "|" and "\n" in node.value:
                # a literal block's lines are the file's, from the one after its indicator
                self._positions[(*path, BLOCK)] = node.start_mark.line + 2
        if isinstance(node, yaml.ScalarNode):
            return self._value(node)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                raise _unsafe(node)
            return [self._convert(child, (*path, i)) for i, child in enumerate(node.value)]
        if node.tag not in _MAPPING_TAGS or not isinstance(node, yaml.MappingNode):
            raise _unsafe(node)
        result: dict[str, Any] = {}
        if self._kubernetes:
            self._fill_in_order(node, path, result)
        else:
            self._fill_explicit_first(node, path, result)
        return result

    def _fill_in_order(self, node: yaml.MappingNode, path: Path_, into: dict[str, Any]) -> None:
        """go-yaml v2: every entry, merged or not, is set in document order over what is
        there; ``<<: [a, b]`` merges b, then a."""
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if _is_merge(key_node):
                for source in reversed(_merge_sources(key_node, value_node)):
                    self._fill_in_order(source, path, into)
                continue
            key = self._entry(key_node, seen)
            into[key] = self._convert(value_node, (*path, key), key_node.start_mark.line + 1)

    def _fill_explicit_first(
        self, node: yaml.MappingNode, path: Path_, into: dict[str, Any]
    ) -> None:
        """kyaml: the merge sources (one ``<<`` only; of ``[a, b]``, a wins), then the
        mapping's own keys over them (``deAnchor``: ``removeMergeTags``, ``mergeAll``)."""
        merges = [(key, value) for key, value in node.value if _is_merge(key)]
        if len(merges) > 1:
            raise YAMLProblem(
                Problem.MERGE_KEY,
                "duplicate merge key (<<): kustomize refuses a mapping with two",
                merges[1][0].start_mark.line + 1,
            )
        if merges:
            for source in reversed(_merge_sources(*merges[0])):
                self._fill_explicit_first(source, path, into)
        seen: set[str] = set()
        cleared = False  # kyaml then clears the first "<<" key, quoted or not (rnode.go)
        for key_node, value_node in node.value:
            if not cleared and isinstance(key_node, yaml.ScalarNode) and key_node.value == "<<":
                cleared = True
                continue
            if not _is_merge(key_node):
                key = self._entry(key_node, seen)
                into[key] = self._convert(value_node, (*path, key), key_node.start_mark.line + 1)

    def _entry(self, key_node: yaml.Node, seen: set[str]) -> str:
        key = self._key(key_node)
        if key in seen:
            problem = YAMLProblem(
                Problem.DUPLICATE_KEY,
                f"duplicate key {key!r} (Kubernetes keeps only the last value)",
                key_node.start_mark.line + 1,
            )
            if not self._kubernetes:
                raise problem  # kustomize (kyaml, yaml.v3) refuses the file
            # kubectl and Argo CD (sigs.k8s.io/yaml, go-yaml v2) apply the last value: the
            # object is still checked as they read it, so ignoring the finding hides nothing
            self.problems.append(problem)
        seen.add(key)
        return key

    def _key(self, node: yaml.Node) -> str:
        """A map key as the JSON string sigs.k8s.io/yaml makes of it (``y`` is ``"true"``
        for Kubernetes, ``1e3`` is ``"1000"``)."""
        if not isinstance(node, yaml.ScalarNode):
            raise YAMLProblem(
                Problem.SYNTAX, "mapping keys must be scalars", node.start_mark.line + 1
            )
        value = self._scalar(node)
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int) and -(2**63) <= value < 2**63:
            return str(value)
        if isinstance(value, float):
            return float_key(value)
        if not self._kubernetes:  # kustomize fails on it with its own message
            return "null" if value is None else str(value)
        what = "null" if value is None else f"{node.value} (an unsigned 64-bit integer)"
        raise YAMLProblem(
            Problem.JSON_INCOMPATIBLE,
            f"map key {what} cannot be a JSON object key; kubectl and Argo CD refuse the file",
            node.start_mark.line + 1,
        )

    def _value(self, node: yaml.ScalarNode) -> Any:
        value = self._scalar(node)
        if type(value) is float and not math.isfinite(value):
            if self._kubernetes:
                raise YAMLProblem(
                    Problem.JSON_INCOMPATIBLE,
                    f"{node.value} is not a JSON number; kubectl and Argo CD refuse the file",
                    node.start_mark.line + 1,
                )
            return value
        if type(value) in (int, float):
            return json_number(value)
        return value

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        """go-yaml's ``d.scalar`` for an ``interface{}`` target."""
        tag = node.tag
        if tag == _PLAIN:
            return resolve(node.value, self._dialect)[1]
        if tag == STR:
            return node.value
        if tag in _RESOLVABLE:
            found, value = resolve(node.value, self._dialect)
            if found == tag:
                return value
            if tag == FLOAT and found == INT:
                return float(value)
            raise YAMLProblem(
                Problem.TAG_MISMATCH,
                f"cannot decode {_short(found)} `{node.value}` as a {_short(tag)}",
                node.start_mark.line + 1,
            )
        if tag == BINARY:
            try:
                text = node.value.replace("\n", "").replace("\r", "")  # Go skips only these
                data = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                raise YAMLProblem(
                    Problem.TAG_MISMATCH,
                    "!!binary value contains invalid base64 data",
                    node.start_mark.line + 1,
                ) from None
            return data.decode("utf-8", "replace")  # JSON holds text: invalid bytes become U+FFFD
        raise _unsafe(node)


def _merge_sources(key: yaml.Node, node: yaml.Node) -> list[yaml.MappingNode]:
    """The mappings a ``<<`` value names, in the order written."""
    if isinstance(node, yaml.MappingNode):
        return [node]
    if isinstance(node, yaml.SequenceNode) and all(
        isinstance(item, yaml.MappingNode) for item in node.value
    ):
        return list(node.value)
    raise YAMLProblem(
        Problem.MERGE_KEY,
        "map merge requires map or sequence of maps as the value",
        key.start_mark.line + 1,
    )


def _unsafe(node: yaml.Node) -> YAMLProblem:
    return YAMLProblem(
        Problem.UNSAFE_TAG,
        f"tag {node.tag!r} is not allowed: servegate loads plain YAML data only",
        node.start_mark.line + 1,
    )


def load_plain(text: str) -> list[Any]:
    """kustomize's output as Kubernetes decodes it (Argo CD and kubectl read it with
    sigs.k8s.io/yaml): no positions. Raises yaml.YAMLError (``YAMLDecodeError`` when the
    text parses but its consumer would refuse it)."""
    documents: list[Any] = []
    loader = _composer(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            converter = _Converter(KUBERNETES, False)
            try:
                if converter.alias_nodes_of(node) > MAX_ALIAS_NODES:
                    raise _bomb(node, MAX_ALIAS_NODES)
                data = converter.document(node).data
            except YAMLProblem as problem:
                raise YAMLDecodeError(f"line {problem.line}: {problem.message}") from None
            except RecursionError:
                raise YAMLDecodeError("nested too deeply") from None
            if data is not None:
                documents.append(data)
    finally:
        loader.dispose()
    return documents

"""Strict, bounded YAML loading with a line number for every node.

Untrusted repositories are read here, so: safe tags only (anything else, ``!!python/...``
included, is refused), duplicate keys are errors at the duplicate's line, alias expansion,
document count and file size are bounded, and encoding problems become findings, never
tracebacks. Composition runs in libyaml's C parser where available; the conversion to plain
Python objects is ours, so that every node's position is kept and every limit is enforced.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - libyaml is in every PyYAML wheel
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_DOCUMENTS = 2_000
MAX_EXPANDED_NODES = 500_000
"""Nodes a document may hold once aliases are expanded (a billion-laughs file holds 10**9)."""

Path_ = tuple[str | int, ...]

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_SCALAR_TAGS = frozenset(
    "tag:yaml.org,2002:" + t for t in ("str", "int", "float", "bool", "null", "timestamp", "binary")
)
_MAPPING_TAGS = frozenset({_MAP, "tag:yaml.org,2002:set", "tag:yaml.org,2002:omap"})
_CONSTRUCTOR = yaml.SafeLoader("")  # only its scalar constructors are used


class YAMLProblem(Exception):
    """One reason a file cannot be read safely; ``line`` is 1-based."""

    def __init__(self, rule: str, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.line = line


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


def decode(raw: bytes) -> str:
    """Decode file bytes as YAML text, or raise YAMLProblem with the offending line."""
    if len(raw) > MAX_FILE_BYTES:
        raise YAMLProblem(
            "yaml.too-large",
            f"file is {len(raw) / 1048576:.1f} MiB; servegate reads YAML files up to "
            f"{MAX_FILE_BYTES // 1048576} MiB",
        )
    if b"\x00" in raw[:8192] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise YAMLProblem("yaml.encoding", "file is binary (NUL bytes), not YAML text")
    try:
        text = raw.decode("utf-8-sig") if raw[:3] == b"\xef\xbb\xbf" else raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise YAMLProblem(
            "yaml.encoding", f"file is not UTF-8 (byte 0x{raw[err.start]:02x})", line
        ) from None
    return text


def load_bytes(raw: bytes, *, positions: bool = True) -> LoadResult:
    """Load every document in ``raw``; problems are returned, never raised."""
    try:
        text = decode(raw)
    except YAMLProblem as problem:
        return LoadResult([], [problem])
    return load_text(text, positions=positions)


def load_text(text: str, *, positions: bool = True) -> LoadResult:
    documents: list[Document] = []
    problems: list[YAMLProblem] = []
    loader = _Loader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            if len(documents) >= MAX_DOCUMENTS:
                problems.append(
                    YAMLProblem(
                        "yaml.too-many-documents",
                        f"more than {MAX_DOCUMENTS} documents in one file",
                        node.start_mark.line + 1,
                    )
                )
                break
            try:
                documents.append(_Converter(positions).document(node))
            except YAMLProblem as problem:
                problems.append(problem)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else 1
        problems.append(YAMLProblem("yaml.syntax", _syntax_message(err), line))
    except (yaml.YAMLError, RecursionError, ValueError) as err:
        problems.append(YAMLProblem("yaml.syntax", f"cannot parse YAML: {err}".splitlines()[0]))
    finally:
        loader.dispose()
    return LoadResult(documents, problems)


def _syntax_message(err: yaml.MarkedYAMLError) -> str:
    parts = [p for p in (err.context, err.problem) if p]
    return "invalid YAML: " + (", ".join(parts) if parts else "syntax error")


class _Converter:
    """Turn one composed node tree into plain data, enforcing servegate's limits."""

    __slots__ = ("_positions", "_record", "_sizes")

    def __init__(self, record: bool) -> None:
        self._record = record
        self._positions: dict[Path_, int] = {}
        self._sizes: dict[int, int] = {}

    def document(self, node: yaml.Node) -> Document:
        size = self._expanded_size(node, set())
        if size > MAX_EXPANDED_NODES:
            raise YAMLProblem(
                "yaml.alias-bomb",
                f"aliases expand this document to more than {MAX_EXPANDED_NODES:,} nodes",
                node.start_mark.line + 1,
            )
        data = self._convert(node, ())
        return Document(data, node.start_mark.line + 1, self._positions)

    def _expanded_size(self, node: yaml.Node, active: set[int]) -> int:
        """Node count with aliases expanded, memoised per node so a bomb costs O(unique nodes)."""
        key = id(node)
        known = self._sizes.get(key)
        if known is not None:
            return known
        if key in active:
            raise YAMLProblem(
                "yaml.alias-bomb",
                "recursive alias (a node contains itself)",
                node.start_mark.line + 1,
            )
        if isinstance(node, yaml.ScalarNode):
            return 1
        active.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            for child in node.value:
                total += self._expanded_size(child, active)
        else:
            for k, v in node.value:
                total += self._expanded_size(k, active) + self._expanded_size(v, active)
        active.discard(key)
        self._sizes[key] = total
        return total

    def _convert(self, node: yaml.Node, path: Path_, line: int | None = None) -> Any:
        if self._record:
            # a mapping value is located at its key's line, where a reader looks for it
            self._positions[path] = line or node.start_mark.line + 1
        if isinstance(node, yaml.ScalarNode):
            return _scalar(node)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                raise _unsafe(node)
            return [self._convert(child, (*path, i)) for i, child in enumerate(node.value)]
        if node.tag not in _MAPPING_TAGS or not isinstance(node, yaml.MappingNode):
            raise _unsafe(node)
        return self._mapping(node, path)

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        explicit: set[Any] = set()
        merged: list[tuple[yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged.extend(_merge_sources(value_node))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise YAMLProblem(
                    "yaml.syntax", "mapping keys must be scalars", key_node.start_mark.line + 1
                )
            key = _scalar(key_node)
            if key in explicit:
                raise YAMLProblem(
                    "yaml.duplicate-key",
                    f"duplicate key {key!r} (Kubernetes keeps only the last value)",
                    key_node.start_mark.line + 1,
                )
            explicit.add(key)
            child = key if isinstance(key, str | int) else str(key)
            result[key] = self._convert(value_node, (*path, child), key_node.start_mark.line + 1)
        for key_node, value_node in merged:
            key = _scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if key is not None and key not in result:
                child = key if isinstance(key, str | int) else str(key)
                result[key] = self._convert(value_node, (*path, child))
        return result


def _merge_sources(node: yaml.Node) -> Iterator[tuple[yaml.Node, yaml.Node]]:
    sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
    for source in sources:
        if not isinstance(source, yaml.MappingNode):
            raise YAMLProblem(
                "yaml.syntax", "a merge key (<<) needs a mapping", source.start_mark.line + 1
            )
        yield from source.value


def _unsafe(node: yaml.Node) -> YAMLProblem:
    return YAMLProblem(
        "yaml.unsafe-tag",
        f"tag {node.tag!r} is not allowed: servegate loads plain YAML data only",
        node.start_mark.line + 1,
    )


def _scalar(node: yaml.ScalarNode) -> Any:
    tag = node.tag
    if tag == _STR:
        return node.value
    if tag not in _SCALAR_TAGS:
        raise _unsafe(node)
    if tag.endswith(":timestamp"):
        return node.value  # Kubernetes (sigs.k8s.io/yaml) keeps timestamps as strings
    if tag.endswith(":binary"):
        try:
            base64.b64decode(node.value, validate=False)
        except ValueError:
            raise YAMLProblem(
                "yaml.syntax", "invalid !!binary value", node.start_mark.line + 1
            ) from None
        return node.value
    try:
        return _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, node)
    except (ValueError, OverflowError, yaml.YAMLError):
        return node.value


def load_plain(text: str) -> list[Any]:
    """Fast load of trusted-shape text (kustomize output): C loader, no positions, no limits
    beyond safe tags. Raises yaml.YAMLError."""
    return [d for d in yaml.load_all(text, Loader=_Loader) if d is not None]

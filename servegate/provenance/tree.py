"""A rendered object's fields, each with the source location that last wrote it.

A :class:`Node` holds a value (a mapping of nodes, a list of nodes, or a scalar), the file and
line that wrote it, and, for mappings, where each key a patch removed was removed (so a finding
about a field that is missing because a patch deleted it points at that patch).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Loc = tuple[str, int]
"""A source location: file relative to the repo root, 1-based line."""
FieldPath = tuple[str | int, ...]


class Node:
    """One value of the object being replayed, and who wrote it."""

    __slots__ = ("gone", "loc", "value")

    def __init__(self, value: Any, loc: Loc) -> None:
        self.value = value
        """``dict[key, Node]``, ``list[Node]`` or a scalar (str, int, float, bool, None)."""
        self.loc = loc
        self.gone: dict[Any, Loc] | None = None
        """Keys of a mapping that a patch removed, and where it removed them."""

    @property
    def is_map(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_list(self) -> bool:
        return isinstance(self.value, list)

    @property
    def is_null(self) -> bool:
        return self.value is None

    def get(self, key: Any) -> Node | None:
        value = self.value
        if isinstance(value, dict):
            return value.get(key)
        if isinstance(value, list) and isinstance(key, int) and 0 <= key < len(value):
            node: Node = value[key]
            return node
        return None

    def set(self, key: Any, node: Node) -> None:
        """Set a mapping's ``key`` (a re-added key is no longer removed)."""
        self.value[key] = node
        if self.gone is not None:
            self.gone.pop(key, None)

    def remove(self, key: Any, loc: Loc) -> None:
        """Remove a mapping's ``key``, remembering that ``loc`` removed it."""
        if key in self.value:
            del self.value[key]
            if self.gone is None:
                self.gone = {}
            self.gone[key] = loc

    def copy(self) -> Node:
        """A deep copy: a patch applied to several objects is copied into each."""
        value = self.value
        if isinstance(value, dict):
            value = {k: v.copy() for k, v in value.items()}
        elif isinstance(value, list):
            value = [v.copy() for v in value]
        node = Node(value, self.loc)
        if self.gone:
            node.gone = dict(self.gone)
        return node

    def relocated(self, loc: Loc) -> Node:
        """This value written wholly at ``loc`` (a copy, every node at ``loc``)."""
        value = self.value
        if isinstance(value, dict):
            value = {k: v.relocated(loc) for k, v in value.items()}
        elif isinstance(value, list):
            value = [v.relocated(loc) for v in value]
        return Node(value, loc)

    def __repr__(self) -> str:
        return f"Node({plain(self)!r} @ {self.loc[0]}:{self.loc[1]})"


def build(data: Any, locate: Callable[[FieldPath], Loc], path: FieldPath = ()) -> Node:
    """The tree of ``data``, each node located by ``locate(its path in data)``."""
    if isinstance(data, dict):
        value: Any = {k: build(v, locate, (*path, _part(k))) for k, v in data.items()}
    elif isinstance(data, list):
        value = [build(v, locate, (*path, i)) for i, v in enumerate(data)]
    else:
        value = data
    return Node(value, locate(path))


def from_value(data: Any, loc: Loc) -> Node:
    """The tree of ``data``, written wholly at ``loc``."""
    return build(data, lambda _path: loc)


def _part(key: Any) -> str | int:
    return key if isinstance(key, str | int) else str(key)


def plain(node: Node) -> Any:
    """The plain data the tree stands for."""
    value = node.value
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def locate(root: Node, path: FieldPath, rendered: Any) -> Loc | None:
    """Where the field at ``path`` was written: the deepest node of ``path`` that exists, or
    the patch that removed the next one. None when the replay disagrees with ``rendered``
    (the object kustomize actually produced) along ``path``: a field one has and the other
    lacks, a different type of node, or a list of a different length. Then something the
    replay does not model changed the object, and its locations are not to be trusted."""
    walked = _walk(root, path, rendered)
    if walked is None:
        return None
    node, missing = walked
    if missing is not _ALL and node.gone and missing in node.gone:
        return node.gone[missing]
    return node.loc


def removed(root: Node, path: FieldPath, rendered: Any) -> Loc | None:
    """Where a patch removed the field at ``path`` (or the part of it that is gone); None when
    the field exists, was never there, or the replay disagrees with ``rendered``."""
    walked = _walk(root, path, rendered)
    if walked is None or walked[1] is _ALL or not walked[0].gone:
        return None
    return walked[0].gone.get(walked[1])


_ALL: Any = object()
"""What :func:`_walk` gives as the missing part when the whole path exists."""


def _walk(root: Node, path: FieldPath, rendered: Any) -> tuple[Node, Any] | None:
    """The deepest node of ``path`` that exists and the first part missing under it (``_ALL``
    when none is); None when the replay and ``rendered`` disagree along the way."""
    node = root
    actual = rendered
    for part in path:
        child = node.get(part)
        there = child_of(actual, part)
        if child is None:
            return None if there is not MISSING else (node, part)
        if there is MISSING or not _same_shape(child, there):
            return None
        node, actual = child, there
    return node, _ALL


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""What :func:`child_of` gives for a part a value does not have."""


def child_of(value: Any, part: str | int) -> Any:
    """``value[part]`` of plain data, or ``MISSING``."""
    if isinstance(value, dict):
        return value.get(part, MISSING)
    if isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
        return value[part]
    return MISSING


def _same_shape(node: Node, value: Any) -> bool:
    if node.is_map:
        return isinstance(value, dict)
    if node.is_list:
        return isinstance(value, list) and len(value) == len(node.value)
    return not isinstance(value, dict | list)

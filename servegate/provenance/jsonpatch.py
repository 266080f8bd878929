"""JSON 6902 patches as kustomize applies them, on located trees.

kustomize decodes the operations with evanphx/json-patch v4 (``jsonpatch.DecodePatch``) and
applies them to the object as JSON (kubernetes-sigs/kustomize
``api/filters/patchjson6902/patchjson6902.go``): ``add`` sets a mapping's key or inserts into a
list before an index (``-`` appends), ``remove`` and ``replace`` need the location to exist,
``move`` and ``copy`` read ``from``, ``test`` changes nothing. Paths are JSON pointers
(RFC 6901): ``/``-separated, ``~1`` for ``/`` and ``~0`` for ``~`` inside a token.

Locations: a value an operation writes takes the lines of its ``value`` (each node of a
structured value its own line); a value moved or copied takes the operation's ``path`` line at
its top; a removed key is remembered with the operation's ``path`` line.
"""

from __future__ import annotations

from servegate.provenance.tree import Loc, Node


class PatchFailed(ValueError):
    """An operation kustomize would refuse: the build failed, so this is not what it did."""


def pointer(text: object) -> list[str]:
    """The tokens of a JSON pointer."""
    if not isinstance(text, str) or (text and not text.startswith("/")):
        raise PatchFailed(f"not a JSON pointer: {text!r}")
    if not text:
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in text[1:].split("/")]


def apply(root: Node, operations: list[Node]) -> None:
    """Apply each operation (a located mapping) in order to ``root``."""
    for operation in operations:
        if not operation.is_map:
            raise PatchFailed("an operation must be a mapping")
        op = _text(operation, "op")
        path_node = operation.get("path")
        if path_node is None:
            raise PatchFailed("an operation needs a path")
        tokens = pointer(path_node.value)
        if op in ("add", "replace"):
            value = operation.get("value")
            if value is None:
                raise PatchFailed(f"{op} needs a value")
            _put(root, tokens, value.copy(), insert=op == "add")
        elif op == "remove":
            _take(root, tokens, path_node.loc)
        elif op in ("move", "copy"):
            from_node = operation.get("from")
            if from_node is None:
                raise PatchFailed(f"{op} needs from")
            source = pointer(from_node.value)
            moved = _take(root, source, path_node.loc) if op == "move" else _at(root, source).copy()
            moved.loc = path_node.loc
            _put(root, tokens, moved, insert=True)
        elif op != "test":
            raise PatchFailed(f"unknown operation {op!r}")


def _text(operation: Node, key: str) -> str:
    found = operation.get(key)
    return str(found.value) if found is not None else ""


def _at(root: Node, tokens: list[str]) -> Node:
    node = root
    for token in tokens:
        child = _child(node, token)
        if child is None:
            raise PatchFailed(f"missing {token!r}")
        node = child
    return node


def _child(node: Node, token: str) -> Node | None:
    if node.is_map:
        child: Node | None = node.value.get(_key(node, token))
        return child
    if node.is_list:
        index = _index(token, len(node.value))
        found: Node | None = node.value[index] if index < len(node.value) else None
        return found
    return None


def _key(node: Node, token: str) -> object:
    """A mapping's key for ``token``: YAML may have read a key such as ``80`` as a number."""
    if token in node.value:
        return token
    for key in node.value:
        if not isinstance(key, str) and str(key) == token:
            return key
    return token


def _index(token: str, length: int) -> int:
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise PatchFailed(f"not a list index: {token!r}")
    return int(token)


def _put(root: Node, tokens: list[str], value: Node, *, insert: bool) -> None:
    if not tokens:
        raise PatchFailed("replacing the whole object")
    parent = _at(root, tokens[:-1])
    last = tokens[-1]
    if parent.is_map:
        key = _key(parent, last)
        if not insert and key not in parent.value:
            raise PatchFailed(f"replace: missing {last!r}")
        parent.set(key, value)
    elif parent.is_list:
        items = parent.value
        if insert and last == "-":
            items.append(value)
            return
        index = _index(last, len(items))
        if insert:
            if index > len(items):
                raise PatchFailed(f"index {index} out of range")
            items.insert(index, value)
        else:
            if index >= len(items):
                raise PatchFailed(f"index {index} out of range")
            items[index] = value
    else:
        raise PatchFailed(f"{last!r}: the parent is not a mapping or a list")


def _take(root: Node, tokens: list[str], loc: Loc) -> Node:
    if not tokens:
        raise PatchFailed("removing the whole object")
    parent = _at(root, tokens[:-1])
    last = tokens[-1]
    if parent.is_map:
        key = _key(parent, last)
        found: Node | None = parent.value.get(key)
        if found is None:
            raise PatchFailed(f"remove: missing {last!r}")
        parent.remove(key, loc)
        return found
    if parent.is_list:
        index = _index(last, len(parent.value))
        if index >= len(parent.value):
            raise PatchFailed(f"index {index} out of range")
        taken: Node = parent.value.pop(index)
        return taken
    raise PatchFailed(f"{last!r}: the parent is not a mapping or a list")

"""Where a kustomize ``replacements`` entry writes, on located trees.

A replacement copies a value from a source object into ``fieldPaths`` of every target object
its ``select`` picks and no ``reject`` excludes (kubernetes-sigs/kustomize
``api/filters/replacement/replacement.go``). A field path is split on dots outside brackets
(``kyaml/utils.SmarterPathSplitter``) and walked as kyaml's ``PathMatcher`` walks it
(``kyaml/yaml/match.go``): a field name; a list index (``0``); ``[key=regex]`` for every list
element whose ``key`` matches the (unanchored) regular expression, ``[=regex]`` for scalar
elements; ``*`` for every element. With ``options.create`` missing fields are created (a list
element ``[name=x]`` too). A path that reaches a scalar before its end writes into the YAML or
JSON held in that scalar.

Only where the value lands matters here: each written node takes the location of the
``fieldPaths`` entry that named it; its value is taken from the rendered object.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from servegate.goregexp import compile_go
from servegate.provenance.tree import MISSING, FieldPath, Loc, Node, from_value

Written = Callable[[FieldPath], Any]
"""The rendered value at a path (``MISSING`` when the rendered object has none)."""


def split_path(text: str) -> list[str]:
    """``SmarterPathSplitter(text, ".")``, empty parts dropped (``cleanPath``)."""
    parts: list[str] = []
    current = ""
    depth = 0
    for char in text:
        if char == "[":
            depth += 1
        elif char == "]" and depth:
            depth -= 1
        if char == "." and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def write(root: Node, field_path: str, loc: Loc, create: bool, rendered: Written) -> None:
    """Mark every node ``field_path`` names in ``root`` as written at ``loc``."""
    _walk(root, split_path(field_path), (), loc, create, rendered)


def _walk(
    node: Node, parts: list[str], at: FieldPath, loc: Loc, create: bool, rendered: Written
) -> None:
    if not parts:
        _set(node, at, loc, rendered)
        return
    part, rest = parts[0], parts[1:]
    if part.isdigit():
        if not node.is_list:
            return
        index = int(part)
        if index == len(node.value) and create:
            node.value.append(Node(_empty(rest), loc))
        if index < len(node.value):
            _walk(node.value[index], rest, (*at, index), loc, create, rendered)
        return
    if part.startswith("[") and part.endswith("]"):
        _walk_matching(node, part[1:-1], rest, at, loc, create, rendered)
        return
    if part == "*":
        if node.is_list:
            for i, item in enumerate(node.value):
                _walk(item, rest, (*at, i), loc, create, rendered)
        return
    if not node.is_map:
        return
    child = node.value.get(part)
    if child is None or child.value is None:
        if not create:
            return
        child = Node(_empty(rest), loc)
        node.set(part, child)
    if rest and not (child.is_map or child.is_list):
        child.loc = loc  # structured data inside a scalar: the scalar is rewritten
        return
    _walk(child, rest, (*at, part), loc, create, rendered)


def _walk_matching(
    node: Node,
    selector: str,
    rest: list[str],
    at: FieldPath,
    loc: Loc,
    create: bool,
    rendered: Written,
) -> None:
    if not node.is_list or "=" not in selector:
        return
    key, _, pattern = selector.partition("=")
    regex = compile_go(pattern)  # kustomize's Go regexp: RE2, linear time
    if regex is None:
        return
    matched = False
    for i, item in enumerate(node.value):
        if key:
            field = item.value.get(key) if item.is_map else None
            text = _text(field.value) if field is not None and field.value is not None else None
        else:
            text = None if item.is_map or item.is_list else _text(item.value)
        if text is not None and regex.search(text):
            matched = True
            _walk(item, rest, (*at, i), loc, create, rendered)
    if not matched and create:
        element = Node({key: Node(pattern, loc)}, loc) if key else Node(pattern, loc)
        node.value.append(element)
        _walk(element, rest, (*at, len(node.value) - 1), loc, create, rendered)


def _set(node: Node, at: FieldPath, loc: Loc, rendered: Written) -> None:
    value = rendered(at)
    if value is not MISSING:
        replacement = from_value(value, loc)
        node.value, node.gone = replacement.value, None
    node.loc = loc


def _empty(rest: list[str]) -> Any:
    """kyaml ``getPathPartKind``: a list before an index or ``[k=v]``, a mapping before a
    field, nothing (the value's kind) at the end."""
    if not rest:
        return None
    nxt = rest[0]
    if nxt.isdigit() or (nxt.startswith("[") and nxt.endswith("]")):
        return []
    return {}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

"""The structural schema of a custom resource, as the API server uses it besides validation.

:func:`tree` turns a derived schema (``schemas/crds``, built by :mod:`servegate.schema.build`,
which keeps ``default``, ``nullable``, the list types and the CEL rules) into :class:`Node`
objects, once per kind. What they are for:

- :func:`prune_nulls`: before validating a custom resource the API server drops every ``null``
  whose field is not ``nullable`` and has no ``default``, in objects and maps (list items stay):
  kubernetes/apiextensions-apiserver ``pkg/apiserver/schema/defaulting/prunenulls.go``
  (``PruneNonNullableNullsWithoutDefaults``, since 1.20, kubernetes/kubernetes#95423), called
  by ``schemaCoercingConverter.apply`` in ``pkg/apiserver/customresource_handler.go`` right after
  pruning unknown fields. A ``null`` with a default is then defaulted
  (``pkg/apiserver/schema/defaulting/algorithm.go``), which :mod:`servegate.schema.cel` applies
  where it evaluates rules.
- :func:`drop_null_fields`: built-in kinds are decoded into Go structs, where a ``null`` field
  keeps its zero value (unset), so servegate validates them without their null fields.
- the CEL value of a node (``servegate.schema.cel``).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

Schema = dict[str, Any]
NO_DEFAULT: Any = object()
_CONVERTED_FORMATS = frozenset({"duration", "date", "date-time", "byte"})
_RESERVED = frozenset(
    {
        *("true", "false", "null", "in", "as", "break", "const", "continue", "else", "for"),
        *("function", "if", "import", "let", "loop", "package", "namespace", "return", "var"),
        *("void", "while"),
    }
)


@dataclass(slots=True, eq=False)
class Node:
    """One structural schema node. ``types`` is the JSON Schema type list without ``null``
    (empty when untyped); ``props`` is None when the node names no properties."""

    types: tuple[str, ...] = ()
    nullable: bool = False
    default: Any = NO_DEFAULT
    props: dict[str, Node] | None = None
    additional: Node | None = None
    closed: bool = False
    """``additionalProperties: false``: an object that keeps no unknown fields."""
    items: Node | None = None
    format: str | None = None
    list_type: str | None = None
    list_keys: tuple[str, ...] = ()
    rules: tuple[dict[str, Any], ...] = ()
    has_rules: bool = False
    """This node or one below it has CEL rules."""
    rule_props: tuple[tuple[str, Node], ...] = ()
    """The properties below which a rule lives (what the CEL walk visits)."""
    plain: bool = False
    """A value here (without nulls) reads in CEL exactly as parsed: no defaults, doubles,
    formats, escaped or hidden names below (see ``servegate.schema.cel``)."""
    refs: dict[str, Node] = field(default_factory=dict, repr=False)

    @property
    def is_object(self) -> bool:
        return "object" in self.types or (not self.types and self.props is not None)

    @property
    def int_or_string(self) -> bool:
        return self.types == ("integer", "string")

    def child(self, key: str) -> Node | None:
        """The schema of an object's field or a map's value."""
        if self.props is not None:
            found = self.props.get(key)
            if found is not None:
                return found
        return self.additional


def tree(schema: Schema) -> Node:
    """The node tree of one derived schema (or of a CRD's raw ``openAPIV3Schema``); ``$ref``
    into ``$defs`` resolve to shared nodes."""
    raw_defs = schema.get("$defs")
    defs: dict[str, Any] = raw_defs if isinstance(raw_defs, dict) else {}
    memo: dict[str, Node] = {}

    def build(raw: Schema) -> Node:
        ref = raw.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref[len("#/$defs/") :]
            found = memo.get(name)
            if found is None:
                target = defs.get(name)
                found = memo[name] = build(target) if isinstance(target, dict) else Node()
            return found
        kind = raw.get("type")
        types = (kind,) if isinstance(kind, str) else tuple(kind) if isinstance(kind, list) else ()
        if raw.get("x-kubernetes-int-or-string") is True:  # a raw CRD schema (tests' oracle)
            types = ("integer", "string")
        node = Node(
            types=tuple(t for t in types if t != "null"),
            nullable=raw.get("nullable") is True or "null" in types,
            default=raw.get("default", NO_DEFAULT),
            format=raw.get("format") if isinstance(raw.get("format"), str) else None,
            list_type=raw.get("x-kubernetes-list-type"),
            list_keys=tuple(raw.get("x-kubernetes-list-map-keys") or ()),
            rules=tuple(raw.get("x-kubernetes-validations") or ()),
        )
        props = raw.get("properties")
        if isinstance(props, dict):
            node.props = {k: build(v) for k, v in props.items() if isinstance(v, dict)}
        additional = raw.get("additionalProperties")
        if isinstance(additional, dict):
            node.additional = build(additional)
        node.closed = additional is False
        if isinstance(raw.get("items"), dict):
            node.items = build(raw["items"])
        children = [*(node.props or {}).values(), node.additional, node.items]
        node.has_rules = bool(node.rules) or any(c is not None and c.has_rules for c in children)
        node.rule_props = tuple((k, c) for k, c in (node.props or {}).items() if c.has_rules)
        node.plain = (
            node.default is NO_DEFAULT
            and "number" not in node.types
            and node.format not in _CONVERTED_FORMATS
            and not (node.is_object and node.props is None and node.additional is None)
            and all(escape(name) == name for name in node.props or ())
            and all(c.plain for c in children if c is not None)
        )
        return node

    return build(schema)


def escape(name: str) -> str | None:
    """The CEL name of a property (kubernetes/apiserver ``pkg/cel/escaping.go``), or None when
    it has none (then CEL cannot reach it)."""
    if not name or name[0].isdigit():
        return None
    if name in _RESERVED:
        return f"__{name}__"
    if not re.fullmatch(r"[A-Za-z0-9_.\-/]+", name):
        return None
    out = name.replace("__", "__underscores__")
    return out.replace(".", "__dot__").replace("-", "__dash__").replace("/", "__slash__")


def has_null(value: object) -> bool:
    """Whether ``value`` holds a ``null`` anywhere (the common case, none, costs one walk)."""
    if value is None:
        return True
    if isinstance(value, dict):
        return any(has_null(v) for v in value.values())
    if isinstance(value, list):
        return any(has_null(v) for v in value)
    return False


def prune_nulls(value: Any, node: Node | None) -> Any:
    """A copy of ``value`` without the nulls the API server drops (see the module docstring):
    in an object or map, a ``null`` whose schema is not nullable is dropped, or replaced by the
    schema's default when it has one. Values
    without a schema (unknown fields, preserved fields) are walked without one, as upstream."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            child = node.child(key) if node is not None else None
            if item is None and child is not None and not child.nullable:
                if child.default is NO_DEFAULT:
                    continue
                item = copy.deepcopy(child.default)  # then defaulted (defaulting/algorithm.go)
            out[key] = prune_nulls(item, child)
        return out
    if isinstance(value, list):
        items = node.items if node is not None else None
        return [prune_nulls(item, items) for item in value]
    return value


def drop_null_fields(value: Any) -> Any:
    """A copy of a built-in object without its ``null`` fields (Go's JSON decoding leaves them
    unset); nulls in lists stay, as they decode to an empty element the API server rejects."""
    if isinstance(value, dict):
        return {k: drop_null_fields(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_null_fields(v) for v in value]
    return value

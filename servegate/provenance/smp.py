"""Strategic-merge patches as kustomize applies them, on located trees.

kustomize does not use apimachinery's strategic merge: it merges with kyaml
(kubernetes-sigs/kustomize ``api/filters/patchstrategicmerge/patchstrategicmerge.go`` calls
``kyaml/yaml/merge2.Merge`` with ``ListIncreaseDirection: MergeOptionsListPrepend``; the walk
is ``kyaml/yaml/walk``). What follows from that, and is modelled here:

* A mapping merges key by key; a patch value ``null`` removes the key; ``$patch: delete``
  removes the mapping, ``$patch: replace`` puts the patch's mapping in its place
  (``merge2.Merger.VisitMap``, ``smpdirective.go``).
* A list is merged element by element only when kustomize's built-in Kubernetes schema gives
  it a patch strategy ``merge`` (``walk.go``, ``schema.IsAssociative`` with inference off):
  ``containers`` of a Deployment merge by ``name``, ``ports`` by ``containerPort`` and
  ``protocol`` (``x-kubernetes-list-map-keys``). Every other list, and *every* list of a kind
  the schema does not know (custom resources: KServe, Argo, Istio...), is replaced whole by
  the patch's list (kubernetes-sigs/kustomize#1027, argoproj/argo-rollouts#700). A list
  element ``{$patch: replace}`` or ``{$patch: delete}`` replaces or removes a merged list.
* Merged lists put the patch's elements first, then the others in their order
  (``associative_sequence.go``, prepend); an element merged to nothing is removed.

kustomize compiles in the Kubernetes v1.21.2 OpenAPI document (``kyaml/openapi/
kubernetesapi``); the nearest one servegate has is kubernetes-validate's oldest bundled
definitions, which agree on every merge key of the pod-bearing kinds.

Locations: a merged mapping or list keeps the location of the object it was merged into; every
value the patch writes (a scalar, a replaced list, an added element or key) takes the patch's
location; a removed key is remembered with the location of the patch line that removed it.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from servegate.provenance.select import split_api_version
from servegate.provenance.tree import Node

_DIRECTIVE = "$patch"
Schema = dict[str, Any] | None


def merge(dest: Node, patch: Node, api_version: str, kind: str) -> None:
    """Strategic-merge ``patch`` (a located tree, consumed) into the object ``dest``."""
    _merge_map(dest, patch, root_schema(api_version, kind))


def _walk(dest: Node | None, src: Node | None, schema: Schema) -> Node | None:
    """The merged value of one field; None when the field is to be removed."""
    if src is None:
        return dest
    if src.value is None:
        return None
    if dest is None or dest.value is None:
        return _clean(src, schema)
    if src.is_map and dest.is_map:
        directive = _map_directive(src)
        if directive == "delete":
            return None
        if directive == "replace":
            return _clean(src, schema)
        _merge_map(dest, src, schema)
        return dest
    if src.is_list and dest.is_list:
        return _merge_list(dest, src, schema)
    return _clean(src, schema)  # a scalar, or a change of type: the patch's value


def _merge_map(dest: Node, src: Node, schema: Schema) -> None:
    src.value.pop(_DIRECTIVE, None)
    for key in sorted(set(dest.value) | set(src.value), key=str):
        theirs = src.value.get(key)
        if theirs is None:
            continue
        merged = _walk(dest.value.get(key), theirs, _field(schema, key))
        if merged is None:
            if key in dest.value:
                dest.remove(key, theirs.loc)
        else:
            dest.set(key, merged)


def _merge_list(dest: Node, src: Node, schema: Schema) -> Node | None:
    if not _associative(schema):
        return _clean(src, schema)  # kyaml VisitList, NonAssociateList: the patch's list
    directive, items = _list_directive(src)
    if directive == "delete":
        return None
    if directive == "replace":
        return _clean(Node(items, src.loc), schema)
    keys = _merge_keys(schema)
    elements = _elements(schema)
    if not keys:
        return _merge_primitive(dest, items)
    order: list[tuple[str, ...]] = []
    for item in [*items, *dest.value]:
        values = _key_values(item, keys)
        if values is not None and not any(_same(values, seen) for seen in order):
            order.append(values)
    added: list[Node] = []
    kept: list[tuple[int, Node]] = []
    for values in order:
        mine = _find(dest.value, keys, values)
        theirs = _find(items, keys, values)
        result = _walk(mine, theirs, elements)
        if result is None or (result.is_map and not result.value):
            continue  # merged to nothing: removed
        if result.is_map:
            for key, value in zip(keys, values, strict=True):
                if key not in result.value and value:
                    result.set(key, Node(value, (theirs or result).loc))
        if mine is not None and len(keys) > 1:
            # appendListNode with several keys removes and re-appends each element of the
            # original list: those end up last, in their original order
            kept.append((next(i for i, x in enumerate(dest.value) if x is mine), result))
        else:
            added.append(result)
    merged = added + [node for _, node in sorted(kept, key=lambda pair: pair[0])]
    merged.extend(item for item in dest.value if _key_values(item, keys) is None)
    dest.value = merged
    return dest


def _merge_primitive(dest: Node, items: list[Node]) -> Node:
    by_value: dict[str, Node] = {}
    order: list[str] = []
    for item in [*items, *dest.value]:
        text = _scalar_text(item)
        if text not in by_value:
            by_value[text] = item
            order.append(text)
    dest.value = [by_value[text] for text in order]
    return dest


def _clean(node: Node, schema: Schema) -> Node | None:
    """A value the patch adds whole, as kyaml walks it against itself: nulls dropped and
    ``$patch`` directives applied at every level."""
    if node.value is None:
        return None
    if node.is_map:
        directive = _map_directive(node)
        if directive == "delete":
            return None
        node.value.pop(_DIRECTIVE, None)
        for key in list(node.value):
            cleaned = _clean(node.value[key], _field(schema, key))
            if cleaned is None:
                del node.value[key]
            else:
                node.value[key] = cleaned
        return node
    if node.is_list and _associative(schema):
        directive, items = _list_directive(node)
        if directive == "delete":
            return None
        elements = _elements(schema)
        node.value = [c for c in (_clean(i, elements) for i in items) if c is not None]
    return node


def _map_directive(node: Node) -> str | None:
    found = node.value.get(_DIRECTIVE)
    return found.value if found is not None and isinstance(found.value, str) else None


def _list_directive(node: Node) -> tuple[str | None, list[Node]]:
    """(directive, the other elements): an element that holds only ``$patch``."""
    for i, item in enumerate(node.value):
        if item.is_map and len(item.value) == 1 and _DIRECTIVE in item.value:
            directive = item.value[_DIRECTIVE].value
            return (str(directive), [x for j, x in enumerate(node.value) if j != i])
    return None, list(node.value)


def _key_values(item: Node, keys: list[str]) -> tuple[str, ...] | None:
    if not item.is_map:
        return None
    values = tuple(_scalar_text(item.value[k]) if k in item.value else "" for k in keys)
    return values if any(values) else None


def _same(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """kyaml ``match``: a common value, and the others equal or missing on one side."""
    common = False
    for x, y in zip(a, b, strict=True):
        if x == y:
            common = True
        elif x and y:
            return False
    return common


def _find(items: list[Node], keys: list[str], values: tuple[str, ...]) -> Node | None:
    for item in items:
        found = _key_values(item, keys)
        if found is not None and _same(found, values):
            return item
    return None


def _scalar_text(node: Node) -> str:
    value = node.value
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


# --- kustomize's schema: which lists merge, and by what key ---------------------------------


def root_schema(api_version: str, kind: str) -> Schema:
    """The definition of a built-in kind (None for any other: custom resources)."""
    group, version = split_api_version(api_version)
    name = _kinds().get((group, version, kind))
    return _definitions().get(name) if name else None


def _resolve(schema: Schema) -> Schema:
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 8:
        ref = str(schema["$ref"])
        schema = _definitions().get(ref.rpartition("/")[2])
        seen += 1
    return schema if isinstance(schema, dict) else None


def _field(schema: Schema, key: Any) -> Schema:
    resolved = _resolve(schema)
    if resolved is None:
        return None
    properties = resolved.get("properties")
    if isinstance(properties, dict) and key in properties:
        found: Schema = properties[key]
        return found
    extra = resolved.get("additionalProperties")
    return extra if isinstance(extra, dict) else None


def _elements(schema: Schema) -> Schema:
    items = schema.get("items") if isinstance(schema, dict) else None
    return items if isinstance(items, dict) else None


def _associative(schema: Schema) -> bool:
    strategy = schema.get("x-kubernetes-patch-strategy") if isinstance(schema, dict) else None
    return isinstance(strategy, str) and "merge" in strategy.split(",")


def _merge_keys(schema: Schema) -> list[str]:
    """``ResourceSchema.PatchStrategyAndKeyList``: the list-map keys, else the merge key."""
    if not isinstance(schema, dict):
        return []
    keys = schema.get("x-kubernetes-list-map-keys")
    if isinstance(keys, list) and keys:
        return [str(k) for k in keys]
    key = schema.get("x-kubernetes-patch-merge-key")
    return [str(key)] if isinstance(key, str) and key else []


_GVK_EXTENSION = "x-kubernetes-group-version-kind"


@cache
def _definitions() -> dict[str, Any]:
    """The core API's OpenAPI definitions, from kubernetes-validate's oldest bundle (nearest
    kustomize's compiled-in v1.21.2)."""
    from servegate.schema.validate import _bundle_dir, supported_versions

    oldest = supported_versions()[0]
    path = _bundle_dir() / f"v{oldest[0]}.{oldest[1]}.0-local" / "_definitions.json"
    if not path.is_file():
        path = _bundle_dir() / f"v{oldest[0]}.{oldest[1]}.0-local-strict" / "_definitions.json"
    loaded = json.loads(path.read_text("utf-8"))
    defs = loaded.get("$defs") or loaded.get("definitions") if isinstance(loaded, dict) else None
    return defs if isinstance(defs, dict) else {}


@cache
def _kinds() -> dict[tuple[str, str, str], str]:
    found: dict[tuple[str, str, str], str] = {}
    for name, definition in _definitions().items():
        gvks = definition.get(_GVK_EXTENSION) if isinstance(definition, dict) else None
        for gvk in gvks if isinstance(gvks, list) else []:
            if isinstance(gvk, dict):
                key = (str(gvk.get("group", "")), str(gvk.get("version", "")), str(gvk.get("kind")))
                found.setdefault(key, name)
    return found

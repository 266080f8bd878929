"""Derive strict, description-free JSON Schemas (draft 2020-12) from CustomResourceDefinitions.

One schema per served (group, version, kind) that has an ``openAPIV3Schema``. The Kubernetes
extensions are translated into plain JSON Schema here, once, so validation needs no custom
keywords: ``x-kubernetes-int-or-string`` accepts an integer or a string,
``x-kubernetes-preserve-unknown-fields`` allows unknown fields at its level,
``x-kubernetes-embedded-resource`` allows ``apiVersion``/``kind``/``metadata``, ``nullable``
allows null. Every other object is closed (``additionalProperties: false``), because the API
server prunes, and strict field validation rejects, fields its schema does not name.
Descriptions are dropped. What the API server does besides the OpenAPI validation is kept, for
:mod:`servegate.schema.structural` and :mod:`servegate.schema.cel` (JSON Schema ignores these
keywords): the CEL rules (``x-kubernetes-validations``: rule, message, messageExpression, reason,
fieldPath, optionalOldSelf), ``default``, ``nullable`` and the list types
(``x-kubernetes-list-type``, ``x-kubernetes-list-map-keys``), on structural nodes only, as the API
server reads them only there. Subschemas that repeat
(the Argo Workflows container schema appears dozens of times) are stored once under ``$defs``;
:func:`build` also stores once, in ``shared.json``, the subschemas several kinds repeat (the
pod, container and volume schemas of every pod-bearing CRD), referenced as ``#/$defs/shared.*``
and put back into each schema by :func:`attach_shared` when it is loaded, so that every loaded
schema is self-contained. The output is canonical JSON (sorted keys, no whitespace), so the
same input gives the same bytes.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

DIALECT = "https://json-schema.org/draft/2020-12/schema"
INDEX = "index.json"
SHARED = "shared.json"
"""Subschemas several shipped schemas repeat, under ``$defs`` (see :func:`attach_shared`)."""
_SHARED_PREFIX = "shared."
DEFAULT_EXCLUDE = ("iter8.tools/*",)
"""``group/Kind`` patterns the shipped set leaves out: the legacy Iter8 v2 API (unmaintained
since 2021; Iter8 v1 has no CRDs)."""

MAX_CRD_FILE_BYTES = 64 * 1024 * 1024
_MIN_SHARED = 200  # bytes of canonical JSON below which a repeated subschema stays inline
_INT_OR_STRING = [{"type": "integer"}, {"type": "string"}]
_KEEP = frozenset(
    {
        "type",
        "required",
        "enum",
        "const",
        "pattern",
        "format",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
        "multipleOf",
    }
)
_YAML_SUFFIXES = (".yaml", ".yml")
_KEEP_STRUCTURAL = frozenset(
    {"default", "nullable", "x-kubernetes-list-type", "x-kubernetes-list-map-keys"}
)
_RULE_KEYS = ("rule", "message", "messageExpression", "reason", "fieldPath", "optionalOldSelf")

Schema = dict[str, Any]


class CRDError(Exception):
    """A CRD file that cannot be read or used; the message names the file. ``file`` and
    ``line`` (1-based) locate it when known, for a finding about a CRD in the checked repo."""

    def __init__(self, message: str, file: Path | None = None, line: int = 1) -> None:
        super().__init__(message)
        self.file = file
        self.line = line


@dataclass(frozen=True, slots=True)
class Derived:
    """The strict JSON Schema of one served CRD version."""

    group: str
    version: str
    kind: str
    schema: Schema
    source: Path

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"

    @property
    def key(self) -> str:
        """``apiVersion/kind``: the key of ``index.json``."""
        return f"{self.api_version}/{self.kind}"

    @property
    def filename(self) -> str:
        return f"{self.group}_{self.version}_{self.kind.lower()}.json"


def build(
    src_dirs: Sequence[Path], out_dir: Path, *, exclude: Sequence[str] = DEFAULT_EXCLUDE
) -> list[Path]:
    """Write one schema file per served CRD version found under ``src_dirs`` (recursively) into
    ``out_dir``, plus ``index.json``; remove files an earlier build listed that are gone now.
    Returns the paths written, index last."""
    derived = derive_all(src_dirs, exclude=exclude, share=False)
    schemas, shared = _share([item.schema for item in derived])
    out_dir.mkdir(parents=True, exist_ok=True)
    index_path = out_dir / INDEX
    stale = set(_read_index(index_path).values())
    written: list[Path] = []
    index: dict[str, str] = {}
    for item, schema in zip(derived, schemas, strict=True):
        path = out_dir / item.filename
        _write_if_changed(path, canonical_json(schema))
        index[item.key] = item.filename
        stale.discard(item.filename)
        written.append(path)
    for name in sorted(stale):
        (out_dir / name).unlink(missing_ok=True)
    shared_path = out_dir / SHARED
    _write_if_changed(shared_path, canonical_json({"$defs": shared}))
    written.append(shared_path)
    _write_if_changed(index_path, json.dumps(index, sort_keys=True, indent=1) + "\n")
    written.append(index_path)
    return written


def attach_shared(schema: Schema, folder: Path) -> Schema:
    """``schema`` (read from a :func:`build` output ``folder``) with the shared subschemas it
    references, directly or through others, added to its ``$defs``: self-contained again."""
    shared, refs, refs_list = _shared_defs(folder)
    wanted: set[str] = set()
    stack = list(_shared_refs(schema))
    while stack:
        name = stack.pop()
        if name not in wanted and name in shared:
            wanted.add(name)
            stack.extend(refs[name])
    if not wanted:
        return schema
    # a subschema this kind uses once goes back in place: fewer references to compile
    uses: Counter[str] = Counter(_shared_refs(schema))
    for name in wanted:
        uses.update(refs_list[name])
    inline = {name for name in wanted if uses[name] == 1}

    def put_back(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref[len("#/$defs/") :] in inline and len(node) == 1:
                return put_back(shared[ref[len("#/$defs/") :]])
            return {k: put_back(v) for k, v in node.items()}
        if isinstance(node, list):
            return [put_back(v) for v in node]
        return node

    out: Schema = put_back(schema)
    defs = {name: put_back(shared[name]) for name in sorted(wanted - inline)}
    if defs:
        out["$defs"] = {**defs, **out.get("$defs", {})}
    return out


@cache
def _shared_defs(
    folder: Path,
) -> tuple[dict[str, Schema], dict[str, set[str]], dict[str, list[str]]]:
    """The shared subschemas of a build output, and the shared names each refers to (as a
    set, and once per reference)."""
    try:
        loaded = json.loads((folder / SHARED).read_text("utf-8"))
    except (OSError, ValueError):
        return {}, {}, {}
    defs = loaded.get("$defs") if isinstance(loaded, dict) else None
    if not isinstance(defs, dict):
        return {}, {}, {}
    listed = {name: list(_shared_refs(body)) for name, body in defs.items()}
    return defs, {name: set(found) for name, found in listed.items()}, listed


def _shared_refs(node: object) -> Iterator[str]:
    """The shared names ``node`` refers to, its own ``$defs`` included."""
    prefix = "#/$defs/" + _SHARED_PREFIX
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref.startswith(prefix):
                yield ref[len("#/$defs/") :]
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def canonical_json(schema: Schema) -> str:
    return json.dumps(schema, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def derive_all(
    paths: Sequence[Path],
    *,
    exclude: Sequence[str] = (),
    share: bool = True,
    within: Path | None = None,
) -> list[Derived]:
    """Derive every served version of every CRD in ``paths`` (files or folders, recursively),
    sorted by index key. The same (group, version, kind) twice is fine when both derive the same
    schema (Istio ships its CRDs both combined and split); different schemas are an error.
    ``within``: a file whose real path is outside that folder is an error, not read."""
    found: dict[str, Derived] = {}
    for source, crd in read_crds(paths, within=within):
        for item in derive(crd, source, share=share):
            if any(fnmatch.fnmatchcase(f"{item.group}/{item.kind}", p) for p in exclude):
                continue
            earlier = found.get(item.key)
            if earlier is None:
                found[item.key] = item
            elif earlier.schema != item.schema:
                raise CRDError(
                    f"{source}: {item.key} is also defined, differently, in {earlier.source}",
                    source,
                )
    return [found[key] for key in sorted(found)]


def read_crds(
    paths: Sequence[Path], *, within: Path | None = None
) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Yield (file, CRD object) for every CustomResourceDefinition in ``paths``, including the
    items of a ``List`` (what ``kubectl get crd -o yaml`` prints). Other objects are skipped.
    ``within``: a file whose real path is outside that folder raises CRDError, unread."""
    import os

    from servegate import yamlsafe

    base = os.path.realpath(within) if within is not None else None
    for file in _yaml_files(paths):
        if base is not None:
            real = os.path.realpath(file)
            if real != base and not real.startswith(base + os.sep):
                raise CRDError(f"{file}: leads out of the repo (a symlink): not read", file)
        try:
            raw = file.read_bytes()
        except OSError as err:
            raise CRDError(f"{file}: cannot read: {err.strerror or err}", file) from None
        if len(raw) > MAX_CRD_FILE_BYTES:
            raise CRDError(f"{file}: larger than {MAX_CRD_FILE_BYTES // 1048576} MiB", file)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise CRDError(f"{file}: not UTF-8 text", file) from None
        result = yamlsafe.load_text(text, positions=False)
        if result.problems:
            problem = result.problems[0]
            raise CRDError(f"{file}:{problem.line}: {problem.message}", file, problem.line)
        for document in result.documents:
            for obj in _objects(document.data):
                if _is_crd(obj):
                    yield file, obj


def derive(crd: dict[str, Any], source: Path, *, share: bool = True) -> list[Derived]:
    """The strict schema of each served version of one CRD object (``share``: repeated
    subschemas stored once under ``$defs``)."""
    spec = crd.get("spec")
    names = spec.get("names") if isinstance(spec, dict) else None
    if not isinstance(spec, dict) or not isinstance(names, dict):
        raise CRDError(f"{source}: CustomResourceDefinition without spec.names", source)
    group, kind = spec.get("group"), names.get("kind")
    if not isinstance(group, str) or not isinstance(kind, str) or not group or not kind:
        raise CRDError(
            f"{source}: CustomResourceDefinition without spec.group or names.kind", source
        )
    versions = spec.get("versions")
    if not isinstance(versions, list):
        # apiextensions.k8s.io/v1beta1 allowed a single top-level version and schema
        versions = [{"name": spec.get("version"), "served": True}]
    shared = _schema_of(spec.get("validation"))
    out: list[Derived] = []
    for entry in versions:
        if not isinstance(entry, dict) or entry.get("served", True) is not True:
            continue
        name = entry.get("name")
        raw = _schema_of(entry.get("schema")) or shared
        if not isinstance(name, str) or raw is None:
            continue
        schema = derive_schema(raw, group, name, kind, share=share)
        out.append(Derived(group, name, kind, schema, source))
    return out


def derive_schema(
    raw: Schema, group: str, version: str, kind: str, *, share: bool = True
) -> Schema:
    """Translate one ``openAPIV3Schema`` into a strict JSON Schema for its kind."""
    root = _convert(raw, structural=True)
    root.setdefault("type", "object")
    properties = root.setdefault("properties", {})
    # Some CRD roots (Istio's) list only spec and status: the envelope is always allowed.
    properties["apiVersion"] = {"const": f"{group}/{version}"}
    properties["kind"] = {"const": kind}
    properties["metadata"] = {"type": "object"}
    if share:
        root = _share([root])[0][0]
    return {"$schema": DIALECT, **root}


def _schema_of(holder: object) -> Schema | None:
    if isinstance(holder, dict):
        schema = holder.get("openAPIV3Schema")
        if isinstance(schema, dict):
            return schema
    return None


def _convert(node: Schema, *, structural: bool) -> Schema:
    """One node: keep validation keywords, translate the Kubernetes ones. ``structural`` is
    false inside anyOf/oneOf/allOf/not, where a schema only constrains values and must not
    close objects."""
    out: Schema = {k: v for k, v in node.items() if k in _KEEP}
    if structural:
        out.update((k, v) for k, v in node.items() if k in _KEEP_STRUCTURAL)
        rules = _rules(node.get("x-kubernetes-validations"))
        if rules:
            out["x-kubernetes-validations"] = rules
    for key in ("properties", "patternProperties"):
        children = node.get(key)
        if isinstance(children, dict):
            out[key] = {
                name: _convert(child, structural=structural)
                for name, child in children.items()
                if isinstance(child, dict)
            }
    for key in ("items", "additionalProperties"):
        child = node.get(key)
        if isinstance(child, dict):
            out[key] = _convert(child, structural=structural)
        elif isinstance(child, bool):
            out[key] = child
    for key in ("anyOf", "oneOf", "allOf"):
        options = node.get(key)
        if isinstance(options, list):
            out[key] = [_convert(o, structural=False) for o in options if isinstance(o, dict)]
    if isinstance(node.get("not"), dict):
        out["not"] = _convert(node["not"], structural=False)
    # OpenAPI 3.0 exclusive bounds are booleans that modify minimum/maximum.
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if node.get(exclusive) is True and bound in out:
            out[exclusive] = out.pop(bound)
    if node.get("x-kubernetes-int-or-string") is True:
        out["type"] = ["integer", "string"]
        if out.get("anyOf") == _INT_OR_STRING:
            del out["anyOf"]
    if node.get("nullable") is True:
        _allow_null(out)
    if node.get("x-kubernetes-embedded-resource") is True:
        out.setdefault("type", "object")
        properties = out.setdefault("properties", {})
        properties.setdefault("apiVersion", {"type": "string"})
        properties.setdefault("kind", {"type": "string"})
        properties.setdefault("metadata", {"type": "object"})
    preserve = node.get("x-kubernetes-preserve-unknown-fields") is True
    if structural and not preserve and "additionalProperties" not in out and _is_object(out):
        out["additionalProperties"] = False
    return out


def _rules(raw: object) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        return []
    return [
        {k: item[k] for k in _RULE_KEYS if k in item}
        for item in raw
        if isinstance(item, dict) and isinstance(item.get("rule"), str)
    ]


def _allow_null(out: Schema) -> None:
    kind = out.get("type")
    if isinstance(kind, str):
        out["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        out["type"] = [*kind, "null"]
    if isinstance(out.get("enum"), list) and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]


def _is_object(schema: Schema) -> bool:
    kind = schema.get("type")
    if kind is None:
        return "properties" in schema
    return kind == "object" or (isinstance(kind, list) and "object" in kind)


def _subschemas(node: Schema) -> Iterator[tuple[str, Schema]]:
    """(name hint, child schema) for each direct subschema, in a stable order."""
    for key in ("properties", "patternProperties"):
        children = node.get(key)
        if isinstance(children, dict):
            for name in sorted(children):
                yield name, children[name]
    for key in ("items", "additionalProperties", "not"):
        child = node.get(key)
        if isinstance(child, dict):
            yield key, child
    for key in ("allOf", "anyOf", "oneOf"):
        for option in node.get(key) or ():
            yield key, option


def _map_subschemas(node: Schema, fn: Callable[[str, Schema], Schema]) -> Schema:
    out = dict(node)
    for key in ("properties", "patternProperties"):
        children = node.get(key)
        if isinstance(children, dict):
            out[key] = {name: fn(name, children[name]) for name in children}
    for key in ("items", "additionalProperties", "not"):
        child = node.get(key)
        if isinstance(child, dict):
            out[key] = fn(key, child)
    for key in ("allOf", "anyOf", "oneOf"):
        if isinstance(node.get(key), list):
            out[key] = [fn(key, option) for option in node[key]]
    return out


@dataclass(slots=True)
class _Defs:
    """Subschemas stored once: their names (by canonical text) and bodies."""

    prefix: str
    names: dict[str, str] = field(default_factory=dict)
    defs: dict[str, Schema] = field(default_factory=dict)
    taken: set[str] = field(default_factory=set)


def _share(roots: list[Schema]) -> tuple[list[Schema], dict[str, Schema]]:
    """Store each sizeable subschema that occurs in two or more places once: under its
    schema's ``$defs`` when one schema holds all its places, else in the shared ``$defs``
    (returned; named ``shared.*``), as are the subschemas a shared one refers to."""
    canon: dict[int, str] = {}

    def key_of(node: Schema) -> str:
        found = canon.get(id(node))
        if found is None:
            found = canon[id(node)] = json.dumps(node, sort_keys=True, separators=(",", ":"))
        return found

    # Count places, not copies: inside a repeated subschema, count its children once per root.
    places: Counter[str] = Counter()
    owners: dict[str, set[int]] = {}
    nodes: dict[str, Schema] = {}
    for n, root in enumerate(roots):
        seen: set[str] = set()
        stack = [root]
        while stack:
            node = stack.pop()
            for _, child in _subschemas(node):
                text = key_of(child)
                places[text] += 1
                owners.setdefault(text, set()).add(n)
                nodes.setdefault(text, child)
                if text not in seen:
                    seen.add(text)
                    stack.append(child)
    repeated = {t for t, count in places.items() if count >= 2 and len(t) >= _MIN_SHARED}
    across = [t for t in repeated if len(owners[t]) >= 2]
    common: set[str] = set()
    while across:  # a shared subschema may refer only to shared ones
        text = across.pop()
        if text in common:
            continue
        common.add(text)
        stack = [nodes[text]]
        while stack:
            for _, child in _subschemas(stack.pop()):
                child_text = key_of(child)
                if child_text in repeated:
                    across.append(child_text)
                else:
                    stack.append(child)
    shared = _Defs(_SHARED_PREFIX)
    out: list[Schema] = []
    for root in roots:
        local = _Defs("")

        def rewrite(hint: str, node: Schema, local: _Defs = local) -> Schema:
            text = key_of(node)
            if text not in repeated:
                return _map_subschemas(node, rewrite)
            owner = shared if text in common else local
            name = owner.names.get(text)
            if name is None:
                if not owner.prefix and hint.startswith(_SHARED_PREFIX):
                    hint = "_" + hint  # a local name never looks shared
                name = owner.names[text] = owner.prefix + _unique_name(hint, owner.taken)
                owner.defs[name] = _map_subschemas(node, rewrite)
            return {"$ref": f"#/$defs/{name}"}

        rewritten = _map_subschemas(root, rewrite)
        if local.defs:
            rewritten["$defs"] = local.defs
        out.append(rewritten)
    return out, shared.defs


def _unique_name(hint: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]", "_", hint) or "schema"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    taken.add(name)
    return name


def _yaml_files(paths: Sequence[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            files: Iterable[Path] = (
                p
                for p in path.rglob("*")
                if p.suffix in _YAML_SUFFIXES
                and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            yield from sorted(files)
        elif path.is_file():
            yield path
        else:
            raise CRDError(f"{path}: no such file or directory", path)


def _objects(data: object) -> Iterator[dict[str, Any]]:
    if not isinstance(data, dict):
        return
    items = data.get("items")
    if (
        isinstance(data.get("kind"), str)
        and data["kind"].endswith("List")
        and isinstance(items, list)
    ):
        for item in items:
            if isinstance(item, dict):
                yield item
    else:
        yield data


def _is_crd(obj: dict[str, Any]) -> bool:
    api_version = obj.get("apiVersion")
    return (
        obj.get("kind") == "CustomResourceDefinition"
        and isinstance(api_version, str)
        and api_version.startswith("apiextensions.k8s.io/")
    )


def _read_index(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    # only plain file names: a tampered index must not delete files elsewhere
    return {k: v for k, v in data.items() if isinstance(v, str) and "/" not in v and v != INDEX}


def _write_if_changed(path: Path, text: str) -> None:
    data = text.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return
    except OSError:
        pass
    path.write_bytes(data)

"""The objects a document stands for: list items unwrapped, embedded manifests taken out.

kubectl and Argo CD apply the items of any object that holds an ``items`` list, whatever its
kind, and not the object itself: apimachinery's ``Unstructured.IsList`` is only "``items`` is
a list", kubectl's resource builder flattens such objects into their items
(k8s.io/cli-runtime ``pkg/resource/visitor.go`` ``FlattenListVisitor``), and Argo CD's repo
server does the same for every manifest (argoproj/argo-cd ``reposerver/repository/
repository.go``, ``obj.IsList()`` then ``EachListItem``). An item with neither ``kind`` nor
``apiVersion`` takes the list's apiVersion and its kind less the ``List`` suffix
(apimachinery ``unstructured.go`` ``decodeToList``), as ``kubectl annotate --local`` shows.
Lists nest; each item is located at its own line.

An Argo Workflows ``resource`` template creates the object written in ``resource.manifest``
(text, possibly several YAML documents): each object in it is checked as a resource of its own,
located at the manifest field.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from servegate.podspecs import argo
from servegate.podspecs.argo import KINDS as WORKFLOW_KINDS
from servegate.resource import FieldPath, Origin, Resource, as_dict, is_k8s_object
from servegate.yamlsafe import Document

MAX_MANIFEST_BYTES = 1024 * 1024
MAX_EMBEDDING = 4
"""Manifests inside manifests (a Workflow that creates a Workflow...) are followed this deep."""
_WORKFLOW_GROUP = "argoproj.io"


def resources(data: Any, origin: Origin) -> list[Resource]:
    """The resources one YAML document (or one rendered object) stands for: itself, the items
    of a list (nested lists too), and the objects of an Argo Workflows ``resource.manifest``.
    A document that is no Kubernetes object gives none."""
    if (
        isinstance(data, dict)
        and not isinstance(data.get("items"), list)
        and data.get("kind") not in WORKFLOW_KINDS
    ):  # the common case, kept cheap: one object
        return [Resource.from_body(data, origin)] if is_k8s_object(data) else []
    out: list[Resource] = []
    _collect(data, origin, 0, out)
    return out


def _collect(data: Any, origin: Origin, embedding: int, out: list[Resource]) -> None:
    stack: list[tuple[Any, FieldPath]] = [(data, origin.within)]
    while stack:
        body, within = stack.pop()
        if not isinstance(body, dict):
            continue
        items = body.get("items")
        if isinstance(items, list):
            kind = body.get("kind")
            item_kind = kind.removesuffix("List") if isinstance(kind, str) else ""
            api_version = body.get("apiVersion")
            found = []
            for i, item in enumerate(items):
                if (
                    isinstance(item, dict)
                    and item_kind
                    and not item.get("kind")
                    and not item.get("apiVersion")
                ):
                    item = {"apiVersion": api_version, "kind": item_kind, **item}
                found.append((item, (*within, "items", i)))
            stack.extend(reversed(found))
            continue
        if not is_k8s_object(body):
            continue
        resource = Resource.from_body(
            body, origin if within == origin.within else replace(origin, within=within)
        )
        if resource.kind in WORKFLOW_KINDS and resource.group == _WORKFLOW_GROUP:
            resource = _with_patch_lines(resource)
        out.append(resource)
        if embedding < MAX_EMBEDDING:
            for where, text, documents in _manifests(resource):
                inner = replace(resource.origin, within=(*resource.origin.within, *where))
                lines = _lines_inside(inner, text) if len(documents) == 1 else None
                if lines is not None:
                    inner = replace(inner, document=lines)
                for document in documents:
                    _collect(document, inner, embedding + 1, out)


def _lines_inside(origin: Origin, text: str) -> Document | None:
    """The source document with the line of every field of the manifest ``text`` at
    ``origin.within``, when it is a literal block (``manifest: |``) written there as it is (a
    rendered object's manifest may differ from its source's): a finding inside it is located
    at its own line, not at the ``manifest:`` key. None otherwise."""
    return _with_blocks(origin.document, [(origin.within, text)])


def _with_patch_lines(resource: Resource) -> Resource:
    """``resource`` (an Argo Workflows object) with the lines of the fields inside each of its
    literal-block podSpecPatch strings, so that what a patch sets is located at its line."""
    origin = resource.origin
    fields = [((*origin.within, *where), text) for where, text in argo.patches(resource)]
    document = _with_blocks(origin.document, fields) if fields else None
    if document is None:
        return resource
    return Resource.from_body(resource.body, replace(origin, document=document))


def _with_blocks(document: Document | None, fields: list[tuple[FieldPath, str]]) -> Document | None:
    """``document`` with the positions inside each (path, text) field that is a literal block
    holding one YAML document, as it is written there; None when none is."""
    from servegate.yamlsafe import BLOCK, load_text

    if document is None:
        return None
    positions: dict[FieldPath, int] | None = None
    for field_path, text in fields:
        start = document.positions.get((*field_path, BLOCK))
        if start is None or _value_at(document.data, field_path) != text:
            continue
        loaded = load_text(text)
        if loaded.problems or len(loaded.documents) != 1:
            continue
        positions = dict(document.positions) if positions is None else positions
        for path, line in loaded.documents[0].positions.items():
            if path:
                positions[(*field_path, *path)] = start + line - 1
    if positions is None:
        return None
    return Document(document.data, document.line, positions)


def _value_at(data: Any, path: FieldPath) -> Any:
    for step in path:
        if isinstance(data, dict) and isinstance(step, str):
            data = data.get(step)
        elif isinstance(data, list) and isinstance(step, int) and 0 <= step < len(data):
            data = data[step]
        else:
            return None
    return data


def _manifests(resource: Resource) -> Iterator[tuple[FieldPath, str, list[Any]]]:
    """(path, text, parsed documents) of each readable Argo Workflows resource manifest."""
    for where, text in workflow_manifests(resource):
        parsed = parse_manifest(text)
        if parsed.documents is not None:
            yield where, text, parsed.documents


def workflow_manifests(resource: Resource) -> Iterator[tuple[FieldPath, str]]:
    """(path, text) of the ``resource.manifest`` of each template that creates, applies,
    replaces or patches an object (``get`` and ``delete`` create nothing)."""
    if resource.kind not in WORKFLOW_KINDS or resource.group != _WORKFLOW_GROUP:
        return
    path, spec = argo.workflow_spec(resource)
    defaults = as_dict(spec.get("templateDefaults"))
    candidates = [((*path, "templateDefaults"), defaults)] if defaults else []
    candidates.extend(argo.templates(resource))
    for tpath, template in candidates:
        holder = as_dict(template.get("resource"))
        manifest = holder.get("manifest")
        if isinstance(manifest, str) and holder.get("action") not in ("get", "delete"):
            yield (*tpath, "resource", "manifest"), manifest


def manifest_sources(resource: Resource) -> Iterator[tuple[FieldPath, str]]:
    """(path, why) of each template whose manifest is read at run time (``manifestFrom``)."""
    if resource.kind not in WORKFLOW_KINDS or resource.group != _WORKFLOW_GROUP:
        return
    for tpath, template in argo.templates(resource):
        holder = as_dict(template.get("resource"))
        if holder.get("manifestFrom") is not None and holder.get("action") not in ("get", "delete"):
            yield (
                (*tpath, "resource", "manifestFrom"),
                "resource.manifestFrom: the manifest is read from an artifact at run time, so "
                "what it creates cannot be checked",
            )


@dataclass(frozen=True, slots=True)
class ParsedManifest:
    documents: list[Any] | None
    problem: str | None = None


@lru_cache(maxsize=256)
def parse_manifest(text: str) -> ParsedManifest:
    """Read an embedded manifest strictly (servegate's YAML rules and limits); the result is
    shared: never change it."""
    from servegate.yamlsafe import load_text

    if len(text.encode("utf-8", "surrogatepass")) > MAX_MANIFEST_BYTES:
        return ParsedManifest(None, f"longer than {MAX_MANIFEST_BYTES // 1024} KiB: not checked")
    loaded = load_text(text, positions=False)
    if loaded.problems:
        return ParsedManifest(None, f"not valid YAML: {loaded.problems[0].message}")
    documents = [d.data for d in loaded.documents if d.data is not None]
    if not any(isinstance(d, dict) for d in documents):
        return ParsedManifest(None, "holds no Kubernetes object")
    return ParsedManifest(documents)

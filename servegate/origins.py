"""Map objects rendered by kustomize back to the source a user edits.

kustomize's ``config.kubernetes.io/origin`` annotation names the source file; the document in
that file is found by kind and name (name prefixes and suffixes allowed). Each object gets a
lazy trace (``servegate.provenance``) that replays the build to tell which patch, replacement
or kustomization field wrote a field; where the trace cannot say, the patch documents that
target the object by kind and name are tried, then the source document's line.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

from servegate.discover import Discovery, PatchDoc
from servegate.provenance import Tracer
from servegate.resource import FieldPath, Origin, Patch
from servegate.sources import SourceFiles
from servegate.yamlsafe import Document

ORIGIN_ANNOTATION = "config.kubernetes.io/origin"
_KUSTOMIZE_ANNOTATIONS = (ORIGIN_ANNOTATION, "alpha.config.kubernetes.io/transformations")


def strip_build_annotations(body: dict[str, Any]) -> str | None:
    """Remove kustomize's build annotations from ``body``; return the origin path, if any."""
    meta = body.get("metadata")
    if not isinstance(meta, dict):
        return None
    annotations = meta.get("annotations")
    if not isinstance(annotations, dict):
        return None
    origin = annotations.get(ORIGIN_ANNOTATION)
    for key in _KUSTOMIZE_ANNOTATIONS:
        annotations.pop(key, None)
    if not annotations:
        del meta["annotations"]
    if not isinstance(origin, str):
        return None
    for line in origin.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "path":
            return value.strip().strip("'\"")
    return None


def origin_for(
    body: dict[str, Any],
    origin_path: str | None,
    wrapper: str,
    kdir: str,
    discovery: Discovery,
    sources: SourceFiles,
    tracer: Tracer | None = None,
) -> Origin:
    """The Origin of one rendered object of root ``kdir``; ``tracer`` (one per root, shared by
    its objects) replays the build when a finding asks where a field was written."""
    root = discovery.root
    kind = body.get("kind")
    meta = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    name = str((meta or {}).get("name") or "")
    file = None
    if origin_path:
        file = _relative(os.path.normpath(os.path.join(wrapper, origin_path)), root)
        if file.startswith("../"):
            file = None
    patches = tuple(
        Patch(p.file, p.document)
        for k in discovery.closure(kdir)
        for p in k.patches
        if _targets(p, kind, name)
    )
    if file is None:
        kfile = discovery.kustomizations[kdir].file if kdir in discovery.kustomizations else kdir
        return Origin(kfile, None, patches, kdir)
    tracer = tracer or Tracer(root, discovery.kustomizations, sources, kdir)
    document = _find_document(sources, file, kind, name)
    if document is None:
        found = _find_list_item(sources, file, kind, name)
        if found is not None:
            trace = tracer.trace(body, file, found[0], found[1])
            return Origin(file, found[0], patches, kdir, found[1], trace)
        return Origin(file, None, patches, kdir)
    return Origin(file, document, patches, kdir, (), tracer.trace(body, file, document, ()))


def _relative(absolute: str, root: Path) -> str:
    """``Path(os.path.relpath(absolute, root)).as_posix()`` for a normalised ``absolute``; by
    string for a path below an absolute, normalised root (every object of a render)."""
    prefix = _prefix(str(root))
    if prefix and absolute.startswith(prefix) and os.path.isabs(absolute):
        return absolute[len(prefix) :]
    return Path(os.path.relpath(absolute, root)).as_posix()


@cache
def _prefix(base: str) -> str:
    """``base + "/"`` when relpath against ``base`` is a plain prefix cut, else ""."""
    return base + "/" if os.sep == "/" and base == os.path.abspath(base) != "/" else ""


def _targets(patch: PatchDoc, kind: Any, name: str) -> bool:
    if patch.kind is not None and patch.kind != kind:
        return False
    return patch.name is None or patch.name in name


def _find_list_item(
    sources: SourceFiles, file: str, kind: Any, name: str
) -> tuple[Document, FieldPath] | None:
    """The document and ``items`` path of a list item kustomize unwrapped (lists nest)."""
    for doc in sources.load(file).documents:
        stack: list[tuple[Any, FieldPath]] = [(doc.data, ())]
        while stack:
            data, within = stack.pop()
            items = data.get("items") if isinstance(data, dict) else None
            if not isinstance(items, list):
                continue
            for i, item in enumerate(items):
                if not isinstance(item, dict):
                    continue
                meta = item.get("metadata") if isinstance(item.get("metadata"), dict) else {}
                item_name = str((meta or {}).get("name") or "")
                if item.get("kind") == kind and item_name and item_name in name:
                    return doc, (*within, "items", i)
                stack.append((item, (*within, "items", i)))
    return None


def _find_document(sources: SourceFiles, file: str, kind: Any, name: str) -> Document | None:
    candidates: list[Document] = []
    for doc in sources.load(file).documents:
        data = doc.data
        if not isinstance(data, dict) or data.get("kind") != kind:
            continue
        meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        source_name = str((meta or {}).get("name") or "")
        if source_name == name:
            return doc
        if source_name and source_name in name:
            candidates.append(doc)
    if candidates:
        return max(candidates, key=lambda d: len(str(d.data.get("metadata", {}).get("name"))))
    return None

"""Map objects rendered by kustomize back to the source a user edits.

kustomize's ``config.kubernetes.io/origin`` annotation names the source file; the document in
that file is found by kind and name (name prefixes and suffixes allowed). Each object gets a
lazy trace (``servegate.provenance``) that replays the build to tell which patch, replacement
or kustomization field wrote a field; where the trace cannot say, the patch documents that
target the object by kind and name are tried, then the source document's line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class BuildOrigin:
    """What kustomize's origin annotation says about one rendered object."""

    path: str | None = None
    """The file it was read from (relative to the rendered kustomization)."""
    configured_in: str | None = None
    """For a generated object: the kustomization whose generator made it."""
    configured_by: str | None = None
    """For a generated object: the generator's kind (``ConfigMapGenerator``...)."""


def take_build_origin(body: dict[str, Any]) -> BuildOrigin | None:
    """Remove kustomize's build annotations from ``body``; return what the origin says."""
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
    found: dict[str, str] = {}
    for line in origin.splitlines():  # kustomize writes it; a YAML parse per object costs more
        key, _, value = line.partition(":")
        found.setdefault(key.strip(), value.strip().strip("'\""))
    if found.get("path"):
        return BuildOrigin(path=found["path"])
    if found.get("configuredIn"):
        return BuildOrigin(None, found["configuredIn"], found.get("kind"))
    return None


def strip_build_annotations(body: dict[str, Any]) -> str | None:
    """Remove kustomize's build annotations from ``body``; return the origin path, if any."""
    found = take_build_origin(body)
    return found.path if found is not None else None


def origin_for(
    body: dict[str, Any],
    origin: str | BuildOrigin | None,
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
    if isinstance(origin, BuildOrigin) and origin.path is None and origin.configured_in:
        generated = _generated(origin, body, name, wrapper, kdir, discovery)
        if generated is not None:
            return generated
    origin_path = origin.path if isinstance(origin, BuildOrigin) else origin
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


_GENERATORS = {"ConfigMapGenerator": "configMapGenerator", "SecretGenerator": "secretGenerator"}


def _generated(
    origin: BuildOrigin,
    body: dict[str, Any],
    name: str,
    wrapper: str,
    kdir: str,
    discovery: Discovery,
) -> Origin | None:
    """The Origin of an object a ``configMapGenerator``/``secretGenerator`` entry made: that
    entry (the longest entry name within the rendered name, which adds prefixes, suffixes and
    the content hash), its ``literals``/``files``/``envs`` line for a ``data`` key."""
    section = _GENERATORS.get(origin.configured_by or "")
    kfile = _relative(
        os.path.normpath(os.path.join(wrapper, origin.configured_in or "")), discovery.root
    )
    if section is None or kfile.startswith("../"):
        return None
    k = next((k for k in discovery.kustomizations.values() if k.file == kfile), None)
    data = k.document.data if k is not None and k.document is not None else None
    entries = data.get(section) if isinstance(data, dict) else None
    best: tuple[int, int] | None = None
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        entry_name = entry.get("name") if isinstance(entry, dict) else None
        if (
            isinstance(entry_name, str)
            and entry_name
            and entry_name in name
            and (best is None or len(entry_name) > best[1])
        ):
            best = (i, len(entry_name))
    if k is None or k.document is None or best is None:
        return None
    within: FieldPath = (section, best[0])
    return Origin(kfile, k.document, (), kdir, within, _GeneratorEntry(kfile, k.document, within))


class _GeneratorEntry:
    """Lines of one generator entry: a ``data``/``stringData`` key at the literal, file or
    env file that supplies it, anything else at the entry."""

    __slots__ = ("document", "file", "within")

    def __init__(self, file: str, document: Document, within: FieldPath) -> None:
        self.file = file
        self.document = document
        self.within = within

    def locate(self, path: FieldPath) -> tuple[str, int] | None:
        inner = path[len(self.within) :]
        entry = self.document.data
        for part in self.within:
            entry = entry[part]
        if len(inner) >= 2 and inner[0] in ("data", "stringData", "binaryData"):
            key = str(inner[1])
            for field_name in ("literals", "files", "envs", "env"):
                values = entry.get(field_name) if isinstance(entry, dict) else None
                for j, value in enumerate(values if isinstance(values, list) else [values]):
                    if isinstance(value, str) and _supplies(field_name, value, key):
                        at = (
                            (*self.within, field_name, j)
                            if isinstance(values, list)
                            else (*self.within, field_name)
                        )
                        return self.file, self.document.line_of(at)
        return self.file, self.document.line_of((*self.within, "name"))

    def removed(self, path: FieldPath) -> tuple[str, int] | None:
        """A generated object's fields are written by its entry: none was removed."""
        return None


def _supplies(field_name: str, value: str, key: str) -> bool:
    if field_name == "literals":
        return value.partition("=")[0].strip() == key
    if field_name == "files":
        named, _, path = value.partition("=")
        return (named.strip() == key) if path else os.path.basename(value.strip()) == key
    return True  # an env file: its lines are not read here


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

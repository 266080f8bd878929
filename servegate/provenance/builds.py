"""The build of one kustomize root as kustomize runs it, read from its kustomization files.

kustomize builds a kustomization by accumulating its ``resources`` (files, and other
kustomizations built first, each with its own transformations), running its generators, then
each of its ``components`` in order (a component adds its resources to the same accumulator and
runs its transformations over everything accumulated so far), then its own transformers, in a
fixed order: ``patchesStrategicMerge``, ``patches``, ``namespace``, ``namePrefix``,
``nameSuffix``, labels, ``commonAnnotations``, ``patchesJson6902``, ``replicas``, ``images``,
``replacements``, and last the ``transformers:`` field's configurations
(kubernetes-sigs/kustomize ``api/internal/target/kusttarget.go`` ``accumulateTarget``,
``accumulateDirectory``; ``kusttarget_configplugin.go`` ``configureBuiltinTransformers``).

:func:`sequences` gives, for an object from one resource file, the transformations it went
through on its way to the root, in order (one list per way the root includes that file).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from servegate.provenance.select import Selector
from servegate.provenance.steps import (
    ImageRule,
    Images,
    JsonPatch,
    MetadataMap,
    NameAffix,
    Namespace,
    Replacement,
    ReplacementTarget,
    Step,
    StrategicMerge,
)
from servegate.provenance.tree import FieldPath, Loc, Node, build
from servegate.sources import SourceFiles
from servegate.yamlsafe import Document, load_text

MAX_SEQUENCES = 16
"""Ways one file may reach the root that are replayed; more is no plausible build."""

LineMap = Callable[[int], int]


@dataclass(slots=True)
class Layer:
    """One kustomization (or component) as a build step."""

    dir: str
    file: str
    resources: list[str | Layer] = field(default_factory=list)
    components: list[Layer] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)

    def transformations(self) -> list[Step]:
        """What this layer applies to everything accumulated before its components ran:
        each component's transformations, then its own."""
        out: list[Step] = []
        for component in self.components:
            out.extend(component.transformations())
        out.extend(self.steps)
        return out


def sequences(layer: Layer, file: str) -> Iterator[list[Step]]:
    """The transformations an object read from ``file`` goes through in ``layer``'s build,
    once for every way the build includes ``file``."""
    for count, found in enumerate(_sequences(layer, file, 0), 1):
        yield found
        if count >= MAX_SEQUENCES:
            return


def _sequences(layer: Layer, file: str, depth: int) -> Iterator[list[Step]]:
    if depth > 64:
        return
    own = layer.transformations()
    for entry in layer.resources:
        if isinstance(entry, str):
            if entry == file:
                yield own
        else:
            for inner in _sequences(entry, file, depth + 1):
                yield [*inner, *own]
    for i, component in enumerate(layer.components):
        after: list[Step] = []
        for later in layer.components[i + 1 :]:
            after.extend(later.transformations())
        for inner in _sequences(component, file, depth + 1):
            yield [*inner, *after, *layer.steps]


class Layers:
    """The layers of one repo's kustomizations, read on first use."""

    def __init__(self, root: Path, kustomizations: dict[str, Any], sources: SourceFiles) -> None:
        self.root = root
        self.kustomizations = kustomizations
        """``Discovery.kustomizations``: dir -> ``Kustomization`` (``file``, ``document``)."""
        self.sources = sources
        self._layers: dict[str, Layer | None] = {}

    def layer(self, kdir: str) -> Layer | None:
        if kdir in self._layers:
            return self._layers[kdir]
        self._layers[kdir] = None  # an include cycle reads as a missing layer
        k = self.kustomizations.get(kdir)
        document = getattr(k, "document", None)
        if k is None or document is None or not isinstance(document.data, dict):
            return None
        layer = Layer(kdir, str(k.file))
        data: dict[str, Any] = document.data
        for name in ("resources", "bases"):
            for entry in _strings(data.get(name)):
                layer.resources.append(self._entry(kdir, entry))
        for entry in _strings(data.get("components")):
            sub = self._entry(kdir, entry)
            if isinstance(sub, Layer):
                layer.components.append(sub)
        layer.steps = _Reader(self, kdir, layer.file, document).steps()
        self._layers[kdir] = layer
        return layer

    def _entry(self, kdir: str, entry: str) -> str | Layer:
        target = posixpath.normpath(posixpath.join(kdir, entry))
        if target in self.kustomizations:
            return self.layer(target) or target
        real = os.path.realpath(self.root / target)
        rel = Path(os.path.relpath(real, self.root)).as_posix()
        if rel in self.kustomizations:
            return self.layer(rel) or rel
        return target

    def documents(self, file: str) -> list[Document]:
        loaded = self.sources.load(file)
        return [] if loaded.problems else loaded.documents

    def inline(self, file: str, document: Document, path: FieldPath, text: str) -> Source | None:
        """The documents of YAML written as a string at ``path`` of ``document`` in ``file``,
        located at their lines in ``file``."""
        loaded = load_text(text)
        if loaded.problems:
            return None
        return Source(file, loaded.documents, self._line_map(file, document, path))

    def _line_map(self, file: str, document: Document, path: FieldPath) -> LineMap:
        import yaml

        fallback = document.line_of(path)
        try:
            with open(self.root / file, "rb") as handle:
                text = handle.read().decode("utf-8-sig")
            nodes = list(
                yaml.compose_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
            )
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            return lambda _line: fallback
        node = next(
            (n for n in nodes if n is not None and n.start_mark.line + 1 == document.line), None
        )
        node = node if node is not None else (nodes[0] if len(nodes) == 1 else None)
        for part in path:
            if isinstance(node, yaml.MappingNode):
                node = next((v for k, v in node.value if k.value == str(part)), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                node = node.value[part] if part < len(node.value) else None
            else:
                node = None
        if not isinstance(node, yaml.ScalarNode):
            return lambda _line: fallback
        if node.style == "|":  # a literal block: its lines are the file's, from the next one
            first = node.start_mark.line + 2
            return lambda line: first + line - 1
        start = node.start_mark.line + 1
        return lambda _line: start


@dataclass(slots=True)
class Source:
    """Documents of a patch or replacement, and how their lines map to the file's."""

    file: str
    documents: list[Document]
    line: LineMap

    def tree(self, document: Document, within: FieldPath = ()) -> Node:
        data: Any = document.data
        for part in within:
            data = data[part]
        return build(data, lambda p: (self.file, self.line(document.line_of((*within, *p)))))

    def loc(self, document: Document, path: FieldPath) -> Loc:
        return self.file, self.line(document.line_of(path))


def _strings(value: Any) -> list[str]:
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


class _Reader:
    """The transformations one kustomization file declares, in kustomize's order."""

    def __init__(self, layers: Layers, kdir: str, file: str, document: Document) -> None:
        self.layers = layers
        self.kdir = kdir
        self.file = file
        self.document = document
        self.here = Source(file, [document], _same_line)

    def steps(self) -> list[Step]:
        data: dict[str, Any] = self.document.data
        out: list[Step] = []
        for i, entry in enumerate(_list(data.get("patchesStrategicMerge"))):
            if isinstance(entry, str):
                out.extend(self._strategic(entry, ("patchesStrategicMerge", i), None))
        for i, entry in enumerate(_list(data.get("patches"))):
            out.extend(self._patch(entry, ("patches", i), self.here, self.document))
        namespace = data.get("namespace")
        if isinstance(namespace, str) and namespace:
            out.append(Namespace(namespace, self.here.loc(self.document, ("namespace",))))
        prefix, suffix = data.get("namePrefix"), data.get("nameSuffix")
        if isinstance(prefix, str) and prefix:
            out.append(NameAffix(prefix, ""))
        if isinstance(suffix, str) and suffix:
            out.append(NameAffix("", suffix))
        out.extend(self._labels(data))
        annotations = data.get("commonAnnotations")
        if isinstance(annotations, dict) and annotations:
            out.append(MetadataMap("annotations", self._pairs(annotations, ("commonAnnotations",))))
        for i, entry in enumerate(_list(data.get("patchesJson6902"))):
            if isinstance(entry, dict):
                legacy = {
                    "target": entry.get("target"),
                    "path": entry.get("path"),
                    "patch": entry.get("patch"),
                }
                out.extend(self._patch(legacy, ("patchesJson6902", i), self.here, self.document))
        images = [self._image(e, ("images", i)) for i, e in enumerate(_list(data.get("images")))]
        if any(images):
            out.append(Images([r for r in images if r is not None]))
        replacements = _list(data.get("replacements"))
        out.extend(self._replacements(replacements, ("replacements",), self.here, self.document))
        for i, entry in enumerate(_list(data.get("transformers"))):
            out.extend(self._transformer(entry, ("transformers", i)))
        return out

    # --- patches ---------------------------------------------------------------------------

    def _patch(self, entry: Any, at: FieldPath, where: Source, document: Document) -> list[Step]:
        if isinstance(entry, str):
            return self._from_file(entry, None)
        if not isinstance(entry, dict):
            return []
        target = Selector.parse(entry.get("target"))
        options = entry.get("options") if isinstance(entry.get("options"), dict) else {}
        renames = (
            bool((options or {}).get("allowNameChange")),
            bool((options or {}).get("allowKindChange")),
        )
        if isinstance(entry.get("patch"), str) and entry["patch"].strip():
            source = self.layers.inline(where.file, document, (*at, "patch"), entry["patch"])
            return self._content(source, target, renames) if source is not None else []
        if isinstance(entry.get("path"), str):
            return self._from_file(entry["path"], target, renames)
        return []

    def _strategic(self, entry: str, at: FieldPath, target: Selector | None) -> list[Step]:
        if "\n" in entry or entry.lstrip().startswith("{"):
            source = self.layers.inline(self.file, self.document, at, entry)
            return self._content(source, target) if source is not None else []
        return self._from_file(entry, target)

    def _from_file(
        self, entry: str, target: Selector | None, renames: tuple[bool, bool] = (False, False)
    ) -> list[Step]:
        file = posixpath.normpath(posixpath.join(self.kdir, entry))
        documents = self.layers.documents(file)
        return self._content(Source(file, documents, _same_line), target, renames)

    def _content(
        self,
        source: Source,
        target: Selector | None,
        renames: tuple[bool, bool] = (False, False),
    ) -> list[Step]:
        documents = [d for d in source.documents if d.data is not None]
        if len(documents) == 1 and isinstance(documents[0].data, list):
            if target is None:
                return []  # kustomize refuses a JSON patch without a target
            tree = source.tree(documents[0])
            return [JsonPatch(list(tree.value), target)]
        return [
            StrategicMerge(source.tree(d), target, *renames)
            for d in documents
            if isinstance(d.data, dict)
        ]

    # --- replacements ----------------------------------------------------------------------

    def _replacements(
        self, entries: list[Any], at: FieldPath, where: Source, document: Document
    ) -> list[Step]:
        out: list[Step] = []
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                continue
            if isinstance(entry.get("path"), str):
                file = posixpath.normpath(posixpath.join(self.kdir, entry["path"]))
                for doc in self.layers.documents(file):
                    holder = Source(file, [doc], _same_line)
                    if isinstance(doc.data, dict):
                        out.extend(self._replacement(doc.data, (), holder, doc))
                    elif isinstance(doc.data, list):
                        for j, item in enumerate(doc.data):
                            if isinstance(item, dict):
                                out.extend(self._replacement(item, (j,), holder, doc))
            else:
                out.extend(self._replacement(entry, (*at, i), where, document))
        return out

    def _replacement(
        self, data: dict[str, Any], at: FieldPath, where: Source, document: Document
    ) -> list[Step]:
        targets: list[ReplacementTarget] = []
        for j, target in enumerate(_list(data.get("targets"))):
            if not isinstance(target, dict):
                continue
            select = Selector.parse(target.get("select"))
            if select is None:
                continue
            reject = [s for s in map(Selector.parse, _list(target.get("reject"))) if s is not None]
            paths = [
                (p, where.loc(document, (*at, "targets", j, "fieldPaths", k)))
                for k, p in enumerate(_list(target.get("fieldPaths")))
                if isinstance(p, str)
            ] or [("metadata.name", where.loc(document, (*at, "targets", j)))]
            options = target.get("options") if isinstance(target.get("options"), dict) else {}
            targets.append(
                ReplacementTarget(select, reject, paths, bool((options or {}).get("create")))
            )
        return [Replacement(targets)] if targets else []

    # --- metadata, images, transformers ----------------------------------------------------

    def _pairs(self, mapping: dict[Any, Any], at: FieldPath) -> list[tuple[str, str, Loc]]:
        return [
            (str(k), "" if v is None else str(v), self.here.loc(self.document, (*at, k)))
            for k, v in mapping.items()
        ]

    def _labels(self, data: dict[str, Any]) -> list[Step]:
        out: list[Step] = []
        for i, entry in enumerate(_list(data.get("labels"))):
            if isinstance(entry, dict) and isinstance(entry.get("pairs"), dict):
                pairs = self._pairs(entry["pairs"], ("labels", i, "pairs"))
                templates = bool(entry.get("includeSelectors") or entry.get("includeTemplates"))
                out.append(MetadataMap("labels", pairs, templates))
        common = data.get("commonLabels")
        if isinstance(common, dict) and common:
            out.append(MetadataMap("labels", self._pairs(common, ("commonLabels",))))
        return out

    def _image(self, entry: Any, at: FieldPath) -> ImageRule | None:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            return None
        field_name = next(
            (k for k in ("digest", "newTag", "tagSuffix", "newName") if entry.get(k)), None
        )
        loc = self.here.loc(self.document, (*at, field_name) if field_name else at)
        return ImageRule(
            entry["name"],
            str(entry.get("newName") or ""),
            str(entry.get("newTag") or ""),
            str(entry.get("digest") or ""),
            str(entry.get("tagSuffix") or ""),
            loc,
        )

    def _transformer(self, entry: Any, at: FieldPath) -> list[Step]:
        """Builtin transformer configurations (a file, or inline) that patch, replace or
        rename: ``PatchTransformer``, ``PatchStrategicMergeTransformer``,
        ``PatchJson6902Transformer``, ``ReplacementTransformer``, ``NamespaceTransformer``,
        ``PrefixSuffixTransformer``/``PrefixTransformer``/``SuffixTransformer``."""
        configs: list[tuple[dict[str, Any], Source, Document, FieldPath]] = []
        if isinstance(entry, dict):
            configs.append((entry, self.here, self.document, at))
        elif isinstance(entry, str) and "\n" in entry:
            source = self.layers.inline(self.file, self.document, at, entry)
            if source is not None:
                configs.extend(
                    (doc.data, source, doc, ())
                    for doc in source.documents
                    if isinstance(doc.data, dict)
                )
        elif isinstance(entry, str):
            file = posixpath.normpath(posixpath.join(self.kdir, entry))
            configs.extend(
                (doc.data, Source(file, [doc], _same_line), doc, ())
                for doc in self.layers.documents(file)
                if isinstance(doc.data, dict)
            )
        out: list[Step] = []
        for config, where, doc, within in configs:
            out.extend(self._builtin(config, where, doc, within))
        return out

    def _builtin(
        self, config: dict[str, Any], where: Source, doc: Document, at: FieldPath
    ) -> list[Step]:
        kind = config.get("kind")
        if config.get("apiVersion") not in (None, "builtin"):
            return []
        if kind in ("PatchTransformer", "PatchJson6902Transformer"):
            if kind == "PatchJson6902Transformer" and isinstance(config.get("jsonOp"), str):
                source = self.layers.inline(where.file, doc, (*at, "jsonOp"), config["jsonOp"])
                target = Selector.parse(config.get("target"))
                return self._content(source, target) if source is not None and target else []
            return self._patch(config, at, where, doc)
        if kind == "PatchStrategicMergeTransformer":
            out: list[Step] = []
            for path in _strings(config.get("paths")):
                out.extend(self._from_file(path, None))
            patches = config.get("patches")
            if isinstance(patches, str) and patches.strip():
                source = self.layers.inline(where.file, doc, (*at, "patches"), patches)
                out.extend(self._content(source, None) if source is not None else [])
            return out
        if kind == "ReplacementTransformer":
            entries = _list(config.get("replacements"))
            return self._replacements(entries, (*at, "replacements"), where, doc)
        if kind == "NamespaceTransformer":
            meta = config.get("metadata") if isinstance(config.get("metadata"), dict) else {}
            namespace = (meta or {}).get("namespace")
            if isinstance(namespace, str) and namespace:
                return [Namespace(namespace, where.loc(doc, (*at, "metadata", "namespace")))]
            return []
        if kind in ("PrefixSuffixTransformer", "PrefixTransformer", "SuffixTransformer"):
            prefix, suffix = config.get("prefix"), config.get("suffix")
            return [
                NameAffix(
                    prefix if isinstance(prefix, str) else "",
                    suffix if isinstance(suffix, str) else "",
                )
            ]
        return []


def _same_line(line: int) -> int:
    return line


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []

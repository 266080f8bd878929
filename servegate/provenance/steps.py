"""The transformations of one kustomization, each applied to one object being replayed.

Each step models one kustomize builtin transformer closely enough to say which fields it wrote:
patches (strategic merge and JSON 6902, by target or by the patch's own id), replacements,
``namespace``, ``namePrefix``/``nameSuffix``, ``commonLabels``/``labels``,
``commonAnnotations`` and ``images``. Steps change the object's values only as far as later
steps' target selection and the final check against the rendered object need.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from servegate.provenance.jsonpatch import apply as apply_operations
from servegate.provenance.replacements import write as write_replacement
from servegate.provenance.select import ResId, Selector
from servegate.provenance.smp import merge as strategic_merge
from servegate.provenance.tree import MISSING, FieldPath, Loc, Node, child_of, plain


class Tracked:
    """One object being replayed: its located tree and the ids it had before (kustomize keeps
    them in ``internal.config.kubernetes.io/previous*`` annotations)."""

    __slots__ = ("previous", "rendered", "root")

    def __init__(self, root: Node, rendered: Any) -> None:
        self.root = root
        self.previous: list[ResId] = []
        self.rendered = rendered

    def _scalar(self, *path: str) -> str:
        node: Node | None = self.root
        for part in path:
            node = node.get(part) if node is not None else None
        return "" if node is None or node.value is None else str(node.value)

    @property
    def api_version(self) -> str:
        return self._scalar("apiVersion")

    @property
    def kind(self) -> str:
        return self._scalar("kind")

    def current(self) -> ResId:
        return ResId.of(
            {
                "apiVersion": self.api_version,
                "kind": self.kind,
                "metadata": {
                    "name": self._scalar("metadata", "name"),
                    "namespace": self._scalar("metadata", "namespace"),
                },
            }
        )

    def original(self) -> ResId:
        return self.previous[0] if self.previous else self.current()

    def ids(self) -> list[ResId]:
        return [*self.previous, self.current()]

    def store_previous_id(self) -> None:
        self.previous.append(self.current())

    def meta_map(self, name: str) -> dict[str, Any]:
        meta = self.root.get("metadata")
        found = meta.get(name) if meta is not None else None
        data = plain(found) if found is not None else None
        return data if isinstance(data, dict) else {}

    def rendered_at(self, path: FieldPath) -> Any:
        value = self.rendered
        for part in path:
            value = child_of(value, part)
            if value is MISSING:
                break
        return value

    def ensure(self, path: FieldPath, loc: Loc) -> Node:
        """The mapping at ``path``, created (at ``loc``) where missing."""
        node = self.root
        for part in path:
            child = node.get(part)
            if child is None or not child.is_map:
                child = Node({}, loc)
                node.set(part, child)
            node = child
        return node


class Step:
    """One transformation: ``apply`` changes the object if the transformer applies to it."""

    def apply(self, obj: Tracked) -> None:
        raise NotImplementedError


@dataclass(slots=True)
class StrategicMerge(Step):
    """A strategic-merge patch document: by ``target``, or by its own id without one
    (kubernetes-sigs/kustomize ``api/internal/builtins/PatchTransformer.go``
    ``transformStrategicMerge``; ``PatchStrategicMergeTransformer.go``)."""

    patch: Node
    target: Selector | None
    allow_name_change: bool = False
    allow_kind_change: bool = False
    """``options.allowNameChange``/``allowKindChange``: the patch's name or kind is kept."""

    def apply(self, obj: Tracked) -> None:
        if self.target is not None:
            if not self.target.selects(
                obj.original(), obj.current(), obj.meta_map("labels"), obj.meta_map("annotations")
            ):
                return
        else:
            own = ResId.of(plain(self.patch))
            if not any(own.equals(i) for i in obj.ids()):
                return
        patch = self.patch.copy()
        # kustomize keeps the object's namespace, and its kind and name unless allowed to
        # change (Resource.ApplySmPatch); the apiVersion is the object's (ApplySmPatch SetGvk)
        patch.value.pop("apiVersion", None)
        if self.allow_name_change or self.allow_kind_change:
            obj.store_previous_id()
        if not self.allow_kind_change:
            patch.value.pop("kind", None)
        meta = patch.get("metadata")
        if meta is not None and meta.is_map:
            if not self.allow_name_change:
                meta.value.pop("name", None)
            meta.value.pop("namespace", None)
        directive = patch.value.get("$patch")
        if directive is not None and directive.value == "delete":
            return  # a patch deleting the whole object: it would not be rendered
        strategic_merge(obj.root, patch, obj.api_version, obj.kind)


@dataclass(slots=True)
class JsonPatch(Step):
    """JSON 6902 operations on every object ``target`` selects (``transformJson6902``)."""

    operations: list[Node]
    target: Selector

    def apply(self, obj: Tracked) -> None:
        if not self.target.selects(
            obj.original(), obj.current(), obj.meta_map("labels"), obj.meta_map("annotations")
        ):
            return
        obj.store_previous_id()
        apply_operations(obj.root, [op.copy() for op in self.operations])


@dataclass(slots=True)
class ReplacementTarget:
    select: Selector
    reject: list[Selector]
    field_paths: list[tuple[str, Loc]]
    create: bool


@dataclass(slots=True)
class Replacement(Step):
    """One ``replacements`` entry's targets (``api/filters/replacement/replacement.go``
    ``applyReplacement``: select by any id, labels and annotations; reject by any id)."""

    targets: list[ReplacementTarget]

    def apply(self, obj: Tracked) -> None:
        for target in self.targets:
            labels, annotations = obj.meta_map("labels"), obj.meta_map("annotations")
            if not target.select.matches_labels(labels, annotations):
                continue
            if any(
                (r.label_selector or r.annotation_selector)
                and r.matches_labels(labels, annotations)
                for r in target.reject
            ):
                continue
            ids = obj.ids()
            if any(r.has_id and any(r.selects_id(i) for i in ids) for r in target.reject):
                continue
            if not any(target.select.selects_id(i) for i in ids):
                continue
            for path, loc in target.field_paths:
                write_replacement(obj.root, path, loc, target.create, obj.rendered_at)


_NOT_RENAMED = ("Namespace", "CustomResourceDefinition")


@dataclass(slots=True)
class NameAffix(Step):
    """``namePrefix``/``nameSuffix`` (``PrefixTransformer.go``, ``SuffixTransformer.go``:
    not on CustomResourceDefinitions, APIServices and Namespaces)."""

    prefix: str
    suffix: str

    def apply(self, obj: Tracked) -> None:
        original = obj.original()
        if original.kind in _NOT_RENAMED or (original.group, original.kind) == (
            "apiregistration.k8s.io",
            "APIService",
        ):
            return
        name = obj.root.get("metadata")
        node = name.get("name") if name is not None else None
        if node is None or (not self.prefix and not self.suffix):
            return
        obj.store_previous_id()
        node.value = f"{self.prefix}{node.value}{self.suffix}"


@dataclass(slots=True)
class Namespace(Step):
    """``namespace:`` (``NamespaceTransformer``): every namespaced object's
    ``metadata.namespace``, and a Namespace's name."""

    namespace: str
    loc: Loc

    def apply(self, obj: Tracked) -> None:
        current = obj.current()
        if current.kind == "Namespace":
            meta = obj.ensure(("metadata",), self.loc)
            meta.set("name", Node(self.namespace, self.loc))
            return
        if current.cluster_scoped:
            return
        if current.namespace != self.namespace:
            obj.store_previous_id()
        obj.ensure(("metadata",), self.loc).set("namespace", Node(self.namespace, self.loc))


_TEMPLATE_KINDS = {
    "Deployment": (("spec", "template", "metadata"),),
    "ReplicaSet": (("spec", "template", "metadata"),),
    "DaemonSet": (("spec", "template", "metadata"),),
    "StatefulSet": (("spec", "template", "metadata"),),
    "ReplicationController": (("spec", "template", "metadata"),),
    "Job": (("spec", "template", "metadata"),),
    "CronJob": (
        ("spec", "jobTemplate", "metadata"),
        ("spec", "jobTemplate", "spec", "template", "metadata"),
    ),
}


@dataclass(slots=True)
class MetadataMap(Step):
    """``commonLabels``/``labels`` and ``commonAnnotations``: the object's metadata, and the
    pod templates of the workload kinds (kustomize ``builtinpluginconsts`` field specs)."""

    which: str
    """``labels`` or ``annotations``."""
    pairs: list[tuple[str, str, Loc]]
    templates: bool = True

    def apply(self, obj: Tracked) -> None:
        paths: list[FieldPath] = [("metadata",)]
        if self.templates:
            paths.extend(_TEMPLATE_KINDS.get(obj.kind, ()))
        for path in paths:
            for key, value, loc in self.pairs:
                obj.ensure((*path, self.which), loc).set(key, Node(value, loc))


@dataclass(slots=True)
class ImageRule:
    name: str
    new_name: str
    new_tag: str
    digest: str
    tag_suffix: str
    loc: Loc


@dataclass(slots=True)
class Images(Step):
    """``images:`` (``ImageTagTransformer``, ``api/filters/imagetag/legacy.go``): every
    ``image`` of every ``containers``/``initContainers`` list, anywhere in the object but a
    CustomResourceDefinition, whose name matches."""

    rules: list[ImageRule] = field(default_factory=list)

    def apply(self, obj: Tracked) -> None:
        if obj.kind == "CustomResourceDefinition":
            return
        for rule in self.rules:
            _retag(obj.root, rule)


def _retag(node: Node, rule: ImageRule) -> None:
    if node.is_list:
        for item in node.value:
            _retag(item, rule)
        return
    if not node.is_map:
        return
    for key, child in node.value.items():
        _retag(child, rule)
        if key in ("containers", "initContainers") and child.is_list:
            for item in child.value:
                image = item.get("image") if item.is_map else None
                if image is not None and isinstance(image.value, str):
                    new = retag(image.value, rule)
                    if new is not None:
                        image.value, image.loc = new, rule.loc


def retag(image: str, rule: ImageRule) -> str | None:
    """The image ``rule`` makes of ``image``, or None when its name does not match
    (``api/internal/image/image.go`` ``IsImageMatched``, ``Split``; ``updater.go``)."""
    try:
        pattern = re.compile(
            "^" + rule.name + r"(:[a-zA-Z0-9_.{}-]*)?(@[a-zA-Z0-9]+([.+_-][a-zA-Z0-9]+)*"
            r":[a-zA-Z0-9_.{}-]*)?$"
        )
    except re.error:
        return None
    if not pattern.match(image):
        return None
    name, tag, digest = _split_image(image)
    name = rule.new_name or name
    if rule.new_tag and rule.digest:
        tag, digest = rule.new_tag, rule.digest
    elif rule.new_tag:
        tag, digest = rule.new_tag, ""
    elif rule.digest:
        tag, digest = "", rule.digest
    elif rule.tag_suffix:
        tag, digest = tag + rule.tag_suffix, ""
    return name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def _split_image(image: str) -> tuple[str, str, str]:
    slash = image.find("/")
    offset = slash if slash > 0 else 0
    search = image[offset:]
    at, colon = search.find("@"), search.find(":")
    if colon < 0 and at < 0:
        return image, "", ""
    if at >= 0 and (at < colon or colon < 0):
        return image[: offset + at], "", image[offset + at + 1 :]
    if at >= 0 and colon >= 0:
        return (
            image[: offset + colon],
            image[offset + colon + 1 : offset + at],
            image[offset + at + 1 :],
        )
    return image[: offset + colon], image[offset + colon + 1 :], ""


Steps = list[Step]
StepFactory = Callable[[], Steps]

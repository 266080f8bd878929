"""What the pod-spec layer hands to rules: one view per pod-like spec, one per container."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from servegate.resource import FieldPath, Resource, as_dict

CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")

NO_PATHS: Mapping[FieldPath, FieldPath] = MappingProxyType({})


def relocate(
    field_paths: Mapping[FieldPath, FieldPath], base: FieldPath, parts: FieldPath
) -> FieldPath:
    """The resource path of ``parts``: under the longest prefix of ``parts`` that
    ``field_paths`` maps elsewhere (a field set by a patch, merged from another level), else
    under ``base``."""
    if field_paths:
        for n in range(len(parts), 0, -1):
            found = field_paths.get(parts[:n])
            if found is not None:
                return (*found, *parts[n:])
    return (*base, *parts)


@dataclass(frozen=True, slots=True)
class ContainerView:
    """One container: ``section`` is containers, initContainers, ephemeralContainers, or the
    KServe shortcut key (``model``, ``sklearn``...) it was written under."""

    name: str
    section: str
    body: dict[str, Any]
    path: FieldPath
    field_paths: Mapping[FieldPath, FieldPath] = field(default_factory=lambda: NO_PATHS)
    """Fields that live elsewhere than under ``path`` (set by a podSpecPatch): a prefix of
    ``at()``'s parts -> its path in the resource."""

    @property
    def security_context(self) -> dict[str, Any]:
        sc = self.body.get("securityContext")
        return sc if isinstance(sc, dict) else {}

    def at(self, *parts: str | int) -> FieldPath:
        return relocate(self.field_paths, self.path, parts)


@dataclass(frozen=True, slots=True)
class PodSpecView:
    """One pod-like spec inside a resource.

    ``spec`` holds the pod-level fields (hostNetwork, securityContext, volumes...). Where the
    kind has no pod-level securityContext (ServingRuntime, ClusterStorageContainer),
    ``pod_level`` is False and each container must be hardened itself.
    """

    resource: Resource
    label: str
    path: FieldPath
    spec: dict[str, Any]
    containers: tuple[ContainerView, ...]
    metadata: dict[str, Any]
    pod_level: bool = True
    metadata_path: FieldPath = ("metadata",)
    """Where the pod's metadata (annotations, labels) is written in the resource."""
    field_paths: Mapping[FieldPath, FieldPath] = field(default_factory=lambda: NO_PATHS)
    """Where merged pod fields really live (Argo Workflows merges workflow-level fields and
    podSpecPatch into each template): a prefix of ``at()``'s parts -> its path in the
    resource."""
    component: str | None = None
    """For KServe InferenceService pods: predictor, transformer or explainer."""
    inferred: bool = False
    """Found by shape in a kind servegate does not know: only the Pod Security rules apply,
    and ``label`` says the location was inferred."""
    problems: tuple[tuple[FieldPath, str], ...] = ()
    """Parts of the pod that could not be read (a podSpecPatch that does not parse or apply):
    the pod is judged without them, and ``pods.unreadable-spec`` reports each."""

    @property
    def security_context(self) -> dict[str, Any]:
        sc = self.spec.get("securityContext")
        return sc if isinstance(sc, dict) else {}

    @property
    def annotations(self) -> dict[str, Any]:
        ann = self.metadata.get("annotations")
        return ann if isinstance(ann, dict) else {}

    def at(self, *parts: str | int) -> FieldPath:
        """The resource path of a pod-level field, e.g. ``pod.at("volumes", 0, "hostPath")``."""
        return relocate(self.field_paths, self.path, parts)

    def effective(self, container: ContainerView, key: str) -> Any:
        """A securityContext field as Kubernetes applies it: the container's, else the pod's."""
        value = container.security_context.get(key)
        if value is None and self.pod_level:
            value = self.security_context.get(key)
        return value


def containers_of(spec: dict[str, Any], path: FieldPath) -> Iterator[ContainerView]:
    """The containers of a PodSpec-shaped mapping at ``path``."""
    for section in CONTAINER_LISTS:
        items = spec.get(section)
        if not isinstance(items, list):
            continue
        for i, item in enumerate(items):
            if isinstance(item, dict):
                name = str(item.get("name") or f"{section}[{i}]")
                yield ContainerView(name, section, item, (*path, section, i))


def view(
    resource: Resource,
    label: str,
    path: FieldPath,
    spec: Any,
    metadata: Any,
    *,
    pod_level: bool = True,
    extra: tuple[ContainerView, ...] = (),
    metadata_path: FieldPath = ("metadata",),
) -> PodSpecView | None:
    """The view of a PodSpec-shaped mapping ``spec`` at ``path`` (None if not a mapping)."""
    if not isinstance(spec, dict):
        return None
    containers = (*containers_of(spec, path), *extra)
    return PodSpecView(
        resource, label, path, spec, containers, as_dict(metadata), pod_level, metadata_path
    )


def template_view(
    resource: Resource, label: str, path: FieldPath, template: Any
) -> PodSpecView | None:
    """The view of a PodTemplateSpec-shaped mapping (``metadata`` + ``spec``) at ``path``."""
    template = as_dict(template)
    return view(
        resource,
        label,
        (*path, "spec"),
        template.get("spec"),
        template.get("metadata"),
        metadata_path=(*path, "metadata"),
    )


def each(value: Any, path: FieldPath, *steps: str | None) -> Iterator[tuple[FieldPath, Any]]:
    """Every value reached from ``value`` by ``steps``: a key, or None for each list item.
    ``each(spec, ("spec",), "metrics", None, "provider")`` yields each metric's provider."""
    if not steps:
        yield path, value
        return
    step, rest = steps[0], steps[1:]
    if step is None:
        if isinstance(value, list):
            for i, item in enumerate(value):
                yield from each(item, (*path, i), *rest)
    elif isinstance(value, dict) and step in value:
        yield from each(value[step], (*path, step), *rest)

"""What the pod-spec layer hands to rules: one view per pod-like spec, one per container."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from servegate.resource import FieldPath, Resource, as_dict

CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")

NO_PATHS: Mapping[FieldPath, FieldPath] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Source:
    """Where part of an effective pod is written when that is not its own resource at the same
    path: a ServingRuntime's container, a ClusterStorageContainer, the Namespace label that
    turns on Istio injection, or another place in the pod's own resource (a list item merged by
    key). A finding about that part is located there."""

    resource: Resource
    path: FieldPath
    label: str = ""
    """What a message names instead of the pod: ``ServingRuntime 'x' container 'y'``."""
    why: str = ""
    """Appended to the message: why the part is in the pod (an injected container)."""
    whole: bool = False
    """Every field under the prefix is located at ``path`` itself (the label that adds an
    injected container), not at the same sub-path there."""


NO_SOURCES: Mapping[FieldPath, Source] = MappingProxyType({})


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
    injected: str = ""
    """Who adds this container to the pod when it is not written in the repo (Istio's sidecar
    injector): only the Pod Security rules judge it."""

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
    sources: Mapping[FieldPath, Source] = field(default_factory=lambda: NO_SOURCES)
    """Effective pods (``servegate.podspecs.effective``): a prefix of a violation's path ->
    where that part is written; the longest prefix wins, no prefix means the path itself."""
    built: Built | None = None
    """How an effective pod was built (runtime, storage initializer, mesh), for the rules
    that report on it."""

    def source_of(self, path: FieldPath) -> tuple[Source | None, FieldPath]:
        """Where ``path`` (as a check returns it) is written: (the source, the path there), or
        (None, ``path``) when it is in the pod's own resource at that path."""
        if self.sources:
            for n in range(len(path), 0, -1):
                found = self.sources.get(path[:n])
                if found is not None:
                    return found, found.path if found.whole else (*found.path, *path[n:])
        return None, path

    def written(self) -> PodSpecView:
        """This pod without the containers nothing in the repo writes (injected by a mesh):
        what rules other than Pod Security see."""
        if not any(c.injected for c in self.containers):
            return self
        return replace(self, containers=tuple(c for c in self.containers if not c.injected))

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


@dataclass(frozen=True, slots=True)
class Built:
    """What an effective pod was built from, beyond its own resource."""

    runtime: Resource | None = None
    """The ServingRuntime or ClusterServingRuntime merged in (None: none in the checked set)."""
    runtime_note: str = ""
    """Why no runtime of the checked set was merged, when a runtime would be."""
    runtime_named: bool = False
    """The InferenceService names its runtime (``model.runtime``)."""
    runtime_at: FieldPath = ()
    """Where the InferenceService names or implies its runtime (``model.runtime`` or
    ``model.modelFormat``)."""
    storage: Resource | None = None
    """The ClusterStorageContainer whose container is the storage-initializer."""
    storage_default: bool = False
    """KServe's own default storage-initializer is added (no ClusterStorageContainer in the
    checked set serves the storage URI)."""
    storage_at: FieldPath = ()
    """Where the storage URI that makes KServe add the storage-initializer is written."""
    storage_uri: str = ""
    mesh: str = ""
    """Why Istio injects its containers, when it does."""
    problems: tuple[tuple[Resource, FieldPath, str], ...] = ()
    """Why KServe cannot build the pod from the runtime: (object to change, path, why)."""


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

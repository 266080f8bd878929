"""The pod-spec layer: every place a container can hide, in any kind servegate knows.

Rules never walk kinds themselves. They call :func:`pod_specs` and get one :class:`PodSpecView`
per pod-like spec, with its path, whether it carries pod-level fields, and every container in it
(including KServe's model and framework shortcuts, which are containers in disguise).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from servegate.resource import FieldPath, Resource, as_dict

CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")

#: Keys of a KServe component whose value is a container (the model server) in shorthand.
KSERVE_SHORTCUTS = (
    "model",
    "sklearn",
    "xgboost",
    "tensorflow",
    "pytorch",
    "triton",
    "onnx",
    "huggingface",
    "pmml",
    "lightgbm",
    "paddle",
    "art",
)
KSERVE_COMPONENTS = ("predictor", "transformer", "explainer")
WORKLOAD_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"}
)
ARGO_WORKFLOW_KINDS = frozenset(
    {"Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow"}
)


@dataclass(frozen=True, slots=True)
class ContainerView:
    """One container: ``section`` is containers, initContainers, ephemeralContainers, or the
    KServe shortcut key (``model``, ``sklearn``...) it was written under."""

    name: str
    section: str
    body: dict[str, Any]
    path: FieldPath

    @property
    def security_context(self) -> dict[str, Any]:
        sc = self.body.get("securityContext")
        return sc if isinstance(sc, dict) else {}

    def at(self, *parts: str | int) -> FieldPath:
        return (*self.path, *parts)


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
    field_paths: Mapping[FieldPath, FieldPath] = field(default_factory=dict)
    component: str | None = None
    """For KServe InferenceService pods: predictor, transformer or explainer."""
    """Where merged pod fields really live (Argo Workflows merges workflow-level fields into
    each template): a prefix of ``at()``'s parts -> its path in the resource."""

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
        if self.field_paths:
            for n in (2, 1):
                found = self.field_paths.get(parts[:n])
                if found is not None and len(parts) >= n:
                    return (*found, *parts[n:])
        return (*self.path, *parts)

    def effective(self, container: ContainerView, key: str) -> Any:
        """A securityContext field as Kubernetes applies it: the container's, else the pod's."""
        value = container.security_context.get(key)
        if value is None and self.pod_level:
            value = self.security_context.get(key)
        return value


def _containers(spec: dict[str, Any], path: FieldPath) -> Iterator[ContainerView]:
    for section in CONTAINER_LISTS:
        items = spec.get(section)
        if not isinstance(items, list):
            continue
        for i, item in enumerate(items):
            if isinstance(item, dict):
                name = str(item.get("name") or f"{section}[{i}]")
                yield ContainerView(name, section, item, (*path, section, i))


def _view(
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
    if not isinstance(spec, dict):
        return None
    containers = (*_containers(spec, path), *extra)
    return PodSpecView(
        resource, label, path, spec, containers, as_dict(metadata), pod_level, metadata_path
    )


def _template(
    resource: Resource, label: str, path: FieldPath, template: Any
) -> Iterator[PodSpecView]:
    template = as_dict(template)
    view = _view(
        resource,
        label,
        (*path, "spec"),
        template.get("spec"),
        template.get("metadata"),
        metadata_path=(*path, "metadata"),
    )
    if view is not None:
        yield view


def _pod(r: Resource) -> Iterator[PodSpecView]:
    view = _view(r, "Pod", ("spec",), r.body.get("spec"), r.metadata)
    if view is not None:
        yield view


def _workload(r: Resource) -> Iterator[PodSpecView]:
    yield from _template(r, f"{r.kind} pod template", ("spec", "template"), r.spec.get("template"))


def _cronjob(r: Resource) -> Iterator[PodSpecView]:
    job = as_dict(as_dict(r.spec.get("jobTemplate")).get("spec"))
    yield from _template(
        r, "CronJob pod template", ("spec", "jobTemplate", "spec", "template"), job.get("template")
    )


def _kserve_component(
    r: Resource, label: str, path: FieldPath, component: Any, name: str
) -> Iterator[PodSpecView]:
    component = as_dict(component)
    if not component:
        return
    shortcuts = tuple(
        ContainerView(
            str(component[key].get("name") or "kserve-container"),
            key,
            component[key],
            (*path, key),
        )
        for key in KSERVE_SHORTCUTS
        if isinstance(component.get(key), dict)
    )
    # KServe copies the component's annotations and labels onto its pods, over the object's
    metadata = {
        "annotations": {**r.annotations, **as_dict(component.get("annotations"))},
        "labels": {**r.labels, **as_dict(component.get("labels"))},
    }
    view = _view(r, label, path, component, metadata, extra=shortcuts)
    if view is not None:
        yield replace(view, component=name)
    worker = component.get("workerSpec")
    if isinstance(worker, dict):
        yield from filter(
            None, [_view(r, f"{label} workerSpec", (*path, "workerSpec"), worker, metadata)]
        )


def _inference_service(r: Resource) -> Iterator[PodSpecView]:
    for component in KSERVE_COMPONENTS:
        yield from _kserve_component(
            r,
            f"InferenceService {component}",
            ("spec", component),
            r.spec.get(component),
            component,
        )
    canaries = r.spec.get("canary")
    if isinstance(canaries, list):
        for i, entry in enumerate(canaries):
            yield from _kserve_component(
                r,
                f"InferenceService canary[{i}] predictor",
                ("spec", "canary", i, "predictor"),
                as_dict(entry).get("predictor"),
                "predictor",
            )


def _serving_runtime(r: Resource) -> Iterator[PodSpecView]:
    # ServingRuntime has pod fields but no pod-level securityContext: containers stand alone.
    view = _view(r, f"{r.kind}", ("spec",), r.body.get("spec"), r.metadata, pod_level=False)
    if view is not None:
        yield view
    worker = r.spec.get("workerSpec")
    if isinstance(worker, dict):
        yield from filter(
            None,
            [
                _view(
                    r,
                    f"{r.kind} workerSpec",
                    ("spec", "workerSpec"),
                    worker,
                    r.metadata,
                    pod_level=False,
                )
            ],
        )


def _storage_container(r: Resource) -> Iterator[PodSpecView]:
    container = r.spec.get("container")
    if isinstance(container, dict):
        view = ContainerView(
            str(container.get("name") or "storage-initializer"),
            "container",
            container,
            ("spec", "container"),
        )
        yield PodSpecView(r, "ClusterStorageContainer", ("spec",), {}, (view,), r.metadata, False)


def _argo_workflow(r: Resource) -> Iterator[PodSpecView]:
    path: FieldPath = ("spec",)
    spec = r.spec
    if r.kind == "CronWorkflow":
        path, spec = ("spec", "workflowSpec"), as_dict(r.spec.get("workflowSpec"))
    templates = spec.get("templates")
    if not isinstance(templates, list):
        return
    pod_fields = {k: v for k, v in spec.items() if k in _WORKFLOW_POD_FIELDS}
    defaults = as_dict(spec.get("templateDefaults"))
    pod_metadata = as_dict(spec.get("podMetadata"))
    for i, raw_template in enumerate(templates):
        if not isinstance(raw_template, dict):
            continue
        template = {**defaults, **raw_template}
        tpath: FieldPath = (*path, "templates", i)
        containers: list[ContainerView] = []
        for key in ("container", "script"):
            body = template.get(key)
            if isinstance(body, dict):
                containers.append(
                    ContainerView(str(body.get("name") or "main"), key, body, (*tpath, key))
                )
        container_set = as_dict(template.get("containerSet"))
        for j, body in enumerate(container_set.get("containers") or []):
            if isinstance(body, dict):
                containers.append(
                    ContainerView(
                        str(body.get("name") or f"containerSet[{j}]"),
                        "containerSet",
                        body,
                        (*tpath, "containerSet", "containers", j),
                    )
                )
        for section in ("initContainers", "sidecars"):
            for j, body in enumerate(template.get(section) or []):
                if isinstance(body, dict):
                    containers.append(
                        ContainerView(
                            str(body.get("name") or f"{section}[{j}]"),
                            section,
                            body,
                            (*tpath, section, j),
                        )
                    )
        if not containers:
            continue  # steps, dag, resource, suspend: no pod of its own
        merged, field_paths = _merge_argo_pod_fields(
            pod_fields, path, template, tpath, raw_template
        )
        metadata = {
            key: {
                **as_dict(pod_metadata.get(key)),
                **as_dict(as_dict(template.get("metadata")).get(key)),
            }
            for key in ("annotations", "labels")
        }
        name = template.get("name", i)
        yield PodSpecView(
            r,
            f"{r.kind} template {name!r}",
            tpath,
            merged,
            tuple(containers),
            metadata,
            True,
            (*tpath, "metadata"),
            field_paths,
        )


def _merge_argo_pod_fields(
    pod_fields: dict[str, Any],
    path: FieldPath,
    template: dict[str, Any],
    tpath: FieldPath,
    raw_template: dict[str, Any],
) -> tuple[dict[str, Any], dict[FieldPath, FieldPath]]:
    """Workflow-level pod fields overlaid by the template's, remembering where each came from.
    Volumes are joined (Argo mounts both lists); other fields are replaced."""
    merged = dict(pod_fields)
    paths: dict[FieldPath, FieldPath] = {(k,): (*path, k) for k in pod_fields}
    for key, value in template.items():
        if key not in _TEMPLATE_POD_FIELDS:
            continue
        where = (*tpath, key) if key in raw_template else (*path, "templateDefaults", key)
        if key == "volumes" and isinstance(value, list) and isinstance(merged.get(key), list):
            outer = merged[key]
            merged[key] = [*outer, *value]
            paths.pop((key,), None)
            paths.update({(key, j): (*path, key, j) for j in range(len(outer))})
            paths.update({(key, len(outer) + j): (*where, j) for j in range(len(value))})
            continue
        merged[key] = value
        paths[(key,)] = where
    return merged, paths


_TEMPLATE_POD_FIELDS = frozenset(
    {
        "securityContext",
        "volumes",
        "nodeSelector",
        "tolerations",
        "affinity",
        "serviceAccountName",
        "automountServiceAccountToken",
        "hostAliases",
        "priorityClassName",
    }
)
#: Workflow-level pod fields: what a template may set, and a few only the workflow sets.
_WORKFLOW_POD_FIELDS = _TEMPLATE_POD_FIELDS | {
    "hostNetwork",
    "dnsPolicy",
    "podSpecPatch",
    "imagePullSecrets",
    "schedulerName",
}

_WALKERS: dict[str, Callable[[Resource], Iterator[PodSpecView]]] = {
    "Pod": _pod,
    "CronJob": _cronjob,
    "InferenceService": _inference_service,
    "ServingRuntime": _serving_runtime,
    "ClusterServingRuntime": _serving_runtime,
    "ClusterStorageContainer": _storage_container,
    "Rollout": _workload,
    "PodTemplate": lambda r: _template(r, "PodTemplate", ("template",), r.body.get("template")),
}
_WALKERS.update(dict.fromkeys(WORKLOAD_KINDS, _workload))
_WALKERS.update(dict.fromkeys(ARGO_WORKFLOW_KINDS, _argo_workflow))


def pod_specs(resource: Resource) -> list[PodSpecView]:
    """Every pod-like spec in ``resource`` (empty for kinds that run no containers)."""
    walker = _WALKERS.get(resource.kind)
    if walker is None or not isinstance(resource.body.get("spec", resource.body), dict):
        return []
    return list(walker(resource))


def has_pods(resource: Resource) -> bool:
    return resource.kind in _WALKERS

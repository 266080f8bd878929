"""The pod-spec layer: every place a container can hide, in any kind servegate knows.

Rules never walk kinds themselves. They call :func:`pod_specs` and get one :class:`PodSpecView`
per pod-like spec, with its path, whether it carries pod-level fields, and every container in it
(including KServe's model and framework shortcuts, which are containers in disguise).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from servegate.resource import FieldPath, Resource

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

    @property
    def security_context(self) -> dict[str, Any]:
        sc = self.spec.get("securityContext")
        return sc if isinstance(sc, dict) else {}

    @property
    def annotations(self) -> dict[str, Any]:
        ann = self.metadata.get("annotations")
        return ann if isinstance(ann, dict) else {}

    def at(self, *parts: str | int) -> FieldPath:
        return (*self.path, *parts)

    def effective(self, container: ContainerView, key: str) -> Any:
        """A securityContext field as Kubernetes applies it: the container's, else the pod's."""
        value = container.security_context.get(key)
        if value is None and self.pod_level:
            value = self.security_context.get(key)
        return value


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


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
) -> PodSpecView | None:
    if not isinstance(spec, dict):
        return None
    containers = (*_containers(spec, path), *extra)
    return PodSpecView(resource, label, path, spec, containers, _dict(metadata), pod_level)


def _template(
    resource: Resource, label: str, path: FieldPath, template: Any
) -> Iterator[PodSpecView]:
    template = _dict(template)
    view = _view(resource, label, (*path, "spec"), template.get("spec"), template.get("metadata"))
    if view is not None:
        yield view


def _pod(r: Resource) -> Iterator[PodSpecView]:
    view = _view(r, "Pod", ("spec",), r.body.get("spec"), r.metadata)
    if view is not None:
        yield view


def _workload(r: Resource) -> Iterator[PodSpecView]:
    yield from _template(r, f"{r.kind} pod template", ("spec", "template"), r.spec.get("template"))


def _cronjob(r: Resource) -> Iterator[PodSpecView]:
    job = _dict(_dict(r.spec.get("jobTemplate")).get("spec"))
    yield from _template(
        r, "CronJob pod template", ("spec", "jobTemplate", "spec", "template"), job.get("template")
    )


def _kserve_component(
    r: Resource, label: str, path: FieldPath, component: Any
) -> Iterator[PodSpecView]:
    component = _dict(component)
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
    view = _view(r, label, path, component, r.metadata, extra=shortcuts)
    if view is not None:
        yield view
    worker = component.get("workerSpec")
    if isinstance(worker, dict):
        yield from filter(
            None, [_view(r, f"{label} workerSpec", (*path, "workerSpec"), worker, r.metadata)]
        )


def _inference_service(r: Resource) -> Iterator[PodSpecView]:
    for component in KSERVE_COMPONENTS:
        yield from _kserve_component(
            r, f"InferenceService {component}", ("spec", component), r.spec.get(component)
        )
    canaries = r.spec.get("canary")
    if isinstance(canaries, list):
        for i, entry in enumerate(canaries):
            yield from _kserve_component(
                r,
                f"InferenceService canary[{i}] predictor",
                ("spec", "canary", i, "predictor"),
                _dict(entry).get("predictor"),
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
        path, spec = ("spec", "workflowSpec"), _dict(r.spec.get("workflowSpec"))
    templates = spec.get("templates")
    if not isinstance(templates, list):
        return
    pod_fields = {k: v for k, v in spec.items() if k != "templates"}
    for i, template in enumerate(templates):
        if not isinstance(template, dict):
            continue
        tpath: FieldPath = (*path, "templates", i)
        containers: list[ContainerView] = []
        for key in ("container", "script"):
            body = template.get(key)
            if isinstance(body, dict):
                containers.append(
                    ContainerView(str(body.get("name") or "main"), key, body, (*tpath, key))
                )
        container_set = _dict(template.get("containerSet"))
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
        merged = dict(pod_fields)
        merged.update({k: v for k, v in template.items() if k in _TEMPLATE_POD_FIELDS})
        name = template.get("name", i)
        yield PodSpecView(
            r,
            f"{r.kind} template {name!r}",
            tpath,
            merged,
            tuple(containers),
            _dict(template.get("metadata")),
        )


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

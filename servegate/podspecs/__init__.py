"""The pod-spec layer: every place a container can hide, in any kind servegate knows.

Rules never walk kinds themselves. They call :func:`pod_specs` and get one :class:`PodSpecView`
per pod-like spec, with its path, whether it carries pod-level fields, and every container in it
(including KServe's model and framework shortcuts, which are containers in disguise).

Kinds are dispatched by kind and API group: a kind is walked only in the group whose
controller makes its pods (Knative's ``Service`` is not the core one; a Volcano ``Job`` is not
batch's). A kind servegate does not know, whatever its name, is searched by shape
(:mod:`servegate.podspecs.inferred`); built-in kinds and the kinds servegate ships schemas for
are known, so the search costs nothing for them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import cache
from typing import Any

from servegate.podspecs import argo, prometheus
from servegate.podspecs.argo import KINDS as ARGO_WORKFLOW_KINDS
from servegate.podspecs.inferred import inferred_pods
from servegate.podspecs.views import (
    CONTAINER_LISTS,
    ContainerView,
    PodSpecView,
    each,
    template_view,
    view,
)
from servegate.resource import FieldPath, Resource, as_dict

__all__ = [
    "ARGO_WORKFLOW_KINDS",
    "CONTAINER_LISTS",
    "KSERVE_COMPONENTS",
    "KSERVE_SHORTCUTS",
    "WORKLOAD_KINDS",
    "ContainerView",
    "PodSpecView",
    "has_pods",
    "pod_specs",
    "unresolved",
]

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

Walker = Callable[[Resource], Iterator[PodSpecView]]


def _pod(r: Resource) -> Iterator[PodSpecView]:
    found = view(r, "Pod", ("spec",), r.body.get("spec"), r.metadata)
    if found is not None:
        yield found


def _workload(r: Resource) -> Iterator[PodSpecView]:
    found = template_view(r, f"{r.kind} pod template", ("spec", "template"), r.spec.get("template"))
    if found is not None:
        yield found


def _cronjob(r: Resource) -> Iterator[PodSpecView]:
    job = as_dict(as_dict(r.spec.get("jobTemplate")).get("spec"))
    path = ("spec", "jobTemplate", "spec", "template")
    found = template_view(r, "CronJob pod template", path, job.get("template"))
    if found is not None:
        yield found


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
    found = view(r, label, path, component, metadata, extra=shortcuts)
    if found is not None:
        yield replace(found, component=name)
    worker = component.get("workerSpec")
    if isinstance(worker, dict):
        yield from filter(
            None, [view(r, f"{label} workerSpec", (*path, "workerSpec"), worker, metadata)]
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
    found = view(r, f"{r.kind}", ("spec",), r.body.get("spec"), r.metadata, pod_level=False)
    if found is not None:
        yield found
    worker = r.spec.get("workerSpec")
    if isinstance(worker, dict):
        yield from filter(
            None,
            [
                view(
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
        c = ContainerView(
            str(container.get("name") or "storage-initializer"),
            "container",
            container,
            ("spec", "container"),
        )
        yield PodSpecView(r, "ClusterStorageContainer", ("spec",), {}, (c,), r.metadata, False)


def _knative(r: Resource) -> Iterator[PodSpecView]:
    """Knative Serving builds each Revision's pod from ``spec.template`` (Service,
    Configuration) or from the Revision's own ``spec`` (knative/serving
    ``pkg/apis/serving/v1``: RevisionSpec embeds a PodSpec)."""
    if r.kind == "Revision":
        found = view(r, "Revision", ("spec",), r.body.get("spec"), r.metadata)
    else:
        label = f"Knative {r.kind} revision template"
        found = template_view(r, label, ("spec", "template"), r.spec.get("template"))
    if found is not None:
        yield found


def _experiment(r: Resource) -> Iterator[PodSpecView]:
    """Argo Rollouts creates one ReplicaSet per ``spec.templates[]`` entry."""
    for path, entry in each(r.spec, ("spec",), "templates", None):
        name = as_dict(entry).get("name", path[-1])
        label = f"Experiment template {name!r}"
        found = template_view(r, label, (*path, "template"), as_dict(entry).get("template"))
        if found is not None:
            yield found


def _analysis(r: Resource) -> Iterator[PodSpecView]:
    """Argo Rollouts runs a ``job`` metric provider as a Job (``metricproviders/job``)."""
    for path, metric in each(r.spec, ("spec",), "metrics", None):
        job = as_dict(as_dict(as_dict(metric).get("provider")).get("job"))
        template = as_dict(job.get("spec")).get("template")
        name = as_dict(metric).get("name", path[-1])
        label = f"{r.kind} metric {name!r} job"
        found = template_view(r, label, (*path, "provider", "job", "spec", "template"), template)
        if found is not None:
            yield found


#: LLMInferenceService pod specs (PodSpecs, not templates), as the CRD defines them
#: (kserve/kserve ``pkg/apis/serving/v1alpha1/llm_inference_service_types.go``).
_LLM_PODS: tuple[tuple[str, ...], ...] = (
    ("template",),
    ("worker",),
    ("prefill", "template"),
    ("prefill", "worker"),
    ("router", "scheduler", "template"),
    ("router", "scheduler", "tokenizer", "template"),
)


def _llm_inference_service(r: Resource) -> Iterator[PodSpecView]:
    for steps in _LLM_PODS:
        for path, spec in each(r.spec, ("spec",), *steps):
            found = view(r, f"{r.kind} {'.'.join(steps)}", path, spec, r.metadata)
            if found is not None:
                yield found


_KSERVE = "serving.kserve.io"
_KNATIVE = "serving.knative.dev"
_ARGO = "argoproj.io"
_CORE, _APPS, _BATCH = ("",), ("apps", "extensions"), ("batch",)


def _pod_template(r: Resource) -> Iterator[PodSpecView]:
    found = template_view(r, "PodTemplate", ("template",), r.body.get("template"))
    if found is not None:
        yield found


#: kind -> {API group: walker}. A kind is walked only in the groups whose controller makes
#: its pods: ``batch.volcano.sh`` ``Job`` or ``example.com`` ``Deployment`` is another kind
#: under the same name, searched by shape like any kind servegate does not know.
_WALKERS: dict[str, dict[str, Walker]] = {
    "Pod": dict.fromkeys(_CORE, _pod),
    "PodTemplate": dict.fromkeys(_CORE, _pod_template),
    "ReplicationController": dict.fromkeys(_CORE, _workload),
    **{k: dict.fromkeys(_APPS, _workload) for k in ("Deployment", "StatefulSet", "DaemonSet")},
    "ReplicaSet": dict.fromkeys(_APPS, _workload),
    "Job": dict.fromkeys(_BATCH, _workload),
    "CronJob": dict.fromkeys(_BATCH, _cronjob),
    "InferenceService": {_KSERVE: _inference_service},
    "ServingRuntime": {_KSERVE: _serving_runtime},
    "ClusterServingRuntime": {_KSERVE: _serving_runtime},
    "ClusterStorageContainer": {_KSERVE: _storage_container},
    "LLMInferenceService": {_KSERVE: _llm_inference_service},
    "LLMInferenceServiceConfig": {_KSERVE: _llm_inference_service},
    "Service": {_KNATIVE: _knative},
    "Configuration": {_KNATIVE: _knative},
    "Revision": {_KNATIVE: _knative},
    "Rollout": {_ARGO: _workload},
    "Experiment": {_ARGO: _experiment},
    "AnalysisTemplate": {_ARGO: _analysis},
    "ClusterAnalysisTemplate": {_ARGO: _analysis},
    "AnalysisRun": {_ARGO: _analysis},
    **{kind: {_ARGO: argo.workflow_pods} for kind in ARGO_WORKFLOW_KINDS},
    **{kind: {prometheus.GROUP: prometheus.operator_pods} for kind in prometheus.KINDS},
}


def _walker(resource: Resource) -> Walker | None:
    walkers = _WALKERS.get(resource.kind)
    if walkers is None:
        return None
    found = walkers.get(resource.group)
    if found is None and _built_in(resource.group):
        # a built-in kind under another built-in group (``v1`` Deployment, a list item that
        # took its list's apiVersion): the API server refuses it, but judge it as its namesake
        found = next((w for group, w in walkers.items() if _built_in(group)), None)
    return found


def pod_specs(resource: Resource, *, inferred: bool = False) -> list[PodSpecView]:
    """Every pod-like spec in ``resource`` (empty for kinds that run no containers). With
    ``inferred``, a kind servegate does not know is searched for pod specs by shape too
    (their views are marked ``inferred``); the engine asks for them, for the pss rules.
    Walked once per object (the engine and several rules ask for the same object's pods)."""
    # asked with ``inferred`` or not, a kind that has a walker or is known has the same pods
    searched = inferred and _walker(resource) is None and not _known(resource)
    key = (id(resource), searched)
    found = _WALKED.get(key)
    if found is not None and found[0] is resource and found[1] is resource.body:
        return list(found[2])
    pods = _pod_specs(resource, searched)
    if len(_WALKED) > 4096:
        _WALKED.clear()
    _WALKED[key] = (resource, resource.body, pods)
    return list(pods)


#: ``pod_specs`` by object (the object and its body held, so that their ids stay theirs).
_WALKED: dict[tuple[int, bool], tuple[Resource, dict[str, Any], list[PodSpecView]]] = {}


def _pod_specs(resource: Resource, inferred: bool) -> list[PodSpecView]:
    walker = _walker(resource)
    if walker is not None:
        if not isinstance(resource.body.get("spec", resource.body), dict):
            return []
        return list(walker(resource))
    if inferred and not _known(resource):
        return _search(resource)[0]
    return []


def has_pods(resource: Resource) -> bool:
    """Whether ``resource`` makes pods: a pod-bearing kind, or pod specs found by shape."""
    if _walker(resource) is not None:
        return True
    return not _known(resource) and bool(_search(resource)[0])


def unresolved(resource: Resource) -> list[tuple[FieldPath, str]]:
    """(path, why) of each part of ``resource``'s pods that could not be read: a podSpecPatch
    that does not parse or apply, an unknown kind too large to search. Cheap for other kinds."""
    walker = _walker(resource)
    if walker is not None and walker is not argo.workflow_pods:
        return []
    problems: dict[FieldPath, str] = {}
    if walker is argo.workflow_pods:
        from servegate.podspecs.patch import parse_pod_spec_patch

        for where, text in argo.patches(resource):
            parsed = parse_pod_spec_patch(text)
            if parsed.problem is not None and text.strip():
                problems[where] = f"podSpecPatch {parsed.problem}"
        for pod in pod_specs(resource):
            for where, why in pod.problems:
                problems.setdefault(where, why)
    elif walker is None and not _known(resource):
        stopped = _search(resource)[1]
        if stopped is not None:
            problems[()] = f"{resource.kind} {stopped}"
    return list(problems.items())


def _search(resource: Resource) -> tuple[list[PodSpecView], str | None]:
    """``inferred_pods``, once per object body (rules and the engine ask repeatedly)."""
    key = id(resource.body)
    found = _SEARCHED.get(key)
    if found is None or found[0] is not resource.body:
        if len(_SEARCHED) > 4096:
            _SEARCHED.clear()
        pods, stopped = inferred_pods(resource)
        found = _SEARCHED[key] = (resource.body, pods, stopped)
    if found[1] and found[1][0].resource is not resource:
        return [replace(p, resource=resource) for p in found[1]], found[2]
    return list(found[1]), found[2]


_SEARCHED: dict[int, tuple[dict[str, Any], list[PodSpecView], str | None]] = {}


#: The API groups Kubernetes itself serves with a dot in their name (kubernetes/api: one package
#: per group; metrics.k8s.io from metrics-server). Any other ``*.k8s.io`` group is a CRD's (an
#: unapproved one needs only an annotation), so its kinds are searched like any other CRD's.
_BUILT_IN_GROUPS = frozenset(
    {
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "apiregistration.k8s.io",
        "authentication.k8s.io",
        "authorization.k8s.io",
        "certificates.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "events.k8s.io",
        "flowcontrol.apiserver.k8s.io",
        "internal.apiserver.k8s.io",
        "metrics.k8s.io",
        "networking.k8s.io",
        "node.k8s.io",
        "rbac.authorization.k8s.io",
        "resource.k8s.io",
        "scheduling.k8s.io",
        "storage.k8s.io",
        "storagemigration.k8s.io",
    }
)


def _known(resource: Resource) -> bool:
    """A built-in kind, or one whose CRD servegate ships: its pods (if any) have a walker.
    A group without a dot is built in (a CRD's group must hold one: apiextensions-apiserver
    ``validation.go``, "should be a domain with at least one dot")."""
    return _built_in(resource.group) or (resource.group, resource.kind) in _shipped_kinds()


def _built_in(group: str) -> bool:
    return "." not in group or group in _BUILT_IN_GROUPS


@cache
def _shipped_kinds() -> frozenset[tuple[str, str]]:
    from servegate.datafiles import data_dir

    try:
        index = json.loads((data_dir("schemas") / "crds" / "index.json").read_text("utf-8"))
    except (OSError, ValueError):
        return frozenset()
    out = set()
    for key in index if isinstance(index, dict) else ():
        api_version, _, kind = str(key).rpartition("/")
        out.add((api_version.rpartition("/")[0], kind))
    return frozenset(out)

"""The containers Istio's sidecar injector adds to a pod, and why it adds them.

Whether a pod is injected (Istio's ``istio-sidecar-injector`` webhooks and
``pkg/kube/inject/inject.go`` ``injectRequired``, istio/istio): the Namespace label
``istio-injection=enabled``, or a revision label ``istio.io/rev`` without
``istio-injection=disabled``, selects the webhook; so does a pod label
``sidecar.istio.io/inject=true`` (or ``istio.io/rev``) in a Namespace not labelled
``istio-injection=disabled``. The pod label ``sidecar.istio.io/inject`` (or, deprecated, the
annotation, which the label overrides) set to anything but ``true``/``yes``/``y``/``on`` opts the
pod out; ``hostNetwork`` pods are never injected. KServe sets no injection label itself
(v0.20: ``predictor.go`` copies the InferenceService's labels and annotations to the pod).

What is injected (``manifests/charts/istio-control/istio-discovery/files/injection-template.yaml``,
default values): an ``istio-proxy`` container (no privilege escalation, drops ALL, runs as 1337,
read-only root filesystem, no seccompProfile unless ``global.proxy.seccompProfile`` is set), and
an init container: without the Istio CNI node agent ``istio-init``, which programs iptables as
root with ``NET_ADMIN`` and ``NET_RAW``; with CNI (and in ambient installs, which include it)
``istio-validation``, unprivileged. The ``sidecar.istio.io/interceptionMode: NONE`` annotation
drops the init container. Neither ``baseline`` nor ``restricted`` admits ``NET_ADMIN``/``NET_RAW``
(Istio's "Install Istio with Pod Security Admission" page; istio/istio#35894), so without CNI the
pod is rejected.

Which data plane the cluster runs is the ``mesh`` parameter (servegate.yaml ``policy.mesh``, else
the environment profile's ``mesh``, else the policy set's, resolved by the unit's plan):
``istio-cni``, ``ambient``, ``sidecar`` (Istio's default install: sidecars without CNI) or
``none``; unset means ``sidecar``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from servegate.podspecs.views import Built, ContainerView, PodSpecView, Source
from servegate.resource import FieldPath, Resource, as_dict

MESH_MODES = ("istio-cni", "ambient", "sidecar", "none")
"""Values of the ``mesh`` parameter (servegate.yaml ``policy.mesh``, or the environment profile's
``mesh``): Istio sidecars with the CNI node agent, Istio ambient, Istio sidecars without CNI
(Istio's default install: the injected ``istio-init`` needs NET_ADMIN and NET_RAW), no mesh."""
DEFAULT_MESH = "sidecar"
"""Unset: Istio's default installation, which has no CNI (istioctl ``default`` profile)."""
INJECTION = "istio-injection"
REVISION = "istio.io/rev"
INJECT = "sidecar.istio.io/inject"
INTERCEPTION = "sidecar.istio.io/interceptionMode"
_YES = frozenset({"y", "yes", "true", "on"})

_PROXY_CONTEXT: Mapping[str, Any] = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "privileged": False,
    "readOnlyRootFilesystem": True,
    "runAsGroup": 1337,
    "runAsNonRoot": True,
    "runAsUser": 1337,
}
_INIT_CONTEXT: Mapping[str, Any] = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"add": ["NET_ADMIN", "NET_RAW"], "drop": ["ALL"]},
    "privileged": False,
    "readOnlyRootFilesystem": False,
    "runAsGroup": 0,
    "runAsNonRoot": False,
    "runAsUser": 0,
}
_VALIDATION_CONTEXT: Mapping[str, Any] = {**_PROXY_CONTEXT}


def mesh_mode(*layers: Mapping[str, Any]) -> str:
    """The cluster's mesh data plane: the ``mesh`` of the first of ``layers`` that sets one
    (``servegate.plan`` passes the repo's ``policy:``, the environment profile, the policy
    set's parameters), else ``sidecar`` (Istio's default install). A value servegate does not
    know counts as ``sidecar``, the mode that admits the least. The plan resolves it once per
    unit, into the unit's ``mesh`` parameter; everything else reads that."""
    for layer in layers:
        value = layer.get("mesh")
        if isinstance(value, str) and value:
            return value if value in MESH_MODES else DEFAULT_MESH
    return DEFAULT_MESH


def injection(
    pod: PodSpecView, namespace: Resource | None
) -> tuple[FieldPath, Resource, str] | None:
    """Why Istio injects ``pod``: (path, object holding it, description) of the label that
    turns injection on, or None when it does not."""
    if pod.spec.get("hostNetwork") is True:
        return None
    labels = as_dict(pod.metadata.get("labels"))
    annotations = as_dict(pod.metadata.get("annotations"))
    ns_labels = namespace.labels if namespace is not None else {}
    if str(ns_labels.get(INJECTION, "")) == "disabled":
        return None
    opt = labels.get(INJECT, annotations.get(INJECT))
    if opt is not None and str(opt).lower() not in _YES:
        return None
    if namespace is not None and str(ns_labels.get(INJECTION, "")) == "enabled":
        return (
            ("metadata", "labels", INJECTION),
            namespace,
            (f"namespace {namespace.name!r} has {INJECTION}=enabled"),
        )
    if namespace is not None and INJECTION not in ns_labels and ns_labels.get(REVISION):
        return (
            ("metadata", "labels", REVISION),
            namespace,
            (f"namespace {namespace.name!r} has {REVISION}={ns_labels[REVISION]}"),
        )
    for key in (INJECT, REVISION):
        value = labels.get(key)
        if value is not None and (key == REVISION or str(value).lower() in _YES):
            return (*pod.metadata_path, "labels", key), pod.resource, f"the pod label {key}={value}"
    return None


def inject(pod: PodSpecView, namespace: Resource | None, mesh: str) -> PodSpecView:
    """``pod`` with the containers Istio adds to it under ``mesh``, each located at the label
    that turns injection on."""
    if mesh == "none":
        return pod
    why = injection(pod, namespace)
    if why is None:
        return pod
    at, holder, because = why
    annotations = as_dict(pod.metadata.get("annotations"))
    cni = mesh in ("istio-cni", "ambient")
    added: list[ContainerView] = []
    sources = dict(pod.sources)
    if str(annotations.get(INTERCEPTION, "")) != "NONE":
        name = "istio-validation" if cni else "istio-init"
        added.append(
            _container(pod, name, "initContainers", _VALIDATION_CONTEXT if cni else _INIT_CONTEXT)
        )
    added.append(_container(pod, "istio-proxy", "containers", _PROXY_CONTEXT))
    reason = f"added by Istio's sidecar injector ({because}, mesh: {mesh})"
    for c in added:
        told = reason
        if c.name == "istio-init":
            told = (
                f"added by Istio's sidecar injector ({because}) to a mesh without Istio CNI "
                f"(mesh: {mesh}): it needs NET_ADMIN and NET_RAW, which neither baseline nor "
                "restricted admits, so the pod is rejected; install Istio CNI and set mesh: "
                "istio-cni, or use ambient mode"
            )
        sources[c.path] = Source(holder, at, f"{pod.label} container {c.name!r}", told, whole=True)
        # a setting Istio leaves out (seccompProfile) is the pod's to set
        sources[(*c.path, "securityContext", "seccompProfile")] = Source(
            pod.resource,
            pod.at("securityContext", "seccompProfile"),
            f"{pod.label} container {c.name!r} (added by Istio, which sets no seccompProfile: "
            "set it for the pod)",
        )
    inits = [c for c in added if c.section == "initContainers"]
    mains = [c for c in added if c.section == "containers"]
    built = replace(pod.built or Built(), mesh=because)
    return replace(
        pod,
        containers=(*inits, *pod.containers, *mains),
        sources=sources,
        built=built,
    )


def _container(
    pod: PodSpecView, name: str, section: str, context: Mapping[str, Any]
) -> ContainerView:
    body = {"name": name, "image": "istio/proxyv2", "securityContext": _copy(context)}
    return ContainerView(name, section, body, (*pod.path, "<istio>", name), injected="Istio")


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value

"""Pod specs found by shape in kinds servegate does not know.

An operator's custom resource can hold a pod spec anywhere. For a kind with no walker of its
own, the object (``metadata`` and ``status`` aside) is searched for mappings that look like a
pod spec: a ``containers``/``initContainers``/``ephemeralContainers`` list holding an object
with an ``image``, a ``containers`` list of objects, a host namespace switched on
(``hostNetwork``/``hostPID``/``hostIPC: true``), or a ``hostPath`` volume; or containers under
the other names operators give them: ``steps`` and ``sidecars`` lists (Tekton's Task and
Pipeline: each step is a container of the TaskRun's pod, with ``stepTemplate`` under it) and a
lone ``container`` (Argo Events' Sensor and EventSource ``template.container``, an Argo
Workflows template inside another object), each holding an ``image`` or a
``securityContext``. Each becomes a pod view marked ``inferred``: the Pod Security rules judge
it, and its label says the location was inferred. The search is bounded in depth and in nodes
visited; an object too large to search completely is reported (``pods.unreadable-spec``), not
passed.
"""

from __future__ import annotations

from typing import Any

from servegate.podspecs.views import CONTAINER_LISTS, ContainerView, PodSpecView, view
from servegate.resource import FieldPath, Resource, as_dict, dotted

MAX_DEPTH = 24
MAX_NODES = 20_000
_HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")
_SKIPPED = frozenset({"metadata", "status", "apiVersion", "kind"})


def inferred_pods(r: Resource) -> tuple[list[PodSpecView], str | None]:
    """The inferred pod views of ``r``, and why the search stopped early (or None)."""
    found: list[PodSpecView] = []
    # the object itself first: a kind may hold its pod fields at the top, as Pod's spec does
    top = {k: v for k, v in r.body.items() if k not in _SKIPPED}
    stack: list[tuple[FieldPath, Any, dict[str, Any] | None, int]] = [((), top, None, 0)]
    visited = 0
    while stack:
        path, node, parent, depth = stack.pop()
        visited += 1
        if visited > MAX_NODES:
            return found, f"holds more than {MAX_NODES:,} nodes: its pod specs were not all found"
        if depth > MAX_DEPTH:
            return found, f"nests deeper than {MAX_DEPTH} levels: its pod specs were not all found"
        if isinstance(node, list):
            stack.extend(
                ((*path, i), item, None, depth + 1)
                for i, item in reversed(list(enumerate(node)))
                if isinstance(item, dict | list)
            )
            continue
        if not isinstance(node, dict):
            continue
        others = _other_containers(node, path)
        if others or _pod_shaped(node):
            metadata: dict[str, Any] = r.metadata
            metadata_path: FieldPath = ("metadata",)
            if (
                parent is not None
                and path[-1] == "spec"
                and isinstance(parent.get("metadata"), dict)
            ):
                metadata, metadata_path = parent["metadata"], (*path[:-1], "metadata")
            where = f" {dotted(path)}" if path else ""
            label = (
                f"{r.kind}{where} (location inferred: servegate does not know "
                f"{r.api_version} {r.kind})"
            )
            pod = view(r, label, path, node, metadata, metadata_path=metadata_path, extra=others)
            if pod is not None:
                found.append(_inferred(pod))
        stack.extend(
            ((*path, k), v, node, depth + 1)
            for k, v in reversed(list(node.items()))
            if isinstance(v, dict | list) and k not in CONTAINER_LISTS
        )
    return found, None


_OTHER_LISTS = ("steps", "sidecars")


def _other_containers(node: dict[str, Any], path: FieldPath) -> tuple[ContainerView, ...]:
    """Containers of ``node`` under other names than a PodSpec's (see the module docstring)."""
    found: list[ContainerView] = []
    template = node.get("stepTemplate")
    for key in _OTHER_LISTS:
        items = node.get(key)
        if not isinstance(items, list):
            continue
        for i, item in enumerate(items):
            if isinstance(item, dict) and _container_like(item):
                body = _under(template, item) if key == "steps" else item
                name = str(item.get("name") or f"{key}[{i}]")
                found.append(ContainerView(name, key, body, (*path, key, i)))
    lone = node.get("container")
    if isinstance(lone, dict) and _container_like(lone):
        found.append(
            ContainerView(
                str(lone.get("name") or "container"), "container", lone, (*path, "container")
            )
        )
    return tuple(found)


def _container_like(item: dict[str, Any]) -> bool:
    return isinstance(item.get("image"), str) or isinstance(item.get("securityContext"), dict)


def _under(template: Any, step: dict[str, Any]) -> dict[str, Any]:
    """``step`` over Tekton's ``stepTemplate`` (mappings merged a level deep, as its
    securityContext is)."""
    if not isinstance(template, dict):
        return step
    merged = {**template, **step}
    for key, value in template.items():
        if isinstance(value, dict) and isinstance(step.get(key), dict):
            merged[key] = {**value, **step[key]}
    return merged


def _pod_shaped(node: dict[str, Any]) -> bool:
    for section in CONTAINER_LISTS:
        items = node.get(section)
        if isinstance(items, list) and any(
            isinstance(c, dict) and (section == "containers" or "image" in c) for c in items
        ):
            return True
    if any(node.get(key) is True for key in _HOST_NAMESPACES):
        return True
    volumes = node.get("volumes")
    return isinstance(volumes, list) and any(
        isinstance(v, dict) and "hostPath" in v and "name" in v for v in volumes
    )


def _inferred(pod: PodSpecView) -> PodSpecView:
    from dataclasses import replace

    return replace(pod, inferred=True, metadata=as_dict(pod.metadata))

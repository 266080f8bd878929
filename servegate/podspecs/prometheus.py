"""Prometheus Operator workloads: the StatefulSet (or DaemonSet) pod the operator builds.

The operator generates its own containers, each with ``allowPrivilegeEscalation: false``,
``readOnlyRootFilesystem: true`` and ``capabilities.drop: [ALL]``, and strategic-merges
``spec.containers`` (and ``spec.initContainers``, except for ThanosRuler, which takes them as
they are) into them by name; containers with other names are appended. The pod takes
``spec.securityContext``, ``spec.volumes`` (after the operator's own), ``hostNetwork``,
``hostUsers`` and the scheduling fields from the spec as written, and its metadata from
``spec.podMetadata``. Sources (prometheus-operator/prometheus-operator):
``pkg/prometheus/server/statefulset.go``, ``pkg/prometheus/agent/statefulset.go`` and
``daemonset.go``, ``pkg/alertmanager/statefulset.go``, ``pkg/thanos/statefulset.go``,
``pkg/operator/config_reloader.go`` (``CreateConfigReloader``) and ``pkg/k8s/merge.go``
(``MergePatchContainers``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from servegate.podspecs.patch import CONTAINER, PatchError, merge
from servegate.podspecs.views import ContainerView, PodSpecView
from servegate.resource import FieldPath, Resource, as_dict, as_list

GROUP = "monitoring.coreos.com"

#: kind -> (the operator's containers, its init containers or None when spec.initContainers
#: are taken as written)
_GENERATED: dict[str, tuple[tuple[str, ...], tuple[str, ...] | None]] = {
    "Prometheus": (("prometheus", "config-reloader"), ("init-config-reloader",)),
    "PrometheusAgent": (("prometheus", "config-reloader"), ("init-config-reloader",)),
    "Alertmanager": (("alertmanager", "config-reloader"), ("init-config-reloader",)),
    "ThanosRuler": (("thanos-ruler", "config-reloader"), None),
}
KINDS = frozenset(_GENERATED)

_HARDENED: dict[str, Any] = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}


def operator_pods(r: Resource) -> Iterator[PodSpecView]:
    generated, generated_init = _GENERATED[r.kind]
    if r.kind == "Prometheus" and isinstance(r.spec.get("thanos"), dict):
        generated = (*generated, "thanos-sidecar")
    containers = [
        *_merged(r, "initContainers", generated_init),
        *_merged(r, "containers", generated),
    ]
    metadata = as_dict(r.spec.get("podMetadata"))
    yield PodSpecView(
        r,
        f"{r.kind} pod",
        ("spec",),
        r.spec,
        tuple(containers),
        metadata,
        True,
        ("spec", "podMetadata"),
    )


def _merged(
    r: Resource, section: str, generated: tuple[str, ...] | None
) -> Iterator[ContainerView]:
    written = [(i, c) for i, c in enumerate(as_list(r.spec.get(section))) if isinstance(c, dict)]
    by_name = {str(c.get("name")): (i, c) for i, c in written}
    for name in generated or ():
        base = {"name": name, "securityContext": dict(_HARDENED)}
        found = by_name.pop(name, None)
        if found is None:
            # not in the object: a missing setting is fixed at the pod level, so point there
            yield ContainerView(name, section, base, ("spec",))
            continue
        i, patch = found
        try:
            body = merge(base, patch, CONTAINER)
        except PatchError:
            body = patch  # the operator refuses it; judge what is written
        yield ContainerView(name, section, body, ("spec", section, i))
    for i, c in written:
        name = str(c.get("name"))
        if name in by_name:
            path: FieldPath = ("spec", section, i)
            yield ContainerView(name or f"{section}[{i}]", section, c, path)

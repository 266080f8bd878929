"""The pods of one unit as the cluster will run them: what the rules judge.

:func:`servegate.podspecs.pod_specs` walks one object. A pod the cluster runs is more than the
object that asks for it: an InferenceService's pod takes its ServingRuntime's containers and
KServe's storage-initializer (:mod:`servegate.podspecs.kserve`), and a pod in a Namespace with
Istio injection gets Istio's containers (:mod:`servegate.podspecs.mesh`). :class:`UnitPods`
indexes the objects of one unit that contribute (Namespaces, runtimes, storage containers) once,
and hands out each object's effective pods. A runtime or storage container whose containers are
merged into some InferenceService's pods is judged there, with the pods that use it, and not
again on its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from servegate.podspecs import pod_specs
from servegate.podspecs.kserve import (
    RUNTIME_KINDS,
    STORAGE_PARAM,
    Builder,
    Runtimes,
    Settings,
    StorageContainers,
    is_kserve,
)
from servegate.podspecs.mesh import DEFAULT_MESH, inject, mesh_mode
from servegate.podspecs.views import PodSpecView
from servegate.resource import Resource

#: Kinds whose pod specs are templates for pods made elsewhere (or not at all): no mesh
#: injection is modelled for them.
_TEMPLATES = frozenset(
    {
        *RUNTIME_KINDS,
        "ClusterStorageContainer",
        "PodTemplate",
        "LLMInferenceServiceConfig",
        "AnalysisTemplate",
        "ClusterAnalysisTemplate",
        "WorkflowTemplate",
        "ClusterWorkflowTemplate",
    }
)


@dataclass(frozen=True, slots=True)
class UnitSettings:
    """What the plan says about the cluster the unit's pods land in."""

    mesh: str = DEFAULT_MESH
    storage_initializer: str = "kserve"

    @classmethod
    def of(cls, params: Mapping[str, Any]) -> UnitSettings:
        """From a unit's policy parameters, as its plan resolved them (``servegate.plan``:
        ``mesh`` and ``storageInitializer`` always set there)."""
        mesh = mesh_mode(params)
        restricted = params.get(STORAGE_PARAM) == "restricted"
        return cls(mesh, "restricted" if restricted else "kserve")


class UnitPods:
    """The effective pods of one unit's objects; build it once per unit."""

    def __init__(
        self,
        resources: Sequence[Resource],
        settings: UnitSettings | None = None,
        foreign: Sequence[Resource] = (),
    ) -> None:
        """``foreign``: the runtimes, storage containers and Namespaces of the check's other
        units that this unit's objects can see (``servegate.crossunit``), after its own."""
        self.settings = settings or UnitSettings()
        self.namespaces: dict[str, Resource] = {
            r.name: r
            for r in (*foreign, *resources)  # the unit's own win
            if r.kind == "Namespace" and r.api_version == "v1"
        }
        shared = [*resources, *foreign] if foreign else resources
        self.builder = Builder(
            Runtimes(shared),
            StorageContainers(shared),
            Settings(self.settings.storage_initializer),
        )
        self._isvc: dict[int, tuple[Resource, list[PodSpecView]]] = {}
        for r in resources:
            if r.kind == "InferenceService" and is_kserve(r):
                self._isvc[id(r)] = (r, self.builder.pods(r, pod_specs(r)))

    def namespace(self, resource: Resource) -> Resource | None:
        """The Namespace object ``resource`` lives in, when the unit holds it."""
        return self.namespaces.get(resource.namespace) if resource.namespace else None

    def pods(self, resource: Resource, *, inferred: bool = True) -> list[PodSpecView]:
        """``resource``'s pods as the cluster runs them (``pod_specs``, then KServe's merges
        and the mesh's injection)."""
        found = self._isvc.get(id(resource))
        if found is not None and found[0] is resource:
            walked = found[1]
        elif resource.kind in _TEMPLATES and id(resource) in self.builder.used:
            return []  # judged in the pods that use it
        else:
            walked = pod_specs(resource, inferred=inferred)
        if resource.kind in _TEMPLATES or not walked:
            return walked
        namespace = self.namespace(resource)
        mesh = self.settings.mesh
        return [p if p.inferred or not p.pod_level else inject(p, namespace, mesh) for p in walked]

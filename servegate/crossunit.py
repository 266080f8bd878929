"""KServe runtimes shared across the units of one check.

KServe picks an InferenceService's runtime among every ServingRuntime of its namespace and
every ClusterServingRuntime in the cluster (kserve/kserve ``predictor_model.go``
``GetSupportingRuntimes``, ``utils.go`` ``GetServingRuntime``), and its storage-initializer
among every ClusterStorageContainer (``storage_initializer_injector.go``
``GetStorageContainerSpec``), whoever deployed them: a ClusterServingRuntime in the repo's
``cluster/`` folder serves the models of every overlay. Likewise Pod Security admission and
Istio's injector read a pod's Namespace, wherever it is defined: a ``namespaces/`` folder
that pins ``enforce-version`` applies to the pods of every overlay deployed into it
(kubernetes/pod-security-admission ``admission/admission.go``: the namespace's labels).

Units are loaded and evaluated one by one (``servegate.fanout``), each with what it holds;
this module says, once all are loaded, which runtimes and Namespaces of *other* units (of the
checked set) each unit can see (:meth:`Index.foreign`), so that ``servegate.engine`` evaluates
that unit again with them.

A unit's ``UnitResult`` records what this needs, in the result memo too: the runtime and
Namespace objects the unit holds (``runtimes``, as the API server stores them), the namespaces
of its InferenceServices (``asks``) and of all its objects (``uses``), and the digest of the
foreign objects it was judged with (``depends``, :func:`digest`): a stored result whose foreign
objects changed is checked again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from servegate.resource import Resource

GROUP = "serving.kserve.io"
NAMESPACED = frozenset({"ServingRuntime"})
CLUSTER_SCOPED = frozenset({"ClusterServingRuntime", "ClusterStorageContainer"})
KINDS = NAMESPACED | CLUSTER_SCOPED
NAMESPACE = "Namespace"


def provides(resource: Resource) -> bool:
    """Whether ``resource`` is something another unit's objects may depend on: a KServe
    runtime or storage container, or a Namespace."""
    if resource.kind == NAMESPACE:
        return resource.api_version == "v1"
    return resource.kind in KINDS and resource.group == GROUP


def asks(resources: Iterable[Resource]) -> list[str]:
    """The namespaces (``""``: none) of the InferenceServices among ``resources``."""
    return sorted(
        {r.namespace or "" for r in resources if r.kind == "InferenceService" and r.group == GROUP}
    )


def uses(resources: Sequence[Resource]) -> list[str]:
    """The namespaces ``resources`` live in whose Namespace object they do not hold."""
    held = {r.name for r in resources if r.kind == NAMESPACE and r.api_version == "v1"}
    return sorted({r.namespace for r in resources if r.namespace and r.namespace not in held})


Ident = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class Provided:
    """One such object of a unit: the unit, its memo key (``""`` without a memo), and the
    object as the API server stores it."""

    unit: str
    key: str
    body: Mapping[str, Any]

    @property
    def ident(self) -> Ident:
        return ident(self.body)


def ident(body: Mapping[str, Any]) -> Ident:
    """(kind, namespace or ``""``, name) of an object body."""
    meta = body.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    kind = str(body.get("kind") or "")
    namespace = (
        "" if kind in CLUSTER_SCOPED or kind == NAMESPACE else str(meta.get("namespace") or "")
    )
    return kind, namespace, str(meta.get("name") or "")


class Index:
    """The provided objects of every unit of a check, by what can see them; built once."""

    def __init__(self, provided: Iterable[Provided]) -> None:
        self.cluster: dict[Ident, list[Provided]] = {}
        self.by_namespace: dict[str, dict[Ident, list[Provided]]] = {}
        self.namespaces: dict[str, list[Provided]] = {}
        for item in sorted(provided, key=lambda p: p.unit):
            kind, namespace, name = item.ident
            if kind == NAMESPACE:
                self.namespaces.setdefault(name, []).append(item)
            elif kind in NAMESPACED:
                self.by_namespace.setdefault(namespace, {}).setdefault(item.ident, []).append(item)
            else:
                self.cluster.setdefault(item.ident, []).append(item)

    def __bool__(self) -> bool:
        return bool(self.cluster or self.by_namespace or self.namespaces)

    def foreign(
        self,
        unit: str,
        isvc_namespaces: Sequence[str],
        namespaces: Sequence[str],
        own: Iterable[Mapping[str, Any]],
    ) -> list[Provided]:
        """What other units hold that ``unit`` can see: for its InferenceServices (in
        ``isvc_namespaces``) every cluster-scoped runtime and the ServingRuntimes of those
        namespaces; for its objects (in ``namespaces``) their Namespace objects. Never what
        ``unit`` holds itself (by kind, namespace and name, ``own``); one per identity, the
        first by unit id (kustomize overlays repeat their base's objects)."""
        mine = {ident(body) for body in own}
        out: dict[Ident, Provided] = {}

        def take(found: Mapping[Ident, list[Provided]]) -> None:
            for key, items in found.items():
                if key in mine or key in out:
                    continue
                first = next((p for p in items if p.unit != unit), None)
                if first is not None:
                    out[key] = first

        if isvc_namespaces:
            take(self.cluster)
            for namespace in isvc_namespaces:
                take(self.by_namespace.get(namespace, {}))
        for namespace in namespaces:
            items = self.namespaces.get(namespace)
            if items:
                take({(NAMESPACE, "", namespace): items})
        return [out[k] for k in sorted(out)]


def foreign(
    unit: str,
    namespaces: Sequence[str],
    own: Iterable[Mapping[str, Any]],
    provided: Sequence[Provided],
) -> list[Provided]:
    """:meth:`Index.foreign` over ``provided`` for a unit whose InferenceServices live in
    ``namespaces`` (its runtimes only)."""
    return Index(p for p in provided if p.ident[0] != NAMESPACE).foreign(unit, namespaces, [], own)


def digest(items: Sequence[Provided]) -> str:
    """What a unit's result depends on beyond its own inputs: ``""`` for nothing foreign,
    else a digest of each item's unit key (its source lines) and body."""
    if not items:
        return ""
    text = json.dumps([[p.key, p.body] for p in items], sort_keys=True, default=repr)
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()

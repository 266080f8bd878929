"""KServe runtimes shared across the units of one check.

KServe picks an InferenceService's runtime among every ServingRuntime of its namespace and
every ClusterServingRuntime in the cluster (kserve/kserve ``predictor_model.go``
``GetSupportingRuntimes``, ``utils.go`` ``GetServingRuntime``), and its storage-initializer
among every ClusterStorageContainer (``storage_initializer_injector.go``
``GetStorageContainerSpec``), whoever deployed them: a ClusterServingRuntime in the repo's
``cluster/`` folder serves the models of every overlay. Units are loaded and evaluated one by
one (``servegate.fanout``), each with the runtimes it holds; this module says, once all are
loaded, which runtimes of *other* units (of the checked set) each unit's InferenceServices can
see (:func:`foreign`), so that ``servegate.engine`` evaluates that unit again with them.

A unit's ``UnitResult`` records what this needs, in the result memo too: the runtime objects
the unit holds (``runtimes``, as the API server stores them), the namespaces of its
InferenceServices (``asks``) and the digest of the foreign runtimes it was judged with
(``depends``, :func:`digest`): a stored result whose foreign runtimes changed is checked again.
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


def provides(resource: Resource) -> bool:
    """Whether ``resource`` is a runtime another unit's InferenceServices may use."""
    return resource.kind in KINDS and resource.group == GROUP


def asks(resources: Iterable[Resource]) -> list[str]:
    """The namespaces (``""``: none) of the InferenceServices among ``resources``."""
    return sorted(
        {r.namespace or "" for r in resources if r.kind == "InferenceService" and r.group == GROUP}
    )


@dataclass(frozen=True, slots=True)
class Provided:
    """One runtime object of a unit: the unit, its memo key (``""`` without a memo), and the
    object as the API server stores it."""

    unit: str
    key: str
    body: Mapping[str, Any]

    @property
    def ident(self) -> tuple[str, str, str]:
        meta = self.body.get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        kind = str(self.body.get("kind") or "")
        namespace = "" if kind in CLUSTER_SCOPED else str(meta.get("namespace") or "")
        return kind, namespace, str(meta.get("name") or "")


def foreign(
    unit: str,
    namespaces: Sequence[str],
    own: Iterable[Mapping[str, Any]],
    provided: Sequence[Provided],
) -> list[Provided]:
    """The runtimes of other units that the InferenceServices of ``unit`` (in ``namespaces``)
    can see: every cluster-scoped one and the ServingRuntimes of those namespaces, except
    those of a kind, namespace and name ``unit`` holds itself (``own``), one per identity (the
    first by unit id: kustomize overlays repeat their base's runtime)."""
    if not namespaces:
        return []
    mine = {Provided(unit, "", body).ident for body in own}
    wanted = set(namespaces)
    out: dict[tuple[str, str, str], Provided] = {}
    for item in sorted(provided, key=lambda p: p.unit):
        if item.unit == unit:
            continue
        ident = item.ident
        if ident in mine or ident in out:
            continue
        if ident[0] in NAMESPACED and ident[1] not in wanted:
            continue
        out[ident] = item
    return [out[k] for k in sorted(out)]


def digest(items: Sequence[Provided]) -> str:
    """What a unit's result depends on beyond its own inputs: ``""`` for no foreign runtime,
    else a digest of each one's unit key (its source lines) and body."""
    if not items:
        return ""
    text = json.dumps([[p.key, p.body] for p in items], sort_keys=True, default=repr)
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()

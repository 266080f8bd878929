"""KServe's merges of a ServingRuntime (or a storage container) and an InferenceService, with
where each field of the result comes from.

KServe builds the model server container by strategic-merging the InferenceService's container
over the runtime's, and the pod spec by strategic-merging the InferenceService's pod fields over
the few the runtime supplies (kserve/kserve v0.20
``pkg/controller/v1beta1/inferenceservice/utils/utils.go``: ``MergeRuntimeContainers``, which
calls ``MergeContainerWithPatch`` in ``pkg/utils/container_merge.go`` and then concatenates
``args``, runtime first; ``MergePodSpec``, which takes only the runtime's ``nodeSelector``,
``affinity``, ``tolerations``, ``volumes``, ``imagePullSecrets`` and ``schedulerName``).
``MergeContainerWithPatch`` also settles an ``env`` entry left with both ``value`` and
``valueFrom``: the InferenceService's choice wins (``reconcileEnvValueConflicts``). The storage
initializer is merged the same way with a ClusterStorageContainer's container
(``pkg/webhook/admission/pod/storage_initializer_injector.go``).

The merge itself is :func:`servegate.podspecs.patch.merge` (apimachinery's strategic merge);
:func:`traced_merge` adds, for every field of the result, which side wrote it and where.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from servegate.podspecs.patch import CONTAINER, POD_SPEC, field_meta, merge
from servegate.resource import FieldPath, as_dict, as_list

Side = Literal["base", "overlay"]
#: A field of the merged value (path relative to it) -> the side that wrote it and its path
#: there (relative to that side's value). A field absent from the map lies under its longest
#: listed prefix.
Origins = dict[FieldPath, tuple[Side, FieldPath]]

#: The fields of a ServingRuntime's pod spec KServe merges into the pod (``MergePodSpec``).
RUNTIME_POD_FIELDS = (
    "nodeSelector",
    "affinity",
    "tolerations",
    "volumes",
    "imagePullSecrets",
    "schedulerName",
)

_MISSING: Any = object()


def merge_containers(
    base: Mapping[str, Any], overlay: Mapping[str, Any]
) -> tuple[dict[str, Any], Origins]:
    """``MergeRuntimeContainers``: ``overlay`` (the InferenceService's) over ``base`` (the
    runtime's). A field neither sets is blamed on ``base``: the shared runtime is where a
    missing setting belongs. Raises PatchError where KServe's merge fails."""
    merged, origins = traced_merge(dict(base), dict(overlay), CONTAINER, absent="base")
    base_args, overlay_args = as_list(base.get("args")), as_list(overlay.get("args"))
    if base_args or overlay_args:
        merged["args"] = [*base_args, *overlay_args]
        origins[("args",)] = ("base", ("args",)) if base_args else ("overlay", ("args",))
        for i in range(len(merged["args"])):
            if i < len(base_args):
                origins[("args", i)] = ("base", ("args", i))
            else:
                origins[("args", i)] = ("overlay", ("args", i - len(base_args)))
    return _settled(merged, base, overlay), origins


def merge_storage_container(
    default: Mapping[str, Any], storage: Mapping[str, Any]
) -> tuple[dict[str, Any], Origins]:
    """``MergeContainerWithPatch`` of KServe's default storage-initializer and a
    ClusterStorageContainer's ``spec.container`` (which wins). A field neither sets is blamed
    on the ClusterStorageContainer, the object a user can change."""
    merged, origins = traced_merge(dict(default), dict(storage), CONTAINER, absent="overlay")
    return _settled(merged, default, storage), origins


def merge_pod_specs(
    runtime: Mapping[str, Any], component: Mapping[str, Any]
) -> tuple[dict[str, Any], Origins]:
    """``MergePodSpec``: the InferenceService component's pod fields over the runtime's
    ``RUNTIME_POD_FIELDS``. A field neither sets is blamed on the component (a runtime has no
    pod-level securityContext to set)."""
    base = {k: runtime[k] for k in RUNTIME_POD_FIELDS if k in runtime}
    return traced_merge(base, dict(component), POD_SPEC, absent="overlay")


def traced_merge(
    base: dict[str, Any], overlay: dict[str, Any], definition: str, *, absent: Side
) -> tuple[dict[str, Any], Origins]:
    """``overlay`` strategic-merged over ``base`` (objects of ``definition``), and the origin
    of every field of the result; an object's fields that neither side sets are blamed on
    ``absent``."""
    merged = merge(base, overlay, definition)
    origins: Origins = {}
    _trace(merged, base, overlay, (), (), (), definition, absent, origins)
    return merged, origins


def _trace(
    merged: Any,
    base: Any,
    overlay: Any,
    at: FieldPath,
    base_at: FieldPath,
    overlay_at: FieldPath,
    definition: str | None,
    absent: Side,
    out: Origins,
    merge_key: str | None = None,
) -> None:
    """Record the origin of ``merged`` (at ``at``), an object of ``definition`` or a list
    whose strategy is to merge items by ``merge_key``."""
    if overlay is _MISSING:
        out[at] = ("base", base_at)
        return
    own: tuple[Side, FieldPath] = ("base", base_at) if absent == "base" else ("overlay", overlay_at)
    if isinstance(merged, dict):
        out[at] = own
        for key, child in merged.items():
            strategy, key_of_items, child_definition = field_meta(definition, key)
            _trace(
                child,
                _get(base, key),
                _get(overlay, key),
                (*at, key),
                (*base_at, key),
                (*overlay_at, key),
                child_definition,
                absent,
                out,
                key_of_items if "merge" in strategy else None,
            )
        return
    if not isinstance(merged, list) or merge_key is None or not isinstance(base, list):
        out[at] = ("overlay", overlay_at)  # a scalar, or a list the overlay replaced
        return
    out[at] = own
    for i, item in enumerate(merged):
        key = as_dict(item).get(merge_key)
        b = _keyed(base, merge_key, key)
        o = _keyed(overlay, merge_key, key)
        _trace(
            item,
            b[1] if b else _MISSING,
            o[1] if o else _MISSING,
            (*at, i),
            (*base_at, b[0] if b else i),
            (*overlay_at, o[0] if o else i),
            definition,
            absent if b else "overlay",  # an item only the overlay has is the overlay's
            out,
        )


def _get(value: Any, key: str) -> Any:
    if isinstance(value, dict) and key in value:
        return value[key]
    return _MISSING


def _keyed(items: Any, merge_key: str, key: Any) -> tuple[int, Any] | None:
    for i, item in enumerate(as_list(items)):
        if isinstance(item, dict) and item.get(merge_key) == key:
            return i, item
    return None


def _settled(
    merged: dict[str, Any], base: Mapping[str, Any], overlay: Mapping[str, Any]
) -> dict[str, Any]:
    """``merged`` with its ``env`` settled as KServe's patch leaves it and the base's name
    kept when the overlay has none."""
    _settle_env(merged, overlay)
    if not merged.get("name") and base.get("name"):
        merged["name"] = base["name"]
    return merged


def _settle_env(merged: dict[str, Any], overlay: Mapping[str, Any]) -> None:
    """``reconcileEnvValueConflicts``: an env entry with both ``value`` and ``valueFrom`` keeps
    the one the overlay set."""
    chosen = {e.get("name"): e for e in as_list(overlay.get("env")) if isinstance(e, dict)}
    for entry in as_list(merged.get("env")):
        if not isinstance(entry, dict) or not entry.get("value") or not entry.get("valueFrom"):
            continue
        mine = chosen.get(entry.get("name"))
        if mine is None:
            continue
        if mine.get("valueFrom") is not None:
            entry.pop("value", None)
        elif mine.get("value"):
            entry.pop("valueFrom", None)

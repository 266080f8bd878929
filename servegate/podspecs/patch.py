"""Strategic merge patches of pod specs, as Kubernetes applies them, and ``podSpecPatch`` text.

Two controllers build pods by strategic-merge-patching a spec they generate:

* Argo Workflows applies a workflow's and a template's ``podSpecPatch`` (YAML or JSON text) to
  the pod it builds: ``workflow/util/util.go`` ``ApplyPodSpecPatch`` (argoproj/argo-workflows,
  called from ``workflow/controller/workflowpod.go``) converts each patch with
  ``ConvertYAMLToJSON`` (text starting with ``{`` is taken as JSON, anything else is YAML read
  by sigs.k8s.io/yaml), checks that it unmarshals into a ``PodSpec``, then runs
  ``strategicpatch.StrategicMergePatch(podSpecJSON, patchJSON, apiv1.PodSpec{})``.
* The Prometheus Operator merges ``spec.containers``/``spec.initContainers`` into the containers
  it generates, one container at a time, with ``StrategicMergePatch(..., corev1.Container{})``
  (prometheus-operator ``pkg/k8s/merge.go`` ``MergePatchContainers``).

:func:`merge` follows k8s.io/apimachinery ``pkg/util/strategicpatch/patch.go`` (``mergeMap``,
``mergeSlice``, the ``$patch``/``$retainKeys``/``$deleteFromPrimitiveList`` directives, with
``IgnoreUnmatchedNulls``), reading each field's patch strategy and merge key from the core API's
OpenAPI definitions (``x-kubernetes-patch-strategy``/``-merge-key``, k8s.io/api's
``patchStrategy``/``patchMergeKey`` tags). Lists without a strategy are replaced, as upstream.

Go decodes the merged JSON with ``encoding/json``, which matches field names without regard to
case (``"HostNetwork"`` sets ``hostNetwork``), so :func:`parse_pod_spec_patch` refuses a patch
holding a key that differs from a PodSpec field only in case: servegate would otherwise judge a
different pod from the one Argo creates.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

MAX_PATCH_BYTES = 64 * 1024
"""A ``podSpecPatch`` longer than this is not judged (an error finding says so)."""

_DIRECTIVE = "$patch"
_RETAIN_KEYS = "$retainKeys"
_DELETE_PRIMITIVE = "$deleteFromPrimitiveList/"
_SET_ORDER = "$setElementOrder/"


class PatchError(ValueError):
    """A patch that Kubernetes would refuse to apply, or that servegate cannot judge."""


# --- merge metadata: k8s.io/api's patch tags, as the core OpenAPI definitions carry them --------

POD_SPEC = "io.k8s.api.core.v1.PodSpec"
CONTAINER = "io.k8s.api.core.v1.Container"


@dataclass(frozen=True, slots=True)
class _Field:
    strategy: str
    """``x-kubernetes-patch-strategy``: "merge", "retainKeys", "merge,retainKeys" or ""."""
    merge_key: str | None
    definition: str | None
    """The definition of the value (or of each list item), if it is an object type."""


def merge(original: Any, patch: Any, definition: str = POD_SPEC) -> Any:
    """``patch`` strategic-merged into a deep copy of ``original`` (a ``definition`` object,
    PodSpec by default); neither argument is changed. Raises PatchError where apimachinery
    returns an error."""
    if not isinstance(patch, dict):
        raise PatchError("a strategic merge patch must be a mapping")
    base = copy.deepcopy(original) if isinstance(original, dict) else {}
    return _merge_map(base, copy.deepcopy(patch), definition)


def _merge_map(original: dict[str, Any], patch: dict[str, Any], definition: str | None) -> Any:
    directive = patch.get(_DIRECTIVE)
    if directive is not None:
        if directive == "replace":
            return {k: v for k, v in patch.items() if k != _DIRECTIVE}
        if directive == "delete":
            return {}
        if directive != "merge":
            raise PatchError(f"unknown {_DIRECTIVE} directive {directive!r}")
        del patch[_DIRECTIVE]
    retain = patch.pop(_RETAIN_KEYS, None)
    if retain is not None:
        if not isinstance(retain, list):
            raise PatchError(f"{_RETAIN_KEYS} must be a list")
        for key in [k for k in original if k not in retain]:
            del original[key]
    orders = {
        k[len(_SET_ORDER) :]: v
        for k, v in patch.items()
        if isinstance(k, str) and k.startswith(_SET_ORDER) and isinstance(v, list)
    }
    before = {
        name: list(as_list) for name in orders if isinstance(as_list := original.get(name), list)
    }
    for key, value in patch.items():
        if not isinstance(key, str):
            raise PatchError(f"field name {key!r} is not a string")
        if key.startswith(_SET_ORDER):
            continue  # applied below
        if key.startswith(_DELETE_PRIMITIVE):
            name = key[len(_DELETE_PRIMITIVE) :]
            if isinstance(original.get(name), list) and isinstance(value, list):
                original[name] = [v for v in original[name] if v not in value]
            continue
        if key.startswith("$"):
            raise PatchError(f"unknown patch directive {key!r}")
        if value is None:
            original.pop(key, None)
            continue
        old = original.get(key)
        if key not in original or type(old) is not type(value):
            original[key] = _without_nulls(value)
            continue
        meta = _field(definition, key)
        if isinstance(value, dict) and isinstance(old, dict):
            original[key] = _merge_map(old, value, meta.definition)
        elif isinstance(value, list) and isinstance(old, list) and "merge" in meta.strategy:
            original[key] = _merge_list(old, value, meta)
        else:
            original[key] = value
    for name, order in orders.items():
        merge_key = _field(definition, name).merge_key
        items = original.get(name)
        if merge_key and isinstance(items, list) and all(isinstance(v, dict) for v in items):
            wanted = [o for o in order if isinstance(o, dict)]
            original[name] = _normalize_order(items, wanted, before.get(name, []), merge_key)
    return original


def _merge_list(original: list[Any], patch: list[Any], meta: _Field) -> list[Any]:
    if not original and not patch:
        return original
    if meta.merge_key is None:  # a set of scalars: apimachinery's deduplicateScalars
        if any(isinstance(v, dict | list) for v in (*original, *patch)):
            raise PatchError("cannot merge a list of objects without a merge key")
        out: list[Any] = []
        for value in (*original, *patch):
            if value not in out:
                out.append(value)
        return out
    key = meta.merge_key
    if not all(isinstance(v, dict) for v in (*original, *patch)):
        raise PatchError(f"items of a list merged by {key!r} must be objects")
    if any(p.get(_DIRECTIVE) == "replace" for p in patch):
        return [
            {k: v for k, v in p.items() if k != _DIRECTIVE}
            for p in patch
            if p.get(_DIRECTIVE) != "replace"
        ]
    result = list(original)
    for item in patch:
        if key not in item:
            raise PatchError(f"a list item does not hold its merge key {key!r}")
        if item.get(_DIRECTIVE) == "delete":
            result = [o for o in result if o.get(key) != item[key]]
            continue
        found = next((i for i, o in enumerate(result) if o.get(key) == item[key]), None)
        if found is None:
            result.append(_without_nulls({k: v for k, v in item.items() if k != _DIRECTIVE}))
        else:
            result[found] = _merge_map(result[found], item, meta.definition)
    return _normalize_order(result, patch, original, key)


def _normalize_order(
    merged: list[Any], patch: list[Any], original: list[Any], key: str
) -> list[Any]:
    """apimachinery's normalizeElementOrder: the patch's items in the patch's order and the
    others in the original's, interleaved by their places in the original (mergeSortedSlice)."""
    patch_order = [p.get(key) for p in patch]
    server_order = [o.get(key) for o in original]
    right = sorted(
        (m for m in merged if m.get(key) in patch_order),
        key=lambda m: patch_order.index(m.get(key)),
    )
    left = [m for m in merged if m.get(key) not in patch_order]
    out: list[Any] = []
    i = j = 0
    while i < len(left) or j < len(right):
        if j >= len(right):
            out.append(left[i])
            i += 1
        elif i >= len(left):
            out.append(right[j])
            j += 1
        else:
            li, ri = left[i].get(key), right[j].get(key)
            if (
                li in server_order
                and ri in server_order
                and (server_order.index(li) < server_order.index(ri))
            ):
                out.append(left[i])
                i += 1
            else:
                out.append(right[j])
                j += 1
    return out


_VOLUME = "io.k8s.api.core.v1.Volume"
_ARGO: dict[str, dict[str, _Field]] = {
    # argoproj/argo-workflows pkg/apis/workflow/v1alpha1/workflow_types.go, Template's tags
    "argo.Template": {
        "volumes": _Field("merge", "name", _VOLUME),
        "initContainers": _Field("merge", "name", CONTAINER),
        "sidecars": _Field("merge", "name", CONTAINER),
        "tolerations": _Field("merge", "key", None),
        "hostAliases": _Field("merge", "ip", None),
        "container": _Field("", None, CONTAINER),
        "script": _Field("", None, CONTAINER),
        "securityContext": _Field("", None, "io.k8s.api.core.v1.PodSecurityContext"),
    },
}


def field_meta(definition: str | None, name: str) -> tuple[str, str | None, str | None]:
    """(patch strategy, merge key, definition of the value or its items) of field ``name`` of
    an object ``definition``, as the core API's OpenAPI definitions give them."""
    found = _field(definition, name)
    return found.strategy, found.merge_key, found.definition


def _field(definition: str | None, name: str) -> _Field:
    extra = _ARGO.get(definition or "")
    if extra is not None:
        return extra.get(name, _Field("", None, None))
    properties = _properties(definition) if definition else None
    schema = properties.get(name) if properties else None
    if not isinstance(schema, dict):
        return _Field("", None, None)
    return _Field(
        str(schema.get("x-kubernetes-patch-strategy") or ""),
        schema.get("x-kubernetes-patch-merge-key"),
        _child_definition(schema),
    )


def _without_nulls(value: Any) -> Any:
    """IgnoreUnmatchedNulls: a null in a value taken whole from the patch is dropped."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


# --- podSpecPatch text ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParsedPatch:
    """A ``podSpecPatch`` read as Argo Workflows reads it: the patch, or why it cannot be."""

    patch: dict[str, Any] | None
    problem: str | None = None


@lru_cache(maxsize=512)
def parse_pod_spec_patch(text: str) -> ParsedPatch:
    """Read a ``podSpecPatch`` string: JSON when it starts with ``{`` (after white space),
    else YAML, as Argo's ``ConvertYAMLToJSON``; strictly (duplicate keys refused), bounded to
    MAX_PATCH_BYTES. The result is shared: never change it."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_PATCH_BYTES:
        return ParsedPatch(None, f"longer than {MAX_PATCH_BYTES // 1024} KiB: not judged")
    if text.strip().startswith("{"):
        try:
            data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
        except (ValueError, RecursionError) as err:
            return ParsedPatch(None, f"not valid JSON: {str(err).splitlines()[0]}")
    else:
        from servegate.yamlsafe import load_text

        loaded = load_text(text, positions=False)
        if loaded.problems:
            return ParsedPatch(None, f"not valid YAML: {loaded.problems[0].message}")
        if len(loaded.documents) != 1:
            return ParsedPatch(None, "must hold exactly one YAML document")
        data = _go_yaml_booleans(text, loaded.documents[0].data)
    if not isinstance(data, dict):
        return ParsedPatch(None, "is not a mapping of pod spec fields")
    try:
        _check_field_case(data, POD_SPEC, 0)
    except PatchError as err:
        return ParsedPatch(None, str(err))
    return ParsedPatch(data)


_GO_YAML_BOOLEANS = {"y": True, "Y": True, "n": False, "N": False}
"""Plain scalars go-yaml v2 (sigs.k8s.io/yaml, Argo's YAMLToJSON) reads as booleans and YAML
1.1 resolvers like PyYAML's keep as strings."""


def _go_yaml_booleans(text: str, data: Any) -> Any:
    """``data`` with the plain ``y``/``n`` values turned into the booleans Argo sees."""
    import yaml

    try:
        from yaml import CSafeLoader as Loader
    except ImportError:  # pragma: no cover
        from yaml import SafeLoader as Loader  # type: ignore[assignment]
    if not any(word in text for word in _GO_YAML_BOOLEANS):
        return data
    root = yaml.compose(text, Loader=Loader)
    stack: list[tuple[Any, Any]] = [(root, data)]
    while stack:
        node, value = stack.pop()
        if isinstance(node, yaml.MappingNode) and isinstance(value, dict):
            for key_node, child in node.value:
                key = getattr(key_node, "value", None)
                if key in value:
                    if _is_go_boolean(child):
                        value[key] = _GO_YAML_BOOLEANS[child.value]
                    else:
                        stack.append((child, value[key]))
        elif isinstance(node, yaml.SequenceNode) and isinstance(value, list):
            for i, child in enumerate(node.value[: len(value)]):
                if _is_go_boolean(child):
                    value[i] = _GO_YAML_BOOLEANS[child.value]
                else:
                    stack.append((child, value[i]))
    return data


def _is_go_boolean(node: Any) -> bool:
    import yaml

    return (
        isinstance(node, yaml.ScalarNode)
        and not node.style  # plain (libyaml says "", PyYAML None)
        and node.tag == "tag:yaml.org,2002:str"
        and node.value in _GO_YAML_BOOLEANS
    )


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _check_field_case(value: Any, definition: str | None, depth: int) -> None:
    """Refuse keys that Go's case-insensitive JSON decoding maps onto another field's name."""
    if depth > 40:
        raise PatchError("nested too deeply")
    if isinstance(value, list):
        for item in value:
            _check_field_case(item, definition, depth + 1)
        return
    if not isinstance(value, dict) or definition is None:
        return
    properties = _properties(definition)
    if properties is None:
        return
    folded = {name.casefold(): name for name in properties}
    for key, child in value.items():
        if not isinstance(key, str) or key.startswith("$"):
            continue
        if key not in properties:
            known = folded.get(key.casefold())
            if known is not None:
                raise PatchError(
                    f"field {key!r} differs from {known!r} only in case: Kubernetes' JSON "
                    f"decoding would apply it as {known!r}; spell it {known!r}"
                )
            continue
        child_schema = properties[key]
        definition_of = _child_definition(child_schema) if isinstance(child_schema, dict) else None
        _check_field_case(child, definition_of, depth + 1)


@cache
def _definitions() -> dict[str, Any]:
    """The core API's OpenAPI definitions (kubernetes-validate's bundle, newest version)."""
    from servegate.schema.validate import _core_dir, newest_version

    path = _core_dir(newest_version()) / "_definitions.json"
    loaded = json.loads(path.read_text("utf-8"))
    defs = loaded.get("$defs") if isinstance(loaded, dict) else None
    return defs if isinstance(defs, dict) else {}


@cache
def _properties(definition: str) -> dict[str, Any] | None:
    found = _definitions().get(definition)
    properties = found.get("properties") if isinstance(found, dict) else None
    return properties if isinstance(properties, dict) else None


def _child_definition(schema: dict[str, Any]) -> str | None:
    for node in (schema, schema.get("items"), schema.get("additionalProperties")):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return ref[len("#/$defs/") :]
    return None

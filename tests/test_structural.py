"""Null values as the API server handles them (``servegate.schema.structural``): custom
resources lose the nulls of non-nullable fields before validation (or get the default), built-in
objects lose null fields (Go decodes them to unset); lists keep their nulls."""

from __future__ import annotations

import copy
from typing import Any

from servegate.schema.structural import drop_null_fields, has_null, prune_nulls, tree
from servegate.schema.validate import SchemaSet, newest_version

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "tolerations": {"type": "array", "items": {"type": "object"}},
                "note": {"type": ["string", "null"], "nullable": True},
                "replicas": {"type": "integer", "default": 1},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "free": {"type": "object"},
            },
        }
    },
}


def test_prune_nulls_drops_defaults_and_keeps() -> None:
    body = {
        "spec": {
            "tolerations": None,
            "note": None,
            "replicas": None,
            "labels": {"a": None, "b": "x"},
            "free": {"unknown": None},
        }
    }
    before = copy.deepcopy(body)
    assert prune_nulls(body, tree(SCHEMA)) == {
        "spec": {"note": None, "replicas": 1, "labels": {"b": "x"}, "free": {"unknown": None}}
    }
    assert body == before  # a copy: the object the rules see is untouched


def test_nulls_in_lists_stay() -> None:
    body = {"spec": {"tolerations": [None, {"key": "a"}]}}
    assert prune_nulls(body, tree(SCHEMA)) == body


def test_drop_null_fields_and_has_null() -> None:
    assert drop_null_fields({"a": None, "b": {"c": None, "d": 1}, "e": [None]}) == {
        "b": {"d": 1},
        "e": [None],
    }
    assert has_null({"a": [1, {"b": None}]}) and not has_null({"a": [1, {"b": 2}]})


def test_custom_resource_and_built_in_nulls_validate_as_upstream() -> None:
    schemas = SchemaSet(newest_version())
    isvc: dict[str, Any] = {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "m", "annotations": None, "labels": None},
        "spec": {
            "predictor": {
                "tolerations": None,
                "model": {"modelFormat": {"name": "sklearn"}, "env": None},
            }
        },
    }
    assert schemas.validate(isvc) == []
    isvc["spec"]["predictor"]["tolerations"] = "none"  # a wrong type is still an error
    assert schemas.validate(isvc) == [
        (("spec", "predictor", "tolerations"), '"none" is not of type "array"')
    ]
    authz = {
        "apiVersion": "security.istio.io/v1",
        "kind": "AuthorizationPolicy",
        "metadata": {"name": "deny"},
        "spec": None,
    }
    assert schemas.validate(authz) == []
    sa = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "sa", "annotations": None},
    }
    assert schemas.validate(sa) == []

"""servegate's schema verdicts agree with the upstream CRDs' own openAPIV3Schema, applied strictly.

The oracle here is independent of servegate's derivation: it reads the raw upstream CRD YAML,
closes objects the way the API server's pruning plus strict field validation does, and
validates with plain ``jsonschema`` (servegate uses derived, deduplicated schemas and
jsonschema-rs).

Null semantics, as the API server's: before validating, the oracle drops every ``null`` whose
field (object property or map value) is neither ``nullable`` nor defaulted, and replaces a
``null`` that has a ``default`` by the default (apiextensions-apiserver
``PruneNonNullableNullsWithoutDefaults`` then ``Default``); nulls in lists stay. It does so with
its own walk of the raw schema (``_prune_nulls`` below).

CEL: an object is valid only if every ``x-kubernetes-validations`` rule of the raw CRD holds too.
The oracle evaluates them the same way servegate does, with servegate's CEL evaluator
(``servegate.schema.cel.check``: same CEL implementation, Kubernetes libraries, value typing and
transition-rule skipping), but on the node tree of the raw upstream schema, so a rule, default
or type lost or changed by the derivation shows up as a disagreement.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from helpers import upstream_dir

from servegate.schema.validate import SchemaSet, newest_version

EXAMPLE_FOLDERS = ("kserve", "argo-rollouts", "argo-cd", "istio", "prometheus-operator", "iter8")
CRD_FOLDERS = (
    "crds/kserve",
    "crds/argo-rollouts",
    "crds/argo-cd",
    "crds/istio/split",
    "crds/prometheus-operator",
    # LLMInferenceService(Config), LocalModel*, Knative Serving, Prometheus/Alertmanager/...
    "crds-more/kserve-llmisvc",
    "crds-more/kserve-localmodel",
    "crds-more/knative-serving",
    "crds-more/prometheus-operator-workloads",
)

Obj = dict[str, Any]


def _close(node: Obj, structural: bool) -> Obj:
    """Upstream semantics, written out independently: unknown fields are errors unless
    x-kubernetes-preserve-unknown-fields; nullable allows null; embedded resources allow the
    object envelope. Inside anyOf/oneOf/allOf/not a schema only constrains values."""
    node = dict(node)
    for key in ("properties", "patternProperties"):
        if isinstance(node.get(key), dict):
            node[key] = {k: _close(v, structural) for k, v in node[key].items()}
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            node[key] = _close(node[key], structural)
    for key in ("anyOf", "oneOf", "allOf"):
        if isinstance(node.get(key), list):
            node[key] = [_close(v, False) for v in node[key]]
    if isinstance(node.get("not"), dict):
        node["not"] = _close(node["not"], False)
    if node.get("x-kubernetes-embedded-resource"):
        envelope = {"apiVersion": {"type": "string"}, "kind": {"type": "string"}}
        node["properties"] = {**envelope, "metadata": {"type": "object"}, **node["properties"]}
    if node.get("nullable") is True:
        if isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        if isinstance(node.get("enum"), list):
            node["enum"] = [*node["enum"], None]
    for bound in ("Minimum", "Maximum"):
        if node.get("exclusive" + bound) is True:
            node["exclusive" + bound] = node.pop(bound.lower())
        elif node.get("exclusive" + bound) is False:
            del node["exclusive" + bound]
    is_object = node.get("type") == "object" or ("type" not in node and "properties" in node)
    if (
        structural
        and is_object
        and not node.get("x-kubernetes-preserve-unknown-fields")
        and "additionalProperties" not in node
    ):
        node["additionalProperties"] = False
    return node


def _prune_nulls(value: Any, node: Obj | None) -> Any:
    """The API server's null pruning and null defaulting, on the raw schema (no $refs there)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            child = None
            if node is not None:
                child = (node.get("properties") or {}).get(key)
                if child is None and isinstance(node.get("additionalProperties"), dict):
                    child = node["additionalProperties"]
            if item is None and child is not None and child.get("nullable") is not True:
                if "default" not in child:
                    continue
                item = copy.deepcopy(child["default"])
            out[key] = _prune_nulls(item, child)
        return out
    if isinstance(value, list):
        items = node.get("items") if node is not None else None
        return [_prune_nulls(v, items if isinstance(items, dict) else None) for v in value]
    return value


class _Oracle:
    """Upstream's verdict on one kind: null pruning, the closed schema, then the CEL rules."""

    def __init__(self, raw: Obj, closed: Obj) -> None:
        from servegate.schema.structural import tree

        self.raw = raw
        self.validator = jsonschema.Draft202012Validator(closed)
        self.tree = tree(raw)

    def is_valid(self, doc: Obj) -> bool:
        from servegate.schema import cel

        doc = _prune_nulls(doc, self.raw)
        return self.validator.is_valid(doc) and not [
            f for f in cel.check(doc, self.tree) if not f.unsupported
        ]


@cache
def _oracle() -> dict[tuple[str, str], _Oracle]:
    out: dict[tuple[str, str], _Oracle] = {}
    for folder in CRD_FOLDERS:
        for file in sorted((upstream_dir() / folder).glob("*.yaml")):
            for crd in yaml.load_all(file.read_text(), Loader=yaml.CSafeLoader):
                if not crd or crd.get("kind") != "CustomResourceDefinition":
                    continue
                group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
                for version in crd["spec"]["versions"]:
                    if not version.get("served") or "schema" not in version:
                        continue
                    api_version = f"{group}/{version['name']}"
                    raw = version["schema"]["openAPIV3Schema"]
                    schema = _close(copy.deepcopy(raw), True)
                    schema["properties"] = {
                        **schema.get("properties", {}),
                        "apiVersion": {"const": api_version},
                        "kind": {"const": kind},
                        "metadata": {"type": "object"},
                    }
                    out[(api_version, kind)] = _Oracle(raw, schema)
    return out


def _examples() -> Iterator[tuple[str, Obj]]:
    root = upstream_dir() / "examples"
    for folder in EXAMPLE_FOLDERS:
        for file in sorted((root / folder).rglob("*.y*ml")):
            try:
                documents = list(yaml.load_all(file.read_text(), Loader=yaml.CSafeLoader))
            except (yaml.YAMLError, UnicodeDecodeError):
                continue  # the upstream files MANIFEST.md lists as unparseable
            for n, doc in enumerate(documents):
                if (
                    isinstance(doc, dict)
                    and isinstance(doc.get("apiVersion"), str)
                    and isinstance(doc.get("kind"), str)
                ):
                    doc.pop("_err", None)  # Istio's expected-error marker is not part of the object
                    # what the API server receives: JSON (integer keys become strings)
                    yield f"{file.relative_to(root)}#{n}", json.loads(json.dumps(doc, default=str))


@cache
def _schemas() -> SchemaSet:
    return SchemaSet(newest_version())


def _verdicts() -> list[tuple[str, bool, bool]]:
    """(where, upstream says valid, servegate says valid) for every example with a CRD."""
    oracle = _oracle()
    out = []
    for where, doc in _examples():
        validator = oracle.get((doc["apiVersion"], doc["kind"]))
        if validator is None:
            continue
        ours = _schemas().validate(doc)
        assert ours is not None, f"{where}: servegate has no schema for {doc['kind']}"
        out.append((where, validator.is_valid(doc), not ours))
    return out


@pytest.mark.upstream
@pytest.mark.slow
def test_verdicts_agree_with_upstream_crds_on_every_example() -> None:
    verdicts = _verdicts()
    disagree = [(w, up, ours) for w, up, ours in verdicts if up != ours]
    agree = len(verdicts) - len(disagree)
    print(f"schema agreement: {agree} of {len(verdicts)} objects")
    assert len(verdicts) >= 800  # the corpus is really there
    assert sum(1 for _, up, _ in verdicts if not up) >= 50  # and has invalid objects too
    assert not disagree, disagree[:10]


@pytest.mark.upstream
@pytest.mark.slow
def test_the_agreement_covers_the_crds_more_kinds() -> None:
    """The kinds added from crds-more are in the corpus above, through their upstream
    examples (KServe's samples and docs, the Iter8 samples' Knative Services)."""
    oracle = _oracle()
    seen = Counter(
        doc["kind"] for _, doc in _examples() if (doc["apiVersion"], doc["kind"]) in oracle
    )
    assert seen["LLMInferenceService"] >= 40
    assert seen["LLMInferenceServiceConfig"] >= 5
    assert seen["Service"] >= 10  # serving.knative.dev (core Services have no CRD oracle)
    assert seen["Prometheus"] >= 2


@pytest.mark.upstream
def test_istio_invalid_fixtures_with_a_schema_level_defect_are_rejected() -> None:
    oracle = _oracle()
    folder = upstream_dir() / "examples/istio/validation-crds"
    schema_level = 0
    for file in sorted(folder.glob("*-invalid.yaml")):
        for n, doc in enumerate(yaml.load_all(file.read_text(), Loader=yaml.CSafeLoader)):
            if not isinstance(doc, dict):
                continue
            doc.pop("_err")
            validator = oracle.get((doc["apiVersion"], doc["kind"]))
            if validator is None or validator.is_valid(doc):
                continue  # enforced by Istio's webhook or CEL, not by the schema
            schema_level += 1
            errors = _schemas().validate(doc)
            assert errors, f"{file.name}#{n} has a schema-level defect servegate accepts"
    print(f"istio invalid fixtures with a schema-level defect: {schema_level}, all rejected")
    assert schema_level >= 30


def _deployment(**container: Any) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27", **container}]},
            },
        },
    }


def test_valid_deployment_passes() -> None:
    assert _schemas().validate(_deployment()) == []


def test_deployment_unknown_field_is_rejected_at_its_path() -> None:
    errors = _schemas().validate(_deployment(imagePullPolicyy="Always"))
    path = ("spec", "template", "spec", "containers", 0, "imagePullPolicyy")
    assert errors == [(path, "unknown field 'imagePullPolicyy'")]


def test_deployment_wrong_type_message_is_one_short_line() -> None:
    body = _deployment()
    body["spec"]["replicas"] = {"many": ["x" * 500]}
    errors = _schemas().validate(body)
    assert errors is not None and len(errors) == 1
    path, message = errors[0]
    assert path == ("spec", "replicas")
    assert "\n" not in message and len(message) <= 200 and "integer" in message


@pytest.mark.parametrize(
    ("kind", "spec", "path"),
    [
        (
            "PersistentVolumeClaim",
            {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10GB"}}},
            ("spec", "resources", "requests", "storage"),
        ),
        (
            "ResourceQuota",
            {"hard": {"requests.memory": "1gi"}},
            ("spec", "hard", "requests.memory"),
        ),
        (
            "LimitRange",
            {"limits": [{"type": "Container", "default": {"memory": "500 Mi"}}]},
            ("spec", "limits", 0, "default", "memory"),
        ),
    ],
)
def test_every_quantity_of_a_builtin_kind_is_parsed(
    kind: str, spec: dict[str, Any], path: tuple[str | int, ...]
) -> None:
    """The API server decodes each resource.Quantity with ParseQuantity: a string outside its
    format is refused wherever it is (the bundled schemas only say "string or number")."""
    body = {"apiVersion": "v1", "kind": kind, "metadata": {"name": "x"}, "spec": spec}
    errors = _schemas().validate(body)
    assert errors is not None and [p for p, _ in errors] == [path]
    assert "quantities must match the regular expression" in errors[0][1]
    fixed = json.loads(json.dumps(body).replace('"10GB"', '"10G"').replace('"1gi"', '"1Gi"'))
    fixed = json.loads(json.dumps(fixed).replace('"500 Mi"', '"500Mi"'))
    assert _schemas().validate(fixed) == []


def test_container_quantities_are_left_to_admission_resources() -> None:
    body = _deployment(resources={"limits": {"memory": "1GB", "cpu": 0.5}})
    assert _schemas().validate(body) == []  # admission.resources reports it, once
    body["spec"]["template"]["spec"]["volumes"] = [{"name": "s", "emptyDir": {"sizeLimit": "1GB"}}]
    errors = _schemas().validate(body)
    assert errors is not None
    assert [p for p, _ in errors] == [
        ("spec", "template", "spec", "volumes", 0, "emptyDir", "sizeLimit")
    ]


def test_unknown_kind_returns_none() -> None:
    schemas = _schemas()
    assert schemas.validate({"apiVersion": "example.com/v1", "kind": "Widget"}) is None
    # the bundle's file names drop the group's domain: a look-alike group must not match
    assert schemas.validate({"apiVersion": "apps.example.com/v1", "kind": "Deployment"}) is None
    assert schemas.validate({"apiVersion": "v1", "kind": "../../etc/passwd"}) is None
    assert schemas.validate({"kind": "Pod"}) is None


def test_crd_kind_validated_from_shipped_schemas() -> None:
    body: Obj = {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "m"},
        "spec": {"predictor": {"model": {"modelFormat": {"name": "sklearn"}}}},
    }
    assert _schemas().validate(body) == []
    body["spec"]["predictor"]["model"]["storageUrl"] = "s3://x"
    assert _schemas().validate(body) == [
        (("spec", "predictor", "model", "storageUrl"), "unknown field 'storageUrl'")
    ]


def test_older_k8s_version_uses_older_core_schemas() -> None:
    # ValidatingAdmissionPolicy reached admissionregistration.k8s.io/v1 in Kubernetes 1.30
    vap: Obj = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": "p"},
        "spec": {},
    }
    assert SchemaSet((1, 30)).validate(vap) == []
    assert SchemaSet((1, 29)).validate(vap) is None


def test_extra_crd_dirs_add_and_override_kinds(tmp_path: Path) -> None:
    (tmp_path / "crd.yaml").write_text(
        """
apiVersion: v1
kind: List
items:
- apiVersion: apiextensions.k8s.io/v1
  kind: CustomResourceDefinition
  metadata: {name: widgets.example.com}
  spec:
    group: example.com
    names: {kind: Widget, plural: widgets}
    scope: Namespaced
    versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: {type: integer}
"""
    )
    schemas = SchemaSet(newest_version(), [tmp_path])
    widget: Obj = {"apiVersion": "example.com/v1", "kind": "Widget", "spec": {"size": 3}}
    assert schemas.validate(widget) == []
    widget["spec"]["colour"] = "red"
    assert schemas.validate(widget) == [(("spec", "colour"), "unknown field 'colour'")]


def test_broken_extra_crd_file_is_a_usage_error(tmp_path: Path) -> None:
    from servegate.errors import UsageError

    (tmp_path / "bad.yaml").write_text("a: [1\n")
    with pytest.raises(UsageError, match=r"bad\.yaml"):
        SchemaSet(newest_version(), [tmp_path])


def _workflow_template() -> Obj:
    container = {
        "image": "python:3.12",
        "command": ["python", "-c"],
        "args": ["print(1)"],
        "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
        "securityContext": {"runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}},
        "env": [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
    }
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTemplate",
        "metadata": {"name": "train"},
        "spec": {
            "entrypoint": "main",
            "securityContext": {"runAsNonRoot": True},
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "work"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "1Gi"}},
                    },
                }
            ],
            "templates": [
                {
                    "name": "main",
                    "dag": {"tasks": [{"name": "a", "template": "step"}]},
                },
                {
                    "name": "step",
                    "retryStrategy": {"limit": 2},
                    "inputs": {"parameters": [{"name": "p", "value": "1"}]},
                    "container": container,
                    "sidecars": [{"name": "side", **container}],
                },
                {"name": "script", "script": {**container, "source": "print(2)"}},
            ],
        },
    }


@pytest.mark.upstream
def test_argo_workflows_schemas_agree_with_upstream_crd() -> None:
    # no upstream Workflow examples: check the biggest, most $defs-shared schema on variants
    file = upstream_dir() / "crds/argo-workflows/argoproj.io_workflowtemplates.yaml"
    crd = yaml.load(file.read_text(), Loader=yaml.CSafeLoader)
    version = crd["spec"]["versions"][0]
    schema = _close(version["schema"]["openAPIV3Schema"], True)
    schema["properties"]["metadata"] = {"type": "object"}
    oracle = jsonschema.Draft202012Validator(schema)

    def variant(change: Callable[[Obj], None]) -> Obj:
        body = _workflow_template()
        change(body["spec"])
        return body

    bodies = [
        _workflow_template(),
        variant(lambda s: s["templates"][1]["container"].update(imagePullPolicyy="Always")),
        variant(lambda s: s["templates"][1]["sidecars"][0]["securityContext"].update(x=1)),
        variant(lambda s: s["templates"][2]["script"].update(source=3)),
        variant(lambda s: s["templates"][1]["retryStrategy"].update(limit=[1])),
        variant(lambda s: s["templates"][1]["retryStrategy"].update(limit="3")),
        variant(lambda s: s["templates"][0]["dag"]["tasks"][0].update(when=True)),
        variant(lambda s: s["volumeClaimTemplates"][0]["metadata"].update(labels={"a": 1})),
        variant(lambda s: s.update(entrypointt="main")),
    ]
    verdicts = [(oracle.is_valid(b), _schemas().validate(b) == []) for b in bodies]
    assert verdicts[0] == (True, True)
    assert verdicts[5] == (True, True)  # limit is int-or-string
    assert [up for up, _ in verdicts].count(False) == 7
    assert all(up == ours for up, ours in verdicts), verdicts

"""Derived CRD schemas: the x-kubernetes-* translation, strictness, $defs sharing, reproducible
output, the ``schemas build`` command, and the shipped ``schemas/crds`` being a fresh build."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from helpers import Run, upstream_dir

from servegate.datafiles import data_dir
from servegate.schema.build import DEFAULT_EXCLUDE, CRDError, attach_shared, build, derive_all

Obj = dict[str, Any]

CRD = """
apiVersion: apiextensions.k8s.io/v1
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
        description: A widget.
        type: object
        x-kubernetes-validations: [{rule: "self.spec.size < 10"}]
        properties:
          spec:
            description: The spec.
            type: object
            required: [size]
            properties:
              size: {type: integer, minimum: 0, exclusiveMinimum: true, default: 1}
              port:
                anyOf: [{type: integer}, {type: string}]
                x-kubernetes-int-or-string: true
              extra:
                type: object
                x-kubernetes-preserve-unknown-fields: true
                properties:
                  known: {type: string}
              template:
                type: object
                x-kubernetes-embedded-resource: true
                properties:
                  spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
              empty: {type: object}
              labels:
                type: object
                additionalProperties: {type: string}
              note: {type: string, nullable: true}
              mode:
                type: string
                enum: [a, b]
              either:
                type: object
                properties:
                  x: {type: string}
                  y: {type: string}
                oneOf:
                - required: [x]
                - required: [y]
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
  - name: v0
    served: false
    storage: false
    schema:
      openAPIV3Schema: {type: object}
"""


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture
def widget(tmp_path: Path) -> Callable[[Obj], bool]:
    """Validate a Widget spec against the derived schema (with plain jsonschema)."""
    _write(tmp_path / "crds", "widget.yaml", CRD)
    (derived,) = derive_all([tmp_path / "crds"])
    validator = jsonschema.Draft202012Validator(derived.schema)

    def valid(spec: Obj, /, **top: Any) -> bool:
        body = {"apiVersion": "example.com/v1", "kind": "Widget", "spec": {"size": 3, **spec}}
        return validator.is_valid({**body, **top})

    return valid


def test_only_served_versions_are_derived(tmp_path: Path) -> None:
    _write(tmp_path, "widget.yaml", CRD)
    assert [d.key for d in derive_all([tmp_path])] == ["example.com/v1/Widget"]


def test_descriptions_are_dropped_and_what_admission_needs_is_kept(tmp_path: Path) -> None:
    _write(tmp_path, "widget.yaml", CRD)
    schema = derive_all([tmp_path])[0].schema
    assert '"description"' not in json.dumps(schema)
    # the CEL rules, defaults and nullable stay for servegate.schema.cel/structural
    assert schema["x-kubernetes-validations"] == [{"rule": "self.spec.size < 10"}]
    spec = schema["properties"]["spec"]["properties"]
    assert spec["size"]["default"] == 1
    assert spec["note"]["nullable"] is True
    assert "x-kubernetes-int-or-string" not in json.dumps(schema)  # translated into a type


def test_rules_inside_value_branches_are_not_kept(tmp_path: Path) -> None:
    crd = CRD.replace(
        "                - required: [x]",
        "                - required: [x]\n                  x-kubernetes-validations: [{rule: 'false'}]",
    )
    _write(tmp_path, "widget.yaml", crd)
    schema = derive_all([tmp_path])[0].schema
    assert "'false'" not in json.dumps(schema) and '"false"' not in json.dumps(schema)


def test_root_envelope_is_constrained_and_always_allowed(widget: Callable[..., bool]) -> None:
    assert widget({}, metadata={"name": "w", "labels": {"a": "b"}})
    assert not widget({}, apiVersion="example.com/v2")
    assert not widget({}, kind="Gadget")
    assert not widget({}, metadata="w")
    assert not widget({}, unknown=1)


def test_root_listing_only_spec_still_allows_the_envelope(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "w.yaml",
        """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: widgets.example.com}
        spec:
          group: example.com
          names: {kind: Widget, plural: widgets}
          versions:
          - name: v1
            served: true
            schema:
              openAPIV3Schema:
                properties:
                  spec: {type: object, properties: {size: {type: integer}}}
        """,
    )
    schema = derive_all([tmp_path])[0].schema
    body = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {}, "spec": {"size": 1}}
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid(body)
    assert not validator.is_valid({**body, "status": {}})


def test_unknown_fields_are_errors(widget: Callable[..., bool]) -> None:
    assert widget({})
    assert not widget({"colour": "red"})
    assert not widget({"empty": {"anything": 1}})  # an object with no properties is closed
    assert widget({"empty": {}})


def test_maps_keep_their_value_schema(widget: Callable[..., bool]) -> None:
    assert widget({"labels": {"a": "b"}})
    assert not widget({"labels": {"a": 1}})


def test_int_or_string(widget: Callable[..., bool]) -> None:
    assert widget({"port": 8080})
    assert widget({"port": "http"})
    assert not widget({"port": 1.5})
    assert not widget({"port": ["http"]})
    assert not widget({"port": True})


def test_preserve_unknown_fields_opens_only_its_level(widget: Callable[..., bool]) -> None:
    assert widget({"extra": {"known": "k", "whatever": {"deep": [1]}}})
    assert not widget({"extra": {"known": 1}})  # named fields are still validated


def test_embedded_resource_allows_the_envelope(widget: Callable[..., bool]) -> None:
    envelope = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}
    assert widget({"template": {**envelope, "spec": {"containers": []}}})
    assert not widget({"template": {**envelope, "other": 1}})
    assert not widget({"template": {"kind": 3}})


def test_nullable_enum_bounds_and_required(widget: Callable[..., bool]) -> None:
    assert widget({"note": None})
    assert not widget({"mode": None})
    assert not widget({"mode": "c"})
    assert not widget({"size": 0})  # exclusiveMinimum: true with minimum 0
    assert widget({"size": 1})
    assert not widget({"size": None})
    assert not widget({}, spec={"port": 1})  # size is required


def test_value_validation_branches_do_not_close_objects(widget: Callable[..., bool]) -> None:
    assert widget({"either": {"x": "1"}})
    assert not widget({"either": {}})
    assert not widget({"either": {"x": "1", "y": "2"}})


def test_list_form_and_v1beta1_crds_are_read(tmp_path: Path) -> None:
    listing = "apiVersion: v1\nkind: List\nitems:\n" + textwrap.indent(
        textwrap.dedent(CRD).strip(), "  "
    ).replace("  apiVersion: apiextensions", "- apiVersion: apiextensions", 1)
    _write(tmp_path / "a", "list.yaml", listing)
    _write(
        tmp_path / "a",
        "old.yaml",
        """
        apiVersion: apiextensions.k8s.io/v1beta1
        kind: CustomResourceDefinition
        metadata: {name: gadgets.example.com}
        spec:
          group: example.com
          version: v1
          names: {kind: Gadget, plural: gadgets}
          validation:
            openAPIV3Schema:
              type: object
              properties:
                spec: {type: object, properties: {n: {type: integer}}}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: not-a-crd}
        """,
    )
    keys = [d.key for d in derive_all([tmp_path])]
    assert keys == ["example.com/v1/Gadget", "example.com/v1/Widget"]


def test_same_kind_twice_is_fine_only_when_identical(tmp_path: Path) -> None:
    _write(tmp_path / "a", "w.yaml", CRD)
    _write(tmp_path / "b", "w.yaml", CRD)
    assert len(derive_all([tmp_path])) == 1
    _write(tmp_path / "b", "w.yaml", CRD.replace("enum: [a, b]", "enum: [a, c]"))
    with pytest.raises(CRDError, match="differently"):
        derive_all([tmp_path])


def test_repeated_subschemas_are_shared_under_defs(tmp_path: Path) -> None:
    container = {
        "type": "object",
        "properties": {f"field{i}": {"type": "string", "maxLength": 63} for i in range(12)},
    }
    crd = json.loads(json.dumps(_yaml(CRD)))
    spec_props = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    spec_props["properties"]["main"] = container
    spec_props["properties"]["sidecars"] = {"type": "array", "items": container}
    (tmp_path / "w.json.yaml").write_text(json.dumps(crd))
    schema = derive_all([tmp_path])[0].schema
    assert len(schema["$defs"]) == 1
    (name,) = schema["$defs"]
    ref = {"$ref": f"#/$defs/{name}"}
    assert schema["properties"]["spec"]["properties"]["main"] == ref
    assert schema["properties"]["spec"]["properties"]["sidecars"]["items"] == ref
    validator = jsonschema.Draft202012Validator(schema)
    body = {"apiVersion": "example.com/v1", "kind": "Widget", "spec": {"size": 1}}
    assert validator.is_valid({**body, "spec": {"size": 1, "sidecars": [{"field3": "x"}]}})
    assert not validator.is_valid({**body, "spec": {"size": 1, "sidecars": [{"nope": "x"}]}})
    assert not validator.is_valid({**body, "spec": {"size": 1, "main": {"field1": "x" * 64}}})


def test_build_is_reproducible_and_removes_stale_files(tmp_path: Path) -> None:
    _write(tmp_path / "src", "w.yaml", CRD)
    one, two = tmp_path / "one", tmp_path / "two"
    build([tmp_path / "src"], one)
    build([tmp_path / "src"], two)
    files = sorted(p.name for p in one.iterdir())
    assert files == ["example.com_v1_widget.json", "index.json", "shared.json"]
    for name in files:
        assert (one / name).read_bytes() == (two / name).read_bytes()
    index = json.loads((one / "index.json").read_text())
    assert index == {"example.com/v1/Widget": "example.com_v1_widget.json"}
    (one / "mine.txt").write_text("kept")
    _write(tmp_path / "src", "w.yaml", CRD.replace("kind: Widget", "kind: Gizmo"))
    build([tmp_path / "src"], one)
    assert sorted(p.name for p in one.iterdir()) == [
        "example.com_v1_gizmo.json",
        "index.json",
        "mine.txt",
        "shared.json",
    ]


def test_cli_builds_and_reports_bad_files(tmp_path: Path, cli: Callable[..., Run]) -> None:
    _write(tmp_path / "src", "w.yaml", CRD)
    run = cli("schemas", "build", "--from", tmp_path / "src", "--out", tmp_path / "out")
    assert run.code == 0, run.err
    assert (tmp_path / "out" / "example.com_v1_widget.json").is_file()
    _write(tmp_path / "src", "bad.yaml", "a: [1\n")
    run = cli("schemas", "build", "--from", tmp_path / "src", "--out", tmp_path / "out")
    assert run.code == 2
    assert "bad.yaml:" in run.err and "Traceback" not in run.err


def _yaml(text: str) -> Obj:
    import yaml

    data: Obj = yaml.safe_load(textwrap.dedent(text))
    return data


# The kinds servegate must ship a schema for (ARCHITECTURE.md and the validation issue).
REQUIRED_KINDS = {
    "serving.kserve.io/v1beta1/InferenceService",
    "serving.kserve.io/v1alpha1/ServingRuntime",
    "serving.kserve.io/v1alpha1/ClusterServingRuntime",
    "serving.kserve.io/v1alpha1/InferenceGraph",
    "serving.kserve.io/v1alpha1/TrainedModel",
    "serving.kserve.io/v1alpha1/ClusterStorageContainer",
    *(
        f"argoproj.io/v1alpha1/{k}"
        for k in [
            "Rollout",
            "AnalysisTemplate",
            "ClusterAnalysisTemplate",
            "AnalysisRun",
            "Experiment",
            "Application",
            "ApplicationSet",
            "AppProject",
            "Workflow",
            "WorkflowTemplate",
            "ClusterWorkflowTemplate",
            "CronWorkflow",
        ]
    ),
    *(
        f"security.istio.io/{v}/{k}"
        for v in ("v1", "v1beta1")
        for k in ("AuthorizationPolicy", "PeerAuthentication", "RequestAuthentication")
    ),
    *(
        f"networking.istio.io/{v}/{k}"
        for v in ("v1", "v1alpha3", "v1beta1")
        for k in ("VirtualService", "DestinationRule", "Gateway", "Sidecar")
    ),
    *(f"monitoring.coreos.com/v1/{k}" for k in ("PrometheusRule", "ServiceMonitor", "PodMonitor")),
    # from crds-more
    *(
        f"serving.kserve.io/{v}/{k}"
        for v in ("v1alpha1", "v1alpha2")
        for k in ("LLMInferenceService", "LLMInferenceServiceConfig")
    ),
    *(
        f"serving.kserve.io/v1alpha1/LocalModel{k}"
        for k in ("Cache", "NamespaceCache", "NodeGroup", "Node")
    ),
    *(f"serving.knative.dev/v1/{k}" for k in ("Service", "Configuration", "Revision", "Route")),
    *(f"monitoring.coreos.com/v1/{k}" for k in ("Prometheus", "Alertmanager", "ThanosRuler")),
}


def test_shipped_schemas_cover_the_required_kinds_within_size_limits() -> None:
    shipped = data_dir("schemas") / "crds"
    index = json.loads((shipped / "index.json").read_text())
    assert set(index) >= REQUIRED_KINDS
    assert not [k for k in index if k.startswith("iter8.tools/")]
    files = sorted(shipped.glob("*.json"))
    assert {p.name for p in files} == {*index.values(), "index.json", "shared.json"}
    assert sum(p.stat().st_size for p in files) < 1024 * 1024  # the wheel stays small


@pytest.mark.upstream
@pytest.mark.slow
def test_shipped_schemas_equal_a_fresh_build(tmp_path: Path, cli: Callable[..., Run]) -> None:
    sources = [upstream_dir() / "crds", upstream_dir() / "crds-more"]
    run = cli(  # what `make schemas` runs
        "schemas", "build", "--from", sources[0], "--from", sources[1], "--out", tmp_path
    )
    assert run.code == 0, run.err
    shipped = data_dir("schemas") / "crds"
    fresh = {p.name: p.read_bytes() for p in sorted(tmp_path.iterdir())}
    assert sorted(fresh) == sorted(p.name for p in shipped.glob("*.json")), "run `make schemas`"
    stale = [name for name, data in fresh.items() if (shipped / name).read_bytes() != data]
    assert not stale, f"schemas/crds is stale, run `make schemas`: {stale}"
    # each shipped schema, its shared subschemas attached, is the self-contained derivation
    index = json.loads((shipped / "index.json").read_text())
    for item in derive_all(sources, exclude=DEFAULT_EXCLUDE):
        loaded = json.loads((shipped / index[item.key]).read_text())
        assert _expanded(attach_shared(loaded, shipped)) == _expanded(item.schema), item.key


def _expanded(schema: Obj) -> Any:
    """``schema`` with every ``#/$defs/`` reference replaced by its subschema."""
    defs = schema.get("$defs", {})

    def expand(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return expand(defs[ref[len("#/$defs/") :]])
            return {k: expand(v) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [expand(v) for v in node]
        return node

    return expand(schema)


def test_subschemas_several_kinds_repeat_are_shared_across_files(tmp_path: Path) -> None:
    container = {
        "type": "object",
        "properties": {f"field{i}": {"type": "string", "maxLength": 63} for i in range(12)},
    }
    probe = {"type": "object", "properties": {f"p{i}": {"type": "integer"} for i in range(20)}}
    for kind, extra in (
        ("Widget", {"mine": {"type": "array", "items": probe}, "also": probe}),
        ("Gadget", {}),
    ):
        crd = json.loads(
            json.dumps(_yaml(CRD.replace("Widget", kind).replace("widgets", kind.lower() + "s")))
        )
        spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
        spec["properties"].update({"main": container, **extra})
        (tmp_path / "src").mkdir(exist_ok=True)
        (tmp_path / "src" / f"{kind}.json.yaml").write_text(json.dumps(crd))
    build([tmp_path / "src"], tmp_path / "out")
    shared = json.loads((tmp_path / "out" / "shared.json").read_text())["$defs"]
    widget = json.loads((tmp_path / "out" / "example.com_v1_widget.json").read_text())
    # the container is in both kinds: shared; the probe only in Widget (twice): local
    assert list(shared) == ["shared.main"]
    assert widget["properties"]["spec"]["properties"]["main"] == {"$ref": "#/$defs/shared.main"}
    [(local, probe_def)] = widget["$defs"].items()
    assert not local.startswith("shared.") and set(probe_def["properties"]) == set(
        probe["properties"]
    )
    whole = attach_shared(widget, tmp_path / "out")
    validator = jsonschema.Draft202012Validator(whole)
    body = {"apiVersion": "example.com/v1", "kind": "Widget", "spec": {"size": 1}}
    assert validator.is_valid({**body, "spec": {"size": 1, "main": {"field1": "x"}}})
    assert not validator.is_valid({**body, "spec": {"size": 1, "main": {"field1": "x" * 64}}})
    assert not validator.is_valid({**body, "spec": {"size": 1, "mine": [{"p1": "x"}]}})


@pytest.mark.upstream
def test_shipped_kserve_015_schemas_equal_a_fresh_build(
    tmp_path: Path, cli: Callable[..., Run]
) -> None:
    source = upstream_dir() / "crds-versions/kserve-v0.15.2"
    run = cli("schemas", "build", "--from", source, "--out", tmp_path)  # what `make schemas` runs
    assert run.code == 0, run.err
    shipped = data_dir("schemas") / "kserve-v0.15"
    fresh = {p.name: p.read_bytes() for p in sorted(tmp_path.iterdir())}
    assert sorted(fresh) == sorted(p.name for p in shipped.glob("*.json")), "run `make schemas`"
    assert [n for n, data in fresh.items() if (shipped / n).read_bytes() != data] == []


def test_every_shipped_schema_file_is_under_a_megabyte() -> None:
    files = sorted((data_dir("schemas")).rglob("*.json"))
    assert any(p.parent.name == "kserve-v0.15" for p in files)
    assert [p.name for p in files if p.stat().st_size >= 1024 * 1024] == []


CANARY_ISVC = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: m, namespace: ml}
spec:
  predictor:
    model: {modelFormat: {name: sklearn}, storageUri: "s3://b/m"}
  canary:
    - trafficPercent: 10
      predictor:
        name: v2
        model: {name: kserve-container, modelFormat: {name: sklearn}, storageUri: "s3://b/m2"}
---
apiVersion: serving.kserve.io/v1alpha1
kind: LocalModelNamespaceCache
metadata: {name: c, namespace: ml}
spec: {sourceModelUri: "s3://b/m", modelSize: 1Gi, nodeGroups: [g]}
"""


def test_the_kserve_version_selects_its_crd_schemas(
    tree: Callable[..., Path], cli: Callable[..., Run], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """spec.canary exists from KServe 0.20 and LocalModelNamespaceCache after 0.15: under
    --kserve-version 0.15 (v0.15.2's CRDs) the first is an unknown field and the second an
    unknown kind; under the default (main) neither."""
    root = tree({"isvc.yaml": CANARY_ISVC})
    newest = cli("check", root, "--format", "json", "--select", "schema")
    assert newest.code == 0, newest.out
    old = cli(
        "check", root, "--format", "json", "--select", "schema", "--kserve-version", "v0.15.2"
    )
    found = {(f["rule"], f["resource"]["kind"]) for f in json.loads(old.out)["findings"]}
    assert found == {
        ("schema.invalid", "InferenceService"),
        ("schema.unknown-kind", "LocalModelNamespaceCache"),
    }
    assert "canary" in old.out
    operator = tmp_path_factory.mktemp("op") / "operator.yaml"
    operator.write_text("version: 1\nkserveVersion: '0.15'\n", encoding="utf-8")
    same = cli(
        "check", root, "--format", "json", "--select", "schema", "--operator-config", operator
    )
    assert json.loads(same.out)["findings"] == json.loads(old.out)["findings"]


@pytest.mark.parametrize(
    ("version", "schemas"),
    [("0.15", "0.15"), ("v0.15.2", "0.15"), ("0.18", "0.21"), ("main", "0.21")],
)
def test_every_supported_version_is_judged_by_a_shipped_schema_set(
    version: str, schemas: str
) -> None:
    from servegate.schema.validate import kserve_schema_version

    assert kserve_schema_version(version) == schemas


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--kserve-version", "0.14"), "supports 0.15 to 0.21"),
        (("--kserve-version", "1.0"), "supports 0.15 to 0.21"),
        (("--kserve-version", "latest"), "supports 0.15 to 0.21"),
        (("--k8s-version", "1.99"), "supported versions are 1."),
    ],
)
def test_unsupported_versions_are_refused_at_once(
    tree: Callable[..., Path], cli: Callable[..., Run], args: tuple[str, ...], needle: str
) -> None:
    run = cli("check", tree({"isvc.yaml": CANARY_ISVC}), *args)
    assert run.code == 2 and needle in run.err and run.out == ""

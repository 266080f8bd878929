"""servegate new: every option combination renders with real kustomize, validates strictly
against the upstream CRDs (schemas derived here, independently of servegate's schema code) and
kubernetes-validate, carries only PromQL that parses, and is what a cluster runs: the mesh's
labels and Pod Security, the principals that really call the model, a runtime that serves the
model, canaries a version of KServe routes.

The matrix is pairwise (allpairspy), not the full product: every pair of option values appears
in at least one generated repo (deployment mode, mesh, KServe version, ingress gateway, storage
credentials, framework, environments, canary), about 40 repos instead of thousands; CI has two
cores. tests/test_generator_check.py runs ``servegate check`` over the same repos.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import promql_parser
import pytest
import yaml
from allpairspy import AllPairs
from helpers import Run, upstream_dir

from servegate import kserve_runtimes
from servegate.datafiles import data_dir
from servegate.generate import INGRESS_GATEWAYS, GenerateError, Options, add_mappings, generate

KUBECTL = Path(sys.executable).parent / "kubectl"
STORAGE = {
    "sklearn": "gs://kfserving-examples/models/sklearn/1.0/model",
    "xgboost": "gs://kfserving-examples/models/xgboost/iris",
    "lightgbm": "s3://models-bucket/lightgbm/iris",
    "pytorch": "s3://models-bucket/torch/mnist",
    "tensorflow": "gs://kfserving-examples/models/tensorflow/flowers",
    "onnx": "s3://models-bucket/onnx/style",
    "huggingface": "hf://distilbert/distilbert-base-uncased",
}
IDENTITY = {
    "none": "",
    "irsa": "arn:aws:iam::123456789012:role/fraud-model-reader",
    "workload-identity": "fraud-reader@ml-project-1.iam.gserviceaccount.com",
    "secret": "fraud-model-s3",
}
ACTIVATOR = "cluster.local/ns/knative-serving/sa/activator"
#: option -> values the matrix pairs
AXES: dict[str, list[Any]] = {
    "mode": ["knative", "standard"],
    "mesh": ["istio-cni", "ambient", "none", "sidecar"],
    "kserve": ["0.21", "0.20", "0.15", "0.17"],
    "gateway": ["istio-ingressgateway", "istio-gateway", "gateway-api"],
    "auth": ["none", "irsa", "workload-identity", "secret"],
    "framework": list(STORAGE),
    "envs": [("dev", "staging", "prod"), ("prod",), ("dev", "staging")],
    "canary": [True, False],
}
#: options that change one file each, not how others combine: every row takes the next value
#: (the protocol: the next one KServe's default runtimes serve for the row's framework)
EXTRA: dict[str, list[Any]] = {"plugin": [False, True], "protocol": ["", "v2", "grpc-v2"]}


def _valid(row: list[Any]) -> bool:
    """Combinations `new` accepts (the refusals have their own tests)."""
    v = dict(zip(AXES, row, strict=False))
    if v.get("gateway") == "gateway-api" and v.get("mode") == "knative":
        return False
    scheme = STORAGE[v["framework"]].split(":")[0] if "framework" in v else None
    if scheme and v.get("auth") == "irsa" and scheme != "s3":
        return False
    if scheme and v.get("auth") == "workload-identity" and scheme != "gs":
        return False
    # Standard-mode canaries routed: only after v0.20.0 (else `new` switches to Knative,
    # which then cannot use the Gateway API preset: refused)
    refused = (
        v.get("gateway") == "gateway-api"
        and v.get("canary")
        and "prod" in v.get("envs", ())
        and v.get("kserve") not in (None, "0.21")
    )
    return not refused


def _extended(rows: list[list[Any]]) -> list[list[Any]]:
    """``rows`` with the EXTRA options, cycling through their values."""
    out = []
    for i, row in enumerate(rows):
        v = dict(zip(AXES, row, strict=True))
        served = kserve_runtimes.protocols_served(
            kserve_runtimes.default_runtimes(v["kserve"]), v["framework"]
        )
        protocols = [p for p in EXTRA["protocol"] if not p or p in served]
        out.append([*row, EXTRA["plugin"][i % 2], protocols[i % len(protocols)]])
    return out


def _combo_id(row: list[Any]) -> str:
    words = []
    for axis, value in zip([*AXES, *EXTRA], row, strict=True):
        if axis == "protocol":
            words.append(value or "defaultprotocol")
        elif isinstance(value, bool):
            words.append(axis if value else f"no{axis}")
        else:
            words.append("+".join(value) if isinstance(value, tuple) else str(value))
    return "-".join(words)


COMBOS = [
    pytest.param(*row, id=_combo_id(row))
    for row in _extended([list(r) for r in AllPairs(list(AXES.values()), filter_func=_valid)])
]
PARAMS = (*AXES, *EXTRA)


def sidecar_profiles(target: Path, envs: tuple[str, ...]) -> None:
    """Repo profiles that allow a privileged namespace (what --mesh sidecar requires)."""
    folder = target / "environments"
    folder.mkdir(parents=True, exist_ok=True)
    for env in envs:
        text = (data_dir("environments") / f"{env}.yaml").read_text()
        text = text.replace(
            "podSecurity: restricted\n", "podSecurity: restricted\nallowPrivilegedNamespace: true\n"
        )
        (folder / f"{env}.yaml").write_text(text)


def make_repo(root: Path, **kwargs: Any) -> Path:
    repo = root / "repo"
    force = False
    if kwargs.get("mesh") == "sidecar":
        sidecar_profiles(repo, tuple(kwargs.get("envs", ("dev", "staging", "prod"))))
        force = True
    generate(Options(**kwargs), repo, force=force)
    return repo


def options_for(
    mode: str,
    mesh: str,
    kserve: str,
    gateway: str,
    auth: str,
    framework: str,
    envs: tuple[str, ...],
    canary: bool,
    plugin: bool = False,
    protocol: str = "",
) -> dict[str, Any]:
    return {
        "model_name": "fraud-model",
        "framework": framework,
        "storage_uri": STORAGE[framework],
        "deployment_mode": mode,
        "mesh": mesh,
        "kserve_version": kserve,
        "ingress_gateway": gateway,
        "storage_auth": auth,
        "storage_identity": IDENTITY[auth],
        "envs": envs,
        "canary": canary,
        "argocd_plugin": plugin,
        "protocol_version": protocol,
    }


def kustomize(overlay: Path) -> list[dict[str, Any]]:
    out = subprocess.run(
        [str(KUBECTL), "kustomize", str(overlay)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def overlays(repo: Path) -> list[Path]:
    return sorted(p.parent for p in (repo / "overlays").glob("*/kustomization.yaml"))


def plain_manifests(repo: Path) -> list[dict[str, Any]]:
    """Objects outside the overlays that Argo CD's platform applies (argocd/)."""
    docs: list[dict[str, Any]] = []
    for path in sorted((repo / "argocd").rglob("*.yaml")):
        docs.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return docs


# --- strict CRD schemas, derived here from the raw upstream CRDs -------------------------------


def _strict(schema: Any) -> Any:
    """additionalProperties: false wherever properties are listed and unknown fields are not
    explicitly preserved; int-or-string made explicit."""
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _strict(v) for k, v in schema.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    if out.get("x-kubernetes-int-or-string") and "anyOf" not in out:
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    return out


@cache
def crd_validators() -> dict[tuple[str, str], jsonschema.protocols.Validator]:
    """(apiVersion, kind) -> strict validator, for every served version of every upstream CRD."""
    validators: dict[tuple[str, str], jsonschema.protocols.Validator] = {}
    crds = upstream_dir() / "crds"
    for path in sorted(crds.rglob("*.yaml")):
        # the generator writes no Argo Workflows or legacy Iter8 kinds (and those CRDs are huge)
        if "crd-all.gen" in path.name or path.parent.name in ("argo-workflows", "iter8"):
            continue
        for doc in yaml.load_all(path.read_text(), Loader=yaml.CSafeLoader):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            group = doc["spec"]["group"]
            kind = doc["spec"]["names"]["kind"]
            for version in doc["spec"]["versions"]:
                schema = version.get("schema", {}).get("openAPIV3Schema")
                if schema:
                    schema = dict(schema)
                    # some CRDs (Istio) list only spec/status at the top; the envelope is implied
                    schema["properties"] = {
                        "apiVersion": {"type": "string"},
                        "kind": {"type": "string"},
                        "metadata": {"type": "object"},
                        **schema.get("properties", {}),
                    }
                    validators[(f"{group}/{version['name']}", kind)] = (
                        jsonschema.Draft202012Validator(_strict(schema))
                    )
    return validators


@cache
def kserve_v015_validators() -> dict[tuple[str, str], jsonschema.protocols.Validator]:
    """The same, for KServe v0.15.2's CRDs (crds-versions/): KServe 0.15 and 0.16 models."""
    validators: dict[tuple[str, str], jsonschema.protocols.Validator] = {}
    for path in sorted((upstream_dir() / "crds-versions" / "kserve-v0.15.2").glob("*.yaml")):
        doc = yaml.load(path.read_text(), Loader=yaml.CSafeLoader)
        for version in doc["spec"]["versions"]:
            schema = version["schema"]["openAPIV3Schema"]
            key = (f"{doc['spec']['group']}/{version['name']}", doc["spec"]["names"]["kind"])
            validators[key] = jsonschema.Draft202012Validator(_strict(schema))
    return validators


def validate_object(obj: dict[str, Any], kserve: str = "0.21") -> list[str]:
    """Problems of one object: CRD kinds strictly against upstream (KServe kinds against the
    CRDs of ``kserve``'s release line), core kinds via kubernetes-validate (strict); an unknown
    kind is itself a problem."""
    key = (obj["apiVersion"], obj["kind"])
    where = f"{obj['kind']}/{obj['metadata']['name']}"
    validator = crd_validators().get(key)
    if kserve in ("0.15", "0.16") and key[0].startswith("serving.kserve.io/"):
        validator = kserve_v015_validators()[key]
    if validator is not None:
        return [
            f"{where}: {'.'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(obj)
        ]
    try:
        kubernetes_validate.validate(obj, "1.37.0", strict=True)
    except kubernetes_validate.ValidationError as err:
        return [f"{where}: {err}"]
    except kubernetes_validate.SchemaNotFoundError:
        return [f"{where}: no schema for {key}"]
    return []


# --- PromQL ----------------------------------------------------------------------------------


def promql_expressions(objs: list[dict[str, Any]]) -> Iterator[str]:
    for obj in objs:
        if obj["kind"] in ("AnalysisTemplate", "ClusterAnalysisTemplate"):
            for metric in obj["spec"]["metrics"]:
                yield metric["provider"]["prometheus"]["query"]
        elif obj["kind"] == "PrometheusRule":
            for group in obj["spec"]["groups"]:
                for rule in group["rules"]:
                    yield rule["expr"]


def check_analysis_templates(objs: list[dict[str, Any]]) -> None:
    for obj in objs:
        if obj["kind"] not in ("AnalysisTemplate", "ClusterAnalysisTemplate"):
            continue
        declared = {a["name"] for a in obj["spec"].get("args", [])}
        used = set(re.findall(r"\{\{\s*args\.([-\w]+)\s*\}\}", json.dumps(obj)))
        assert used <= declared, f"{obj['metadata']['name']}: undeclared args {used - declared}"
        for metric in obj["spec"]["metrics"]:
            cond = metric["successCondition"]
            # an empty result or NaN must fail, never pass
            assert "len(result) > 0" in cond and "!isNaN(result[0])" in cond, cond


# --- the matrix --------------------------------------------------------------------------------


def _principals(policy: dict[str, Any]) -> set[str]:
    return {
        p
        for rule in policy["spec"]["rules"]
        for f in rule.get("from", [])
        for p in f["source"].get("principals", [])
    }


@pytest.mark.parametrize(PARAMS, COMBOS)
def test_every_combination_renders_and_validates(
    tmp_path: Path,
    mode: str,
    mesh: str,
    kserve: str,
    gateway: str,
    auth: str,
    framework: str,
    envs: tuple[str, ...],
    canary: bool,
    plugin: bool,
    protocol: str,
) -> None:
    opts = options_for(mode, mesh, kserve, gateway, auth, framework, envs, canary, plugin, protocol)
    repo = make_repo(tmp_path, **opts)
    answers = json.loads((repo / ".servegate-answers.json").read_text())
    # Standard mode keeps its canaries only where KServe routes them (after v0.20.0, Gateway API)
    canary_envs = [e for e in envs if canary and e == "prod"]
    routed = kserve == "0.21" and gateway == "gateway-api"
    effective = "knative" if mode == "standard" and canary_envs and not routed else mode
    assert answers["deployment_mode"] == effective
    new_names = kserve not in ("0.15",)
    mode_name = {
        ("knative", True): "Knative",
        ("standard", True): "Standard",
        ("knative", False): "Serverless",
        ("standard", False): "RawDeployment",
    }[(effective, new_names)]
    assert [p.name for p in overlays(repo)] == sorted(envs)
    config = yaml.safe_load((repo / "servegate.yaml").read_text())
    assert config["kserveVersion"] == kserve
    assert config["policy"]["mesh"] == mesh
    problems: list[str] = []
    everything: list[dict[str, Any]] = []
    for overlay in overlays(repo):
        objs = kustomize(overlay)
        everything.extend(objs)
        by_kind: dict[str, list[dict[str, Any]]] = {}
        for o in objs:
            by_kind.setdefault(o["kind"], []).append(o)
        expected = {"Namespace", "ServiceAccount", "Role", "RoleBinding", "InferenceService"}
        if mesh != "none":
            expected |= {"PeerAuthentication", "AuthorizationPolicy"}
        assert expected <= set(by_kind)
        assert ("AuthorizationPolicy" in by_kind) == (mesh != "none")
        # the mesh decides namespace labels and Pod Security
        labels = by_kind["Namespace"][0]["metadata"]["labels"]
        assert (labels.get("istio-injection") == "enabled") == (mesh in ("istio-cni", "sidecar"))
        assert (labels.get("istio.io/dataplane-mode") == "ambient") == (mesh == "ambient")
        enforce = labels["pod-security.kubernetes.io/enforce"]
        assert enforce == ("privileged" if mesh == "sidecar" else "restricted")
        assert labels["pod-security.kubernetes.io/warn"] == "restricted"
        # the principals that really call the model
        if mesh != "none":
            policy = by_kind["AuthorizationPolicy"][0]
            principals = _principals(policy)
            assert INGRESS_GATEWAYS[gateway][0] in principals
            assert (ACTIVATOR in principals) == (effective == "knative")
            assert not any(p.endswith("/sa/controller") for p in principals)
            if mesh == "ambient":  # ztunnel enforces layer 4 only
                assert "paths" not in json.dumps(policy) and "methods" not in json.dumps(policy)
        isvc = by_kind["InferenceService"][0]
        annotations = isvc["metadata"]["annotations"]
        assert annotations["serving.kserve.io/deploymentMode"] == mode_name
        spec = isvc["spec"]
        predictor = spec["predictor"]
        with_canary = overlay.name in canary_envs
        if effective == "knative":
            assert ("canaryTrafficPercent" in predictor) == with_canary
            assert "canary" not in spec
            if overlay.name == "dev":
                assert predictor["minReplicas"] == 0  # scale to zero
        else:
            assert "canaryTrafficPercent" not in predictor
            assert ("canary" in spec) == with_canary
            assert predictor["minReplicas"] >= 1
            if with_canary:
                entry = spec["canary"][0]
                assert entry["trafficPercent"] == 10
                assert entry["predictor"]["name"] == "v2"
                assert not {"minReplicas", "maxReplicas", "scaleTarget"} & set(entry["predictor"])
        model = predictor["model"]
        assert model["modelFormat"]["name"] == framework
        default = "v2" if framework == "onnx" else None
        assert model.get("protocolVersion") == (protocol if protocol else default)
        assert model["resources"]["requests"] == model["resources"]["limits"]
        # storage credentials on the model's ServiceAccount
        sa = by_kind["ServiceAccount"][0]
        sa_annotations = sa["metadata"].get("annotations", {})
        assert (sa_annotations.get("eks.amazonaws.com/role-arn") == IDENTITY[auth]) == (
            auth == "irsa"
        )
        assert (sa_annotations.get("iam.gke.io/gcp-service-account") == IDENTITY[auth]) == (
            auth == "workload-identity"
        )
        assert (sa.get("secrets") == [{"name": IDENTITY[auth]}]) == (auth == "secret")
        assert sa["automountServiceAccountToken"] is False
        problems.extend(f"{overlay.name}: {p}" for o in objs for p in validate_object(o, kserve))
    plain = plain_manifests(repo)
    assert {o["kind"] for o in plain} == {"AppProject", "Application"}
    apps = [o for o in plain if o["kind"] == "Application"]
    assert len(apps) == len(envs)
    for app in apps:
        assert app["metadata"]["annotations"]["argocd.argoproj.io/compare-options"] == (
            "ServerSideDiff=true"
        )
        assert app["spec"]["source"].get("plugin") == ({"name": "servegate-v1"} if plugin else None)
        ignored = [
            e for d in app["spec"].get("ignoreDifferences", []) for e in d["jqPathExpressions"]
        ]
        # only what KServe writes: the modelFormat annotation, from 0.17 (kserve#4953)
        assert ignored == ([] if kserve == "0.15" else [".metadata.annotations.modelFormat"])
    problems.extend(p for o in plain for p in validate_object(o))
    assert problems == []
    exprs = list(promql_expressions(everything))
    # per overlay: 4 analysis queries (canary and canary-vs-stable, errors and latency), the
    # error and latency alerts, and absent-data alerts where the environment keeps replicas
    analysis = [o for o in everything if o["kind"] == "AnalysisTemplate"]
    assert sum(len(o["spec"]["metrics"]) for o in analysis) == 4 * len(envs)
    assert len(exprs) >= 6 * len(envs)
    for expr in exprs:  # as Prometheus receives them (Argo Rollouts substitutes the args)
        promql_parser.parse(re.sub(r"\{\{\s*args\.[-\w]+\s*\}\}", "ml-x-prod", expr))
    check_analysis_templates(everything)
    assert not (repo / "iter8").exists()


def test_matrix_covers_mesh_and_modes_and_stays_small() -> None:
    """Pairwise, not the product (CI has two cores), yet every mesh meets both modes, every
    KServe version meets both modes, and every mesh meets every gateway."""
    rows = [dict(zip(PARAMS, p.values, strict=True)) for p in COMBOS]
    assert 20 <= len(rows) <= 60, len(rows)
    assert {r["plugin"] for r in rows} == {False, True}
    assert {r["protocol"] for r in rows} == set(EXTRA["protocol"])
    for a, b in (("mode", "mesh"), ("mode", "kserve"), ("mesh", "gateway"), ("auth", "mode")):
        seen = {(r[a], r[b]) for r in rows}
        for va in AXES[a]:
            for vb in AXES[b]:
                if {a: va, b: vb} == {"mode": "knative", "gateway": "gateway-api"}:
                    continue
                assert (va, vb) in seen, f"{a}={va}, {b}={vb} is never generated"


def test_prod_overlay_holds_the_quick_recipe(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    objs = {(o["kind"], o["metadata"]["name"]): o for o in kustomize(repo / "overlays" / "prod")}
    ns = objs[("Namespace", "ml-sklearn-iris-prod")]
    labels = ns["metadata"]["labels"]
    for mode in ("enforce", "warn", "audit"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
    assert labels["pod-security.kubernetes.io/enforce-version"] == "v1.37"
    assert labels["istio-injection"] == "enabled"
    sa = objs[("ServiceAccount", "sklearn-iris-sa")]
    assert sa["automountServiceAccountToken"] is False
    role = objs[("Role", "sklearn-iris-read-self")]
    for rule in role["rules"]:
        for field in ("apiGroups", "resources", "verbs"):
            assert "*" not in rule[field]
        assert "secrets" not in rule["resources"]
    binding = objs[("RoleBinding", "sklearn-iris-read-self")]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "sklearn-iris-sa", "namespace": "ml-sklearn-iris-prod"}
    ]
    isvc = objs[("InferenceService", "sklearn-iris")]
    assert isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Knative"
    assert isvc["metadata"]["annotations"]["autoscaling.knative.dev/target-burst-capacity"] == "200"
    predictor = isvc["spec"]["predictor"]
    assert predictor["canaryTrafficPercent"] == 10
    assert predictor["serviceAccountName"] == "sklearn-iris-sa"
    sc = predictor["model"]["securityContext"]
    assert sc["runAsNonRoot"] is True and sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert predictor["model"]["resources"]["limits"] == {"cpu": "2", "memory": "4Gi"}
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (2, 10)
    assert objs[("PeerAuthentication", "default")]["spec"]["mtls"]["mode"] == "STRICT"
    policy = objs[("AuthorizationPolicy", "sklearn-iris-allow-callers")]
    assert policy["spec"]["action"] == "ALLOW"
    assert _principals(policy) == {
        "cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account",
        ACTIVATOR,
    }
    probes = [r for r in policy["spec"]["rules"] if "to" in r]
    assert probes == [
        {
            "from": [{"source": {"namespaces": ["knative-serving"]}}],
            "to": [{"operation": {"methods": ["GET"], "paths": ["/healthz", "/metrics"]}}],
        }
    ]


def test_sync_policy_and_waves_follow_the_profiles(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    apps = {o["metadata"]["name"]: o for o in plain_manifests(repo) if o["kind"] == "Application"}
    assert apps["sklearn-iris-dev"]["spec"]["syncPolicy"]["automated"]["selfHeal"] is True
    assert "automated" not in apps["sklearn-iris-prod"]["spec"]["syncPolicy"]
    waves = {
        o["kind"]: int(o["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
        for o in kustomize(repo / "overlays" / "dev")
        if "argocd.argoproj.io/sync-wave" in o["metadata"].get("annotations", {})
    }
    assert waves["Namespace"] < waves["ServiceAccount"] == waves["Role"] < waves["InferenceService"]
    project = next(o for o in plain_manifests(repo) if o["kind"] == "AppProject")
    assert project["spec"]["clusterResourceWhitelist"] == [
        {"group": "", "kind": "Namespace", "name": "ml-sklearn-iris-*"}
    ]
    assert project["spec"]["sourceRepos"] == [apps["sklearn-iris-dev"]["spec"]["source"]["repoURL"]]
    allowed = {(k["group"], k["kind"]) for k in project["spec"]["namespaceResourceWhitelist"]}
    # what a model repo needs: storage credentials, volumes, runtime, monitoring, and no more
    assert allowed == {
        ("", "ServiceAccount"),
        ("", "Secret"),
        ("", "ConfigMap"),
        ("", "PersistentVolumeClaim"),
        ("rbac.authorization.k8s.io", "Role"),
        ("rbac.authorization.k8s.io", "RoleBinding"),
        ("serving.kserve.io", "InferenceService"),
        ("serving.kserve.io", "ServingRuntime"),
        ("security.istio.io", "PeerAuthentication"),
        ("security.istio.io", "AuthorizationPolicy"),
        ("monitoring.coreos.com", "PrometheusRule"),
        ("monitoring.coreos.com", "PodMonitor"),
        ("argoproj.io", "AnalysisTemplate"),
    }
    # every kind a generated overlay renders is allowed
    rendered = {
        (o["apiVersion"].rpartition("/")[0], o["kind"])
        for env in ("dev", "staging", "prod")
        for o in kustomize(repo / "overlays" / env)
        if o["kind"] != "Namespace"
    }
    assert rendered <= allowed


def test_config_and_profiles_validate_against_their_schemas(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, envs=("dev", "prod"), deployment_mode="standard")
    schemas = data_dir("schemas")
    config_schema = json.loads((schemas / "servegate.schema.json").read_text())
    config = yaml.safe_load((repo / "servegate.yaml").read_text())
    jsonschema.Draft202012Validator(config_schema).validate(config)
    assert config["kserveVersion"] == "0.21"
    # the answers' spelling is accepted too, but not both at once
    spelled = {k if k != "kserveVersion" else "kserve_version": v for k, v in config.items()}
    jsonschema.Draft202012Validator(config_schema).validate(spelled)
    assert not jsonschema.Draft202012Validator(config_schema).is_valid(
        {**config, "kserve_version": "0.21"}
    )
    assert config["environments"] == {
        "overlays/dev": "dev",
        "argocd/applications/dev.yaml": "dev",
        "overlays/prod": "prod",
        "argocd/applications/prod.yaml": "prod",
    }
    assert config["policy"]["allowedStorageSchemes"] == ["gs"]
    assert config["policy"]["allowedBuckets"] == ["kfserving-examples"]
    profile_schema = json.loads((schemas / "environment.schema.json").read_text())
    for path in sorted(data_dir("environments").glob("*.yaml")):
        profile = yaml.safe_load(path.read_text())
        jsonschema.Draft202012Validator(profile_schema).validate(profile)
        assert profile["mtls"] == "STRICT"
    assert yaml.safe_load((data_dir("environments") / "prod.yaml").read_text())["requireCanary"]
    modeline = "# yaml-language-server: $schema="
    # the config's schema lives in servegate: a modeline only for a source with a URL for it
    assert "schemas/servegate.schema.json" in (repo / "servegate.yaml").read_text()
    assert (repo / "overlays/dev/kustomization.yaml").read_text().startswith(modeline)


# --- the CLI: bad input, non-empty dirs, add env -----------------------------------------------


@pytest.mark.parametrize(
    ("flags", "needle"),
    [
        (["--model-name", "Bad_Name"], "invalid model name"),
        (["--model-name", "9lives"], "invalid model name"),
        (["--framework", "caffe"], "unknown framework"),
        (["--envs", "dev,qa"], "unknown environment profile 'qa'"),
        (["--storage-uri", "not a uri"], "malformed --storage-uri"),
        (["--storage-uri", "ftp://bucket/model"], "malformed --storage-uri"),
        (["--storage-uri", "gs://"], "malformed --storage-uri"),
        (["--deployment-mode", "serverles"], "did you mean 'Serverless'?"),
        (["--framework", "sklern"], "unknown framework 'sklern' (did you mean 'sklearn'?)"),
        (["--mesh", "istio"], "unknown mesh 'istio'"),
        (["--mesh", "sidecar"], "privileged namespace"),
        (["--kserve-version", "0.14"], "servegate supports 0.15 to 0.21"),
        (["--ingress-gateway", "gateway-api"], "Standard mode only"),
        (
            ["--storage-auth", "irsa", "--storage-identity", "arn:aws:iam::1:role/x"],
            "irsa is for s3",
        ),
        (
            ["--storage-uri", "s3://models/fraud", "--storage-auth", "irsa"],
            "needs --storage-identity <IAM role ARN>",
        ),
        (["--gateway-principal", "istio-ingressgateway"], "invalid --gateway-principal"),
        (["--iter8"], "--iter8 was removed"),
        (
            [
                "--deployment-mode",
                "standard",
                "--ingress-gateway",
                "gateway-api",
                "--kserve-version",
                "0.20",
            ],
            "newer than v0.20.0",
        ),
        (["--namespace-prefix", "ML_"], "invalid --namespace-prefix"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(
    tmp_path: Path, cli: Callable[..., Run], flags: list[str], needle: str
) -> None:
    target = tmp_path / "out"
    run = cli("new", target, "--no-input", *flags)
    assert run.code == 2
    assert needle in run.err
    assert len(run.err.strip().splitlines()) == 1
    assert "Traceback" not in run.err
    assert not target.exists()


def test_refuses_non_empty_dir_and_never_overwrites_silently(
    tmp_path: Path, cli: Callable[..., Run]
) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "README.md").write_text("mine\n")
    run = cli("new", target, "--no-input")
    assert run.code == 2 and "not empty" in run.err
    assert sorted(p.name for p in target.iterdir()) == ["README.md"]
    assert (target / "README.md").read_text() == "mine\n"
    forced = cli("new", target, "--no-input", "--force")
    assert forced.code == 0
    assert (target / "base" / "inferenceservice.yaml").is_file()
    # a file generate replaces under --force is at least one the caller is told about
    assert (target / "README.md").read_text() != "mine\n"


def test_add_env_adds_a_rendering_overlay(tmp_path: Path, cli: Callable[..., Run]) -> None:
    repo = make_repo(tmp_path, envs=("dev", "prod"))
    run = cli("add", "env", "qa", "--profile", "staging", "--repo", repo)
    assert run.code == 0, run.err
    objs = kustomize(repo / "overlays" / "qa")
    assert {o["metadata"].get("namespace") for o in objs if o["kind"] != "Namespace"} == {
        "ml-sklearn-iris-qa"
    }
    assert all(validate_object(o) == [] for o in objs)
    config = yaml.safe_load((repo / "servegate.yaml").read_text())
    assert config["environments"]["overlays/qa"] == "staging"
    assert "# An exemption names a rule" in (repo / "servegate.yaml").read_text()
    assert (repo / "argocd" / "applications" / "qa.yaml").is_file()
    again = cli("add", "env", "qa", "--repo", repo)
    assert again.code == 2 and "already exists" in again.err
    unknown = cli("add", "env", "perf", "--repo", repo)
    assert unknown.code == 2 and "unknown environment profile" in unknown.err


def test_repo_profiles_extend_the_shipped_ones(tmp_path: Path, cli: Callable[..., Run]) -> None:
    repo = make_repo(tmp_path, envs=("dev",))
    shipped = (data_dir("environments") / "staging.yaml").read_text()
    (repo / "environments" / "perf.yaml").write_text(shipped.replace("name: staging", "name: perf"))
    assert cli("add", "env", "perf", "--repo", repo).code == 0
    (repo / "environments" / "broken.yaml").write_text("version: 1\nname: broken\n")
    run = cli("add", "env", "broken", "--repo", repo)
    assert run.code == 2 and "broken.yaml" in run.err


# --- per-cluster assets (argo/cluster) ---------------------------------------------------------


def test_cluster_assets_validate_and_match_the_generated_templates(tmp_path: Path) -> None:
    cluster = data_dir("argo") / "cluster"
    objs = [
        d for p in sorted(cluster.glob("*.yaml")) for d in yaml.safe_load_all(p.read_text()) if d
    ]
    assert [p for o in objs for p in validate_object(o)] == []
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for o in objs:
        by_kind.setdefault(o["kind"], []).append(o)
    storage = by_kind["ClusterStorageContainer"][0]
    assert storage["metadata"]["name"] == "default"
    sc = storage["spec"]["container"]["securityContext"]
    assert sc["runAsNonRoot"] is True and sc["capabilities"] == {"drop": ["ALL"]}
    for expr in promql_expressions(objs):
        promql_parser.parse(re.sub(r"\{\{\s*args\.[-\w]+\s*\}\}", "ml-x-prod", expr))
    check_analysis_templates(objs)
    repo = make_repo(tmp_path)
    generated = {
        o["metadata"]["name"]: o["spec"]
        for o in kustomize(repo / "overlays/dev")
        if o["kind"] == "AnalysisTemplate"
    }
    clustered = {o["metadata"]["name"]: o["spec"] for o in by_kind["ClusterAnalysisTemplate"]}
    assert clustered == generated
    assert "{{" not in by_kind["ApplicationSet"][0]["spec"]["template"]["spec"]["project"]
    # no custom InferenceService health check: Argo CD's built-in one is right (>= 2.14)
    assert "ConfigMap" not in by_kind
    assert not list(cluster.glob("*health*"))
    appset = by_kind["ApplicationSet"][0]["spec"]["template"]
    assert appset["metadata"]["annotations"]["argocd.argoproj.io/compare-options"] == (
        "ServerSideDiff=true"
    )


def test_cluster_assets_pass_check(cli: Callable[..., Run]) -> None:
    run = cli("check", data_dir("argo") / "cluster", "--format", "json")
    assert run.json()["findings"] == []
    assert run.code == 0


def test_huggingface_cache_goes_to_the_writable_volume(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path, framework="huggingface", envs=("dev",), storage_uri=STORAGE["huggingface"]
    )
    isvc = next(o for o in kustomize(repo / "overlays/dev") if o["kind"] == "InferenceService")
    model = isvc["spec"]["predictor"]["model"]
    assert model["env"] == [{"name": "HF_HOME", "value": "/tmp/hf"}]
    assert model["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]


def test_interactive_prompts_check_each_answer_when_given(tmp_path: Path) -> None:
    """A wrong answer is refused at once, with the nearest valid value, and asked again."""
    from click.testing import CliRunner

    from servegate.commands.new import new

    answers = [
        "Bad_Name",  # refused: not a DNS label
        "churn",
        "xgbost",  # refused: did you mean 'xgboost'?
        "xgboost",
        "s3://ml-models/churn/v1",
        "0.9",  # refused: unsupported KServe version
        "0.20",
        "RawDeployment",  # KServe's legacy name: accepted, with a note
        "istio-cni",
        "dev,qa",  # refused: no profile qa
        "dev,prod",
        "n",
        "",
        "team-",
        "",  # kube-prometheus-stack release: the default
        "y",  # Applications through the servegate plugin
        "",  # servegate source: this one, as installed
    ]
    result = CliRunner().invoke(new, [str(tmp_path / "r")], input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "invalid model name 'Bad_Name'" in out
    assert "did you mean 'xgboost'?" in out
    assert "unsupported KServe version '0.9'" in out
    assert "unknown environment profile 'qa'" in out
    assert out.count("Model name") == 2 and out.count("Environments") == 2
    assert "KServe's legacy name of standard mode" in out
    answers_file = json.loads((tmp_path / "r" / ".servegate-answers.json").read_text())
    assert answers_file["model_name"] == "churn"
    assert answers_file["framework"] == "xgboost"
    assert answers_file["deployment_mode"] == "standard"
    assert answers_file["kserve_version"] == "0.20"
    assert answers_file["canary"] is False
    assert "iter8" not in answers_file
    assert answers_file["environments"] == {"dev": "dev", "prod": "prod"}
    assert answers_file["argocd_plugin"] is True
    from servegate.install import installed

    assert answers_file["servegate_source"] == installed().location
    assert (tmp_path / "r" / "overlays" / "prod").is_dir()
    ns = yaml.safe_load((tmp_path / "r" / "overlays/prod/namespace.yaml").read_text())
    assert ns["metadata"]["name"] == "team-churn-prod"
    isvc = yaml.safe_load((tmp_path / "r" / "base/inferenceservice.yaml").read_text())
    assert isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Standard"


def test_add_mappings_edge_cases(tmp_path: Path) -> None:
    path = tmp_path / "servegate.yaml"
    new = {"overlays/qa": "staging"}
    assert (
        add_mappings("version: 1\n", new, path)
        == "version: 1\nenvironments:\n  overlays/qa: staging\n"
    )
    assert add_mappings("version: 1\nenvironments: {}\n", new, path) == (
        "version: 1\nenvironments:\n  overlays/qa: staging\n"
    )
    assert add_mappings("version: 1\nenvironments:\n", new, path).endswith(
        "  overlays/qa: staging\n"
    )
    with pytest.raises(GenerateError, match="flow-style"):
        add_mappings("version: 1\nenvironments: {overlays/dev: dev}\n", new, path)
    with pytest.raises(GenerateError, match="already mapped to 'prod'"):
        add_mappings("version: 1\nenvironments:\n  overlays/qa: prod\n", new, path)

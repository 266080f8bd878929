"""servegate new: every option combination renders with real kustomize, validates strictly
against the upstream CRDs (schemas derived here, independently of servegate's schema code) and
kubernetes-validate, and carries only PromQL that parses."""

from __future__ import annotations

import itertools
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
from helpers import Run, upstream_dir

from servegate.datafiles import data_dir
from servegate.generate import Options, generate

KUBECTL = Path(sys.executable).parent / "kubectl"
MODES = ("knative", "standard")
#: (framework, envs): a few frameworks, and env lists with and without a canary environment.
VARIANTS = (
    ("sklearn", ("dev", "staging", "prod")),
    ("pytorch", ("prod",)),
    ("huggingface", ("dev", "staging")),
)
COMBOS = [
    pytest.param(
        mode,
        canary,
        iter8,
        fw,
        envs,
        id=f"{mode}-{'canary' if canary else 'nocanary'}-{'iter8' if iter8 else 'noiter8'}"
        f"-{fw}-{'+'.join(envs)}",
    )
    for mode, canary, iter8, (fw, envs) in itertools.product(
        MODES, (True, False), (True, False), VARIANTS
    )
]
STORAGE = {
    "sklearn": "gs://kfserving-examples/models/sklearn/1.0/model",
    "pytorch": "s3://models-bucket/torch/mnist",
    "huggingface": "hf://distilbert/distilbert-base-uncased",
}


def make_repo(root: Path, **kwargs: Any) -> Path:
    repo = root / "repo"
    generate(Options(**kwargs), repo)
    return repo


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


def validate_object(obj: dict[str, Any]) -> list[str]:
    """Problems of one object: CRD kinds strictly against upstream, core kinds via
    kubernetes-validate (strict); an unknown kind is itself a problem."""
    key = (obj["apiVersion"], obj["kind"])
    where = f"{obj['kind']}/{obj['metadata']['name']}"
    validator = crd_validators().get(key)
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


@pytest.mark.parametrize(("mode", "canary", "iter8", "framework", "envs"), COMBOS)
def test_every_combination_renders_and_validates(
    tmp_path: Path, mode: str, canary: bool, iter8: bool, framework: str, envs: tuple[str, ...]
) -> None:
    repo = make_repo(
        tmp_path,
        model_name="fraud-model",
        framework=framework,
        storage_uri=STORAGE[framework],
        deployment_mode=mode,
        envs=envs,
        canary=canary,
        iter8=iter8,
    )
    assert [p.name for p in overlays(repo)] == sorted(envs)
    problems: list[str] = []
    everything: list[dict[str, Any]] = []
    for overlay in overlays(repo):
        objs = kustomize(overlay)
        everything.extend(objs)
        kinds = {o["kind"] for o in objs}
        assert {
            "Namespace",
            "ServiceAccount",
            "Role",
            "RoleBinding",
            "InferenceService",
            "PeerAuthentication",
            "AuthorizationPolicy",
            "AnalysisTemplate",
            "PrometheusRule",
        } <= kinds
        isvc = next(o for o in objs if o["kind"] == "InferenceService")
        annotations = isvc["metadata"]["annotations"]
        assert annotations["serving.kserve.io/deploymentMode"] == mode.capitalize()
        prod_like = overlay.name == "prod" and canary
        spec = isvc["spec"]
        if mode == "knative":
            assert ("canaryTrafficPercent" in spec["predictor"]) == prod_like
            assert "canary" not in spec
        else:
            assert "canaryTrafficPercent" not in spec["predictor"]
            assert ("canary" in spec) == prod_like
            if prod_like:
                assert spec["canary"][0]["trafficPercent"] == 10
                assert spec["canary"][0]["predictor"]["name"] == "canary"
        model = spec["predictor"]["model"]
        assert model["modelFormat"]["name"] == framework
        assert model["resources"]["requests"] == model["resources"]["limits"]
        problems.extend(f"{overlay.name}: {p}" for o in objs for p in validate_object(o))
    plain = plain_manifests(repo)
    assert {o["kind"] for o in plain} == {"AppProject", "Application"}
    assert len([o for o in plain if o["kind"] == "Application"]) == len(envs)
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
    assert (repo / "iter8" / "values.yaml").is_file() == iter8
    if iter8:
        values = yaml.safe_load((repo / "iter8" / "values.yaml").read_text())
        assert values["environment"] == "kserve"
        weights = [v["weight"] for v in values["application"]["versions"]]
        assert sum(weights) == 100


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
    predictor = objs[("InferenceService", "sklearn-iris")]["spec"]["predictor"]
    assert predictor["canaryTrafficPercent"] == 10
    assert predictor["serviceAccountName"] == "sklearn-iris-sa"
    sc = predictor["model"]["securityContext"]
    assert sc["runAsNonRoot"] is True and sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert predictor["model"]["resources"]["limits"] == {"cpu": "2", "memory": "4Gi"}
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (2, 10)
    assert objs[("PeerAuthentication", "default")]["spec"]["mtls"]["mode"] == "STRICT"
    policy = objs[("AuthorizationPolicy", "sklearn-iris-allow-callers")]["spec"]
    assert policy["action"] == "ALLOW"
    principals = [
        p for r in policy["rules"] for s in r["from"] for p in s["source"].get("principals", [])
    ]
    assert "cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account" in principals
    assert "cluster.local/ns/knative-serving/sa/controller" in principals


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


def test_config_and_profiles_validate_against_their_schemas(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, envs=("dev", "prod"), deployment_mode="standard")
    schemas = data_dir("schemas")
    config_schema = json.loads((schemas / "servegate.schema.json").read_text())
    config = yaml.safe_load((repo / "servegate.yaml").read_text())
    jsonschema.Draft202012Validator(config_schema).validate(config)
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


def test_standard_mode_canary_predictor_has_no_autoscaling(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, deployment_mode="standard", envs=("prod",))
    isvc = next(o for o in kustomize(repo / "overlays/prod") if o["kind"] == "InferenceService")
    canary = isvc["spec"]["canary"][0]["predictor"]
    assert not {"minReplicas", "maxReplicas", "scaleMetric", "scaleTarget"} & set(canary)
    assert canary["model"]["securityContext"]["runAsNonRoot"] is True
    assert isvc["metadata"]["annotations"]["serving.kserve.io/autoscalerClass"] == "hpa"


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
        (["--deployment-mode", "serverless"], "unknown deployment mode"),
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
    appset = by_kind["ApplicationSet"][0]["spec"]
    assert "{{" not in appset["template"]["spec"]["project"]
    health = by_kind["ConfigMap"][0]["data"]
    lua = health["resource.customizations.health.serving.kserve.io_InferenceService"]
    assert 'condition.type == "Ready"' in lua and "RawDeployment" not in lua


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


def test_interactive_prompts_take_the_answers(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from servegate.commands.new import new

    answers = (
        "\n".join(
            [
                "churn",
                "xgboost",
                "s3://ml-models/churn/v1",
                "standard",
                "dev,prod",
                "n",
                "y",
                "",
                "team-",
                "",
                "y",  # Applications through the servegate plugin
                "",  # servegate source: this one, as installed
            ]
        )
        + "\n"
    )
    result = CliRunner().invoke(new, [str(tmp_path / "r")], input=answers)
    assert result.exit_code == 0, result.output
    answers_file = json.loads((tmp_path / "r" / ".servegate-answers.json").read_text())
    assert answers_file["model_name"] == "churn"
    assert answers_file["framework"] == "xgboost"
    assert answers_file["deployment_mode"] == "standard"
    assert answers_file["canary"] is False and answers_file["iter8"] is True
    assert answers_file["environments"] == {"dev": "dev", "prod": "prod"}
    assert answers_file["argocd_plugin"] is True
    from servegate.install import installed

    assert answers_file["servegate_source"] == installed().location
    assert (tmp_path / "r" / "overlays" / "prod").is_dir()
    ns = yaml.safe_load((tmp_path / "r" / "overlays/prod/namespace.yaml").read_text())
    assert ns["metadata"]["name"] == "team-churn-prod"

"""`servegate new` and `add env` (servegate/commands/new.py) as a user meets them: notes that
explain what `new` decided, `new --force` that lists what it replaces and never resets committed
settings, `add env` that changes only the lines it adds, KServe's legacy mode names."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from pathlib import Path

import yaml
from helpers import Run
from test_generator import kustomize, make_repo


def isvc_of(repo: Path, env: str) -> dict[str, object]:
    return next(o for o in kustomize(repo / "overlays" / env) if o["kind"] == "InferenceService")


def test_legacy_mode_names_are_aliases_with_a_note(tmp_path: Path, cli: Callable[..., Run]) -> None:
    run = cli(
        "new", tmp_path / "a", "--no-input", "--deployment-mode", "RawDeployment", "--no-canary"
    )
    assert run.code == 0, run.err
    assert "note: --deployment-mode RawDeployment: KServe's legacy name of standard mode" in run.err
    assert (
        isvc_of(tmp_path / "a", "dev")["metadata"]["annotations"][  # type: ignore[index]
            "serving.kserve.io/deploymentMode"
        ]
        == "Standard"
    )
    # KServe 0.15 knows only the old names: the annotation says what that version understands
    run = cli(
        "new",
        tmp_path / "b",
        "--no-input",
        "--deployment-mode",
        "serverless",
        "--kserve-version",
        "0.15",
    )
    assert run.code == 0, run.err
    assert "note: --deployment-mode serverless" in run.err
    meta = isvc_of(tmp_path / "b", "prod")["metadata"]
    assert meta["annotations"]["serving.kserve.io/deploymentMode"] == "Serverless"  # type: ignore[index]


def test_standard_canary_without_routing_becomes_knative_and_says_why(
    tmp_path: Path, cli: Callable[..., Run]
) -> None:
    run = cli("new", tmp_path / "r", "--no-input", "--deployment-mode", "standard")
    assert run.code == 0, run.err
    assert "receive traffic only with KServe newer than v0.20.0 and Gateway API" in run.err
    assert "generating Knative mode (canaryTrafficPercent)" in run.err
    prod = isvc_of(tmp_path / "r", "prod")
    assert prod["spec"]["predictor"]["canaryTrafficPercent"] == 10  # type: ignore[index]
    assert json.loads((tmp_path / "r/.servegate-answers.json").read_text())["deployment_mode"] == (
        "knative"
    )


def test_standard_mode_gets_no_scale_to_zero_and_says_so(
    tmp_path: Path, cli: Callable[..., Run]
) -> None:
    run = cli("new", tmp_path / "r", "--no-input", "--deployment-mode", "standard", "--no-canary")
    assert run.code == 0, run.err
    assert "minReplicas 0 (scale to zero) needs Knative mode" in run.err
    assert isvc_of(tmp_path / "r", "dev")["spec"]["predictor"]["minReplicas"] == 1  # type: ignore[index]


def test_new_force_lists_replacements_and_keeps_committed_settings(
    tmp_path: Path, cli: Callable[..., Run]
) -> None:
    repo = make_repo(
        tmp_path,
        storage_uri="s3://acme-models/fraud/v7",
        framework="xgboost",
        envs=("dev", "prod"),
        argocd_plugin=True,
        servegate_source="pypi",
        servegate_rev="0.1.0",
    )
    config = repo / "servegate.yaml"
    settings = (
        config.read_text()
        .replace(
            "exemptions: []",
            "exemptions:\n  - rule: image.digest\n    resource: {kind: InferenceService, name: x}\n"
            "    reason: pinned by the platform\n",
        )
        .replace("requireDigest: true", "requireDigest: false  # ours")
    )
    config.write_text(settings)
    (repo / "README.md").write_text("our own notes\n")
    run = cli("new", repo, "--no-input", "--force", "--envs", "dev,staging,prod")
    assert run.code == 0, run.err
    assert "using the answers in" in run.err
    assert f"replaced {repo / 'README.md'}" in run.err
    assert f"kept {config} (your settings)" in run.err
    # the answers were the defaults: the model is still the team's, not the sklearn example
    answers = json.loads((repo / ".servegate-answers.json").read_text())
    assert (answers["storage_uri"], answers["framework"]) == (
        "s3://acme-models/fraud/v7",
        "xgboost",
    )
    # and so were the install source and the plugin (adopt's answers)
    assert (answers["servegate_source"], answers["servegate_rev"]) == ("pypi", "0.1.0")
    assert answers["argocd_plugin"] is True
    assert "servegate-v1" in (repo / "argocd/applications/staging.yaml").read_text()
    # servegate.yaml: only the new environment's mappings were added
    diff = [
        line
        for line in difflib.unified_diff(
            settings.splitlines(), config.read_text().splitlines(), n=0
        )
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert diff == ["+  overlays/staging: staging", "+  argocd/applications/staging.yaml: staging"]


def test_add_env_changes_only_the_lines_it_adds(tmp_path: Path, cli: Callable[..., Run]) -> None:
    repo = make_repo(tmp_path, envs=("dev",))
    config = repo / "servegate.yaml"
    # a user's own layout: quotes, comments, blank lines, flow lists
    text = config.read_text()
    text = text.replace("  overlays/dev: dev\n", "  'overlays/dev': dev   # the dev cluster\n\n")
    text = text.replace(
        "allowedRegistries: []", "allowedRegistries: [ghcr.io/acme, 'quay.io/acme']"
    )
    config.write_text(text)
    run = cli("add", "env", "qa", "--profile", "staging", "--repo", repo)
    assert run.code == 0, run.err
    after = config.read_text()
    added = [
        line[2:]
        for line in difflib.ndiff(text.splitlines(), after.splitlines())
        if line.startswith("+ ")
    ]
    removed = [
        line
        for line in difflib.ndiff(text.splitlines(), after.splitlines())
        if line.startswith("- ")
    ]
    assert removed == []
    assert added == ["  overlays/qa: staging", "  argocd/applications/qa.yaml: staging"]
    assert yaml.safe_load(after)["environments"]["overlays/qa"] == "staging"


def test_storage_secret_defaults_to_a_named_secret(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, storage_uri="s3://acme-models/fraud/v1", storage_auth="secret")
    sa = next(o for o in kustomize(repo / "overlays/dev") if o["kind"] == "ServiceAccount")
    assert sa["secrets"] == [{"name": "sklearn-iris-storage"}]
    readme = (repo / "README.md").read_text()
    assert "serving.kserve.io/s3-endpoint" in readme and "sklearn-iris-storage" in readme


def test_generated_readme_promises_what_is_generated(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, mesh="ambient", deployment_mode="knative")
    readme = (repo / "README.md").read_text()
    assert "Istio in ambient mode" in readme
    assert "Knative Serving >= 1.11" in readme
    assert "cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account" in readme
    assert "Argo CD >= 2.14" in readme
    for path in ("base/", "overlays/<env>/", "servegate.yaml", "argocd/", "environments/"):
        assert f"`{path}`" in readme
        assert (repo / path.replace("<env>", "dev")).exists()
    assert "iter8" not in readme.lower()
    ns = yaml.safe_load((repo / "overlays/dev/namespace.yaml").read_text())
    assert ns["metadata"]["labels"]["istio.io/dataplane-mode"] == "ambient"


def test_enum_options_suggest_the_nearest_value(cli: Callable[..., Run], tmp_path: Path) -> None:
    for args, hint in [
        (("check", tmp_path, "--format", "jsn"), "did you mean 'json'?"),
        (("check", tmp_path, "--pss-level", "restrcted"), "did you mean 'restricted'?"),
        (("rules", "--format", "mark"), "did you mean 'markdown'?"),
        (("new", tmp_path / "x", "--no-input", "--mesh", "ambiant"), "did you mean 'ambient'?"),
        (("new", tmp_path / "x", "--no-input", "--storage-auth", "irs"), "did you mean 'irsa'?"),
    ]:
        run = cli(*args)
        assert run.code == 2 and hint in run.err, (args, run.err)

"""The check contract: JSON shape, exit codes, and file:line pointing at the source a user edits
(through a base, an overlay patch, and a plain file)."""

from __future__ import annotations

from pathlib import Path

from helpers import CLI, PRIVILEGED_POD, Tree

ISVC = """
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: fraud
  annotations:
    serving.kserve.io/deploymentMode: Knative
spec:
  predictor:
    model:
      modelFormat:
        name: sklearn
      storageUri: s3://models/fraud/v1
"""
PATCH = """
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: fraud
spec:
  predictor:
    canaryTrafficPercent: 10
    model:
      securityContext:
        privileged: true
"""

REPO = {
    "base/kustomization.yaml": "resources: [isvc.yaml, debug.yaml]\n",
    "base/isvc.yaml": ISVC,
    "base/debug.yaml": PRIVILEGED_POD,
    "overlays/prod/kustomization.yaml": "namespace: ml-prod\nnamePrefix: prod-\nresources: [../../base]\npatches:\n- path: patch.yaml\n",
    "overlays/prod/patch.yaml": PATCH,
    "plain/pod.yaml": PRIVILEGED_POD,
}


def test_json_contract_and_source_lines(cli: CLI, tree: Tree) -> None:
    root = tree(REPO)
    run = cli("check", root, "--format", "json", "--select", "pss.privileged")
    assert run.code == 1
    data = run.json()
    assert data["version"] == 1
    assert set(data["summary"]) >= {"files", "resources", "errors", "warnings"}
    assert data["summary"]["errors"] == 3
    assert data["summary"]["resources"] == 3
    located = sorted(
        (
            f["file"],
            f["line"],
            f["resource"]["kind"],
            f["resource"]["name"],
            f["resource"]["namespace"],
        )
        for f in data["findings"]
    )
    assert located == [
        ("base/debug.yaml", 10, "Pod", "prod-debug", "ml-prod"),  # through the base
        ("overlays/prod/patch.yaml", 10, "InferenceService", "prod-fraud", "ml-prod"),  # patch
        ("plain/pod.yaml", 10, "Pod", "debug", None),  # a plain file
    ]
    for f in data["findings"]:
        assert f["rule"] == "pss.privileged" and f["severity"] == "error"
        assert f["path"].endswith("securityContext.privileged")
        assert set(f) >= {"rule", "severity", "message", "file", "line", "resource", "path"}


def test_clean_repo_exits_0(cli: CLI, tree: Tree) -> None:
    root = tree(
        {
            k: v
            for k, v in REPO.items()
            if "debug" not in k and "plain" not in k and "patch" not in k
        }
        | {
            "base/kustomization.yaml": "resources: [isvc.yaml]\n",
            "overlays/prod/kustomization.yaml": "namespace: ml-prod\nresources: [../../base]\n",
        }
    )
    run = cli("check", root, "--format", "json", "--select", "pss.privileged")
    assert run.code == 0, run.out
    assert run.json()["summary"]["errors"] == 0


def test_text_format_lines(cli: CLI, tree: Tree) -> None:
    root = tree(REPO)
    run = cli("check", root, "--select", "pss.privileged")
    assert run.code == 1
    assert "overlays/prod/patch.yaml:10: error pss.privileged " in run.out
    assert "\x1b[" not in run.out  # no colour when not a TTY
    assert run.out.rstrip().splitlines()[-1].startswith("FAIL: 3 error(s)")


def test_select_and_ignore_families(cli: CLI, tree: Tree) -> None:
    root = tree(REPO)
    everything = {f["rule"] for f in cli("check", root, "--format", "json").json()["findings"]}
    assert {"pss.privileged", "pss.run-as-non-root"} <= everything
    assert any(not r.startswith(("pss.", "schema.")) for r in everything)
    ignored = cli(
        "check", root, "--format", "json", "--select", "pss", "--ignore", "pss.privileged"
    )
    rules = {f["rule"] for f in ignored.json()["findings"]}
    assert "pss.run-as-non-root" in rules and "pss.privileged" not in rules
    assert all(r.startswith("pss.") for r in rules)
    only = cli("check", root, "--format", "json", "--select", "pss.privileged,schema")
    rules = {f["rule"] for f in only.json()["findings"]}
    assert "pss.privileged" in rules
    assert rules <= {"pss.privileged"} | {r for r in everything if r.startswith("schema.")}


def test_base_only_rendered_through_overlay(cli: CLI, tree: Tree) -> None:
    root = tree(REPO)
    run = cli("check", root / "overlays" / "prod", "--format", "json", "--select", "pss.privileged")
    # the overlay alone: base lines still point at the base file
    files = sorted(f["file"] for f in run.json()["findings"])
    assert files == ["base/debug.yaml", "overlays/prod/patch.yaml"]


def test_output_file(cli: CLI, tree: Tree, tmp_path: Path) -> None:
    root = tree(REPO)
    out = tmp_path / "report.json"
    run = cli("check", root, "--format", "json", "--output", out, "--select", "pss.privileged")
    assert run.code == 1 and run.out == ""
    assert '"version": 1' in out.read_text()


def test_inline_exemption_suppresses_with_reason(cli: CLI, tree: Tree) -> None:
    pod = PRIVILEGED_POD.replace(
        "  name: debug\n",
        "  name: debug\n  annotations:\n    servegate.io/exempt.pss.privileged: node debugging tool\n",
    )
    root = tree({"pod.yaml": pod})
    run = cli("check", root, "--format", "json", "--select", "pss.privileged")
    assert run.code == 0
    data = run.json()
    assert data["findings"] == []
    assert [s["suppression"]["reason"] for s in data["suppressed"]] == ["node debugging tool"]


def test_exemption_without_reason_is_an_error(cli: CLI, tree: Tree) -> None:
    root = tree(
        {
            "pod.yaml": PRIVILEGED_POD,
            "servegate.yaml": "version: 1\nexemptions:\n- rule: pss.privileged\n  resource: {kind: Pod, name: debug}\n",
        }
    )
    run = cli("check", root, "--format", "json", "--select", "pss.privileged")
    rules = {(f["rule"], f["file"]) for f in run.json()["findings"]}
    assert ("repo.exemption-invalid", "servegate.yaml") in rules
    assert ("pss.privileged", "pod.yaml") in rules


def test_expired_exemption_is_reported_and_not_applied(cli: CLI, tree: Tree) -> None:
    root = tree(
        {
            "pod.yaml": PRIVILEGED_POD,
            "servegate.yaml": "version: 1\nexemptions:\n- rule: pss.privileged\n  resource: {kind: Pod, name: debug}\n"
            "  reason: temporary\n  expires: 2020-01-01\n",
        }
    )
    run = cli("check", root, "--format", "json", "--select", "pss.privileged")
    rules = [f["rule"] for f in run.json()["findings"]]
    assert "repo.exemption-expired" in rules and "pss.privileged" in rules


def test_bad_k8s_version_exits_2(cli: CLI, tree: Tree) -> None:
    root = tree({"pod.yaml": PRIVILEGED_POD})
    assert cli("check", root, "--k8s-version", "1.99").code == 2
    assert cli("check", root, "--k8s-version", "banana").code == 2


def test_rules_and_explain(cli: CLI) -> None:
    listing = cli("rules")
    assert listing.code == 0 and "pss.privileged" in listing.out
    explained = cli("explain", "pss.privileged")
    assert explained.code == 0
    for heading in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
        assert heading in explained.out
    assert cli("explain", "pss.nope").code == 2


def test_environment_by_longest_prefix(tmp_path: Path) -> None:
    from servegate.config import Config

    config = Config(
        environments={
            "overlays/prod": "prod",
            "argocd/applications/dev.yaml": "dev",
            "argocd": "staging",
        }
    )
    assert config.environment_for("overlays/prod") == "prod"
    assert config.environment_for("overlays/prod-eu") is None
    assert config.environment_for("argocd/applications/dev.yaml") == "dev"
    assert config.environment_for("argocd/applications/prod.yaml") == "staging"


def test_unknown_profile_in_config_is_a_repo_finding(cli: CLI, tree: Tree) -> None:
    """The repo's servegate.yaml is checked content, not the operator's usage: a profile that
    exists nowhere is repo.config-invalid (exit 1), ARCHITECTURE's exit-code contract."""
    root = tree(
        {
            "pod.yaml": PRIVILEGED_POD,
            "servegate.yaml": "version: 1\nenvironments:\n  pod.yaml: nosuchenv\n",
        }
    )
    run = cli("check", root)
    assert run.code == 1 and "nosuchenv" in run.out and "repo.config-invalid" in run.out

"""Diff-aware mode (``check --base``, ``--changed-files``) on real git repos built in tmp_path."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from helpers import CLI, PRIVILEGED_POD, Run

from servegate.discover import discover
from servegate.engine import check
from servegate.options import CheckOptions
from servegate.scope import affected, normalize

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests/fixtures/model-repo"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "HOME": "/nonexistent",
}
PATCH = "overlays/prod/inferenceservice-patch.yaml"


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV},
        check=True,
    )
    return done.stdout


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    shutil.copytree(FIXTURE, path)
    git(path, "init", "-q", "-b", "main")
    commit(path, "initial")
    return path


def edit(repo: Path, rel: str, old: str, new: str) -> None:
    path = repo / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def findings(run: Run, rule: str) -> list[dict[str, Any]]:
    return [f for f in run.json()["findings"] if f["rule"] == rule]


def test_only_changed_roots_are_checked(repo: Path, cli: CLI) -> None:
    (repo / "overlays/prod/debug.yaml").write_text(PRIVILEGED_POD, encoding="utf-8")
    edit(repo, "overlays/prod/kustomization.yaml", "- ../../base\n", "- ../../base\n- debug.yaml\n")
    commit(repo, "prod: a privileged debug pod (an existing error)")
    edit(repo, "overlays/dev/kustomization.yaml", "namespace: ml-dev", "namespace: ml-dev2")
    commit(repo, "dev: rename namespace")

    full = check(CheckOptions(paths=[repo]))
    assert {g.label for g in full.units} == {"overlays/dev", "overlays/prod"}
    assert full.errors

    diff = check(CheckOptions(paths=[repo], base="HEAD~1"))
    assert [g.label for g in diff.units] == ["overlays/dev"]
    assert not [f for f in diff.findings if f.file == "overlays/prod/debug.yaml"]

    run = cli("check", repo, "--base", "HEAD~1", "--format", "json")
    assert run.code == 0, run.out
    assert run.json()["summary"]["resources"] == 1
    # the base is shared: a change there reaches every overlay
    edit(repo, "base/inferenceservice.yaml", "maxReplicas: 2", "maxReplicas: 3")
    assert {g.label for g in check(CheckOptions(paths=[repo], base="HEAD")).units} == {
        "overlays/dev",
        "overlays/prod",
    }


def test_prod_model_change_without_canary_fires(repo: Path, cli: CLI) -> None:
    edit(repo, PATCH, "    canaryTrafficPercent: 10\n", "")
    edit(repo, PATCH, "fraud/v2", "fraud/v3")
    commit(repo, "prod: v3, straight to 100%")
    run = cli("check", repo, "--base", "HEAD~1", "--format", "json")
    assert run.code == 1
    [finding] = findings(run, "changes.prod-without-canary")
    assert finding["severity"] == "error"
    assert finding["file"] == PATCH
    assert finding["line"] == 10  # the storageUri line in the patch
    assert "s3://models/fraud/v2 -> s3://models/fraud/v3" in finding["message"]
    assert finding["resource"]["namespace"] == "ml-prod"


def test_prod_model_change_with_canary_passes(repo: Path, cli: CLI) -> None:
    edit(repo, PATCH, "fraud/v2", "fraud/v3")
    commit(repo, "prod: v3 as a 10% canary")
    run = cli("check", repo, "--base", "HEAD~1", "--format", "json")
    assert findings(run, "changes.prod-without-canary") == []
    assert run.code == 0, run.out


def test_promotion_passes(repo: Path, cli: CLI) -> None:
    edit(repo, PATCH, "canaryTrafficPercent: 10", "canaryTrafficPercent: 100")
    commit(repo, "prod: promote v2 to 100%")
    run = cli("check", repo, "--base", "HEAD~1", "--format", "json")
    assert findings(run, "changes.prod-without-canary") == []
    assert run.code == 0, run.out


def test_dev_needs_no_canary_and_prod_patch_shields_prod(repo: Path, cli: CLI) -> None:
    # base v1 -> v9 changes dev's model; prod's patch pins its own storageUri, so prod is unchanged
    edit(repo, "base/inferenceservice.yaml", "fraud/v1", "fraud/v9")
    commit(repo, "base: v9")
    run = cli("check", repo, "--base", "HEAD~1", "--format", "json")
    assert findings(run, "changes.prod-without-canary") == []
    assert run.code == 0, run.out


NAMESPACE = """\
apiVersion: v1
kind: Namespace
metadata:
  name: ml-prod
  labels:
    pod-security.kubernetes.io/enforce: restricted
"""
PEER_AUTH = """\
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: default
spec:
  mtls:
    mode: STRICT
"""


def test_security_downgrades_are_errors(repo: Path, cli: CLI) -> None:
    (repo / "overlays/prod/namespace.yaml").write_text(NAMESPACE, encoding="utf-8")
    (repo / "overlays/prod/peer-auth.yaml").write_text(PEER_AUTH, encoding="utf-8")
    edit(
        repo,
        "overlays/prod/kustomization.yaml",
        "- ../../base\n",
        "- ../../base\n- namespace.yaml\n- peer-auth.yaml\n",
    )
    (repo / "environments").mkdir()
    shutil.copy(ROOT / "environments/prod.yaml", repo / "environments/prod.yaml")
    commit(repo, "prod: namespace, mTLS, own profile")
    edit(repo, "overlays/prod/namespace.yaml", "enforce: restricted", "enforce: baseline")
    edit(repo, "overlays/prod/peer-auth.yaml", "mode: STRICT", "mode: PERMISSIVE")
    edit(repo, "environments/prod.yaml", "mtls: STRICT", "mtls: PERMISSIVE")
    commit(repo, "prod: relax")
    run = cli("check", repo, "--base", "HEAD~1", "--select", "changes", "--format", "json")
    assert run.code == 1, run.out + run.err
    got = sorted((f["file"], f["line"]) for f in findings(run, "changes.security-downgrade"))
    assert got == [
        ("environments/prod.yaml", 7),
        ("overlays/prod/namespace.yaml", 6),
        ("overlays/prod/peer-auth.yaml", 7),
    ]
    messages = " ".join(f["message"] for f in run.json()["findings"])
    assert "podSecurity lowered from restricted to baseline" in messages
    assert "mtls lowered from STRICT to PERMISSIVE" in messages
    # raising them again is fine
    run = cli("check", repo, "--base", "HEAD", "--select", "changes", "--format", "json")
    assert run.code == 0


def test_uncommitted_changes_count(repo: Path) -> None:
    edit(repo, "overlays/dev/kustomization.yaml", "ml-dev", "ml-dev3")
    report = check(CheckOptions(paths=[repo], base="HEAD"))
    assert [g.label for g in report.units] == ["overlays/dev"]
    # an untracked file in a kustomization's folder may be read by it (kustomize reads any
    # file in or below the folder): its roots are checked too
    (repo / "overlays/prod/new.yaml").write_text("a: 1\n", encoding="utf-8")
    report = check(CheckOptions(paths=[repo], base="HEAD"))
    assert [g.label for g in report.units] == ["overlays/dev", "overlays/prod"]


def test_bad_ref_is_a_usage_error(repo: Path, cli: CLI) -> None:
    run = cli("check", repo, "--base", "no-such-ref")
    assert run.code == 2
    assert "no such git revision" in run.err
    run = cli("check", repo, "--base", "--upload-pack=evil")
    assert run.code == 2


def test_changed_files_map_to_the_roots_that_include_them(repo: Path) -> None:
    """servegate.scope's narrowing, on this module's git repo."""
    discovery = discover([repo])
    roots, plain = affected(discovery, normalize(repo, [repo / "base/inferenceservice.yaml"]))
    assert roots == ["overlays/dev", "overlays/prod"]
    roots, _ = affected(discovery, normalize(repo, [repo / PATCH]))
    assert roots == ["overlays/prod"]
    roots, _ = affected(discovery, normalize(repo, [repo / "servegate.yaml"]))
    assert roots == ["overlays/dev", "overlays/prod"]
    roots, plain = affected(discovery, normalize(repo, [repo / "README.md"]))
    assert (roots, plain) == ([], [])


def test_standard_mode_advice_names_spec_canary(tmp_path: Path, cli: CLI) -> None:
    """Standard mode: the new model goes in spec.canary; promoting the canary passes; changing
    the stable predictor directly fails, and the advice names the field of the mode."""
    from test_generator import make_repo

    repo = make_repo(tmp_path, deployment_mode="standard", ingress_gateway="gateway-api")
    git(repo, "init", "-q", "-b", "main")
    commit(repo, "initial")
    patch = repo / PATCH
    text = patch.read_text(encoding="utf-8")
    at = text.index("  canary:")
    old, new = "gs://kfserving-examples/models/sklearn/1.0/model", "gs://kfserving-examples/v2"
    patch.write_text(text[:at] + text[at:].replace(old, new), encoding="utf-8")
    commit(repo, "prod: v2 as a canary")
    run = cli("check", repo, "--base", "HEAD~1", "--format", "json")
    assert findings(run, "changes.prod-without-canary") == [], run.out
    assert cli("promote", "prod", "--full", "--repo", repo).code == 0
    commit(repo, "prod: promote v2")
    run = cli("check", repo, "--base", "HEAD~1", "--format", "json")
    assert findings(run, "changes.prod-without-canary") == [], run.out
    assert run.code == 0, run.out
    edit(repo, PATCH, new, "gs://kfserving-examples/v3")
    commit(repo, "prod: v3 straight into the stable predictor")
    run = cli("check", repo, "--base", "HEAD~1", "--format", "json")
    [finding] = findings(run, "changes.prod-without-canary")
    assert "spec.canary" in finding["message"] and "canaryTrafficPercent" not in finding["message"]
    assert finding["file"] == PATCH

"""A 40-model monorepo laid out as argo/cluster/applicationset-monorepo.yaml describes
(``models/<model>/overlays/<env>``, each model made by ``servegate new`` with its own
``servegate.yaml``): ``check`` of the whole repo, of one model folder, of changed files,
``--base``, and the Argo CD plugin on an overlay read configuration the same way and agree.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import PRIVILEGED_POD

ROOT = Path(__file__).resolve().parents[1]
SERVEGATE = Path(sys.executable).parent / "servegate"
MODELS = 40
ENVS = ("dev", "staging", "prod")


def run(*args: str | Path, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SERVEGATE), *map(str, args)],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def monorepo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """models/m00 … models/m39, each a generated model repo renamed, under one git root with
    the ApplicationSet and a root servegate.yaml mapping every overlay by glob."""
    work = tmp_path_factory.mktemp("mono")
    template = work / "template"
    made = run("new", template, "--no-input", "--model-name", "tmplmodel", cwd=work)
    assert made.returncode == 0, made.stderr
    mono = work / "repo"
    for i in range(MODELS):
        name = f"m{i:02d}"
        target = mono / "models" / name
        shutil.copytree(template, target, ignore=shutil.ignore_patterns(".git"))
        for path in target.rglob("*"):
            if path.is_file():
                text = path.read_text(encoding="utf-8")
                if "tmplmodel" in text:
                    path.write_text(text.replace("tmplmodel", name), encoding="utf-8")
    nested = (template / "servegate.yaml").read_text(encoding="utf-8")
    k8s = next(line for line in nested.splitlines() if line.startswith("k8sVersion"))
    lines = ["version: 1", k8s, "environments:"]
    lines += [f"  models/*/overlays/{env}: {env}" for env in ENVS]
    (mono / "servegate.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (mono / "argo").mkdir()
    shutil.copyfile(
        ROOT / "argo/cluster/applicationset-monorepo.yaml", mono / "argo/applicationset.yaml"
    )
    subprocess.run(["git", "init", "-q", str(mono)], check=True)
    return mono


def findings(done: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    found: list[dict[str, object]] = json.loads(done.stdout)["findings"]
    return found


def test_forty_models_check_clean_in_check_and_the_plugin(monorepo: Path, tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    whole = run("check", ".", "--format", "json", cwd=monorepo, SERVEGATE_CACHE_DIR=cache)
    false = [(f["rule"], f["file"], f["message"]) for f in findings(whole)]
    assert whole.returncode == 0 and false == [], false[:5]
    report = json.loads(whole.stdout)
    assert report["summary"]["resources"] > MODELS * len(ENVS)
    model = run(
        "check", ".", "--format", "json", cwd=monorepo / "models/m07", SERVEGATE_CACHE_DIR=cache
    )
    assert model.returncode == 0 and findings(model) == []
    for name, env in (("m00", "prod"), ("m39", "dev")):
        app = monorepo / "models" / name / "overlays" / env
        done = run(
            "argocd",
            "generate",
            cwd=app,
            ARGOCD_APP_NAME=f"{name}-{env}",
            ARGOCD_APP_NAMESPACE="argocd",
            ARGOCD_APP_SOURCE_PATH=f"models/{name}/overlays/{env}",
            SERVEGATE_CACHE_DIR=cache,
        )
        assert done.returncode == 0, done.stderr
        assert "kind: InferenceService" in done.stdout


def test_a_model_folder_cannot_exempt_itself_anywhere(monorepo: Path, tmp_path: Path) -> None:
    """A privileged pod in m12's prod overlay, 'exempted' by m12's own servegate.yaml: every
    way of checking refuses it."""
    repo = tmp_path / "repo"
    shutil.copytree(monorepo, repo, symlinks=True)
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "forty models"], check=True)
    overlay = repo / "models/m12/overlays/prod"
    (overlay / "debug-pod.yaml").write_text(PRIVILEGED_POD, encoding="utf-8")
    kfile = overlay / "kustomization.yaml"
    kfile.write_text(
        kfile.read_text(encoding="utf-8").replace(
            "resources:\n", "resources:\n  - debug-pod.yaml\n", 1
        ),
        encoding="utf-8",
    )
    nested = repo / "models/m12/servegate.yaml"
    nested.write_text(
        nested.read_text(encoding="utf-8").replace(
            "exemptions: []",
            "exemptions:\n  - rule: pss\n    resource: {kind: Pod, name: debug}\n"
            "    reason: the model folder says so\n",
        ),
        encoding="utf-8",
    )
    cache = str(tmp_path / "cache")
    verdicts = {}
    for label, args, cwd in (
        ("whole", ("check", "."), repo),
        ("model", ("check", "."), repo / "models/m12"),
        ("changed", ("check", "--changed-files", "models/m12/servegate.yaml"), repo),
        ("base", ("check", "--base", "HEAD"), repo),
    ):
        done = run(*args, "--format", "json", cwd=cwd, SERVEGATE_CACHE_DIR=cache)
        rules = {str(f["rule"]) for f in findings(done)}
        verdicts[label] = (done.returncode, "pss.privileged" in rules)
    plugin = run(
        "argocd",
        "generate",
        cwd=overlay,
        ARGOCD_APP_NAME="m12-prod",
        ARGOCD_APP_SOURCE_PATH="models/m12/overlays/prod",
        SERVEGATE_CACHE_DIR=cache,
    )
    assert plugin.returncode == 1 and plugin.stdout == ""
    assert "pss.privileged" in plugin.stderr
    assert verdicts == dict.fromkeys(("whole", "model", "changed", "base"), (1, True))

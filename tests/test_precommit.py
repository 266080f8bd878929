"""The pre-commit hook, run for real: ``pre-commit try-repo <this project> servegate``.

pre-commit builds a virtualenv and pip-installs servegate from a clone of this checkout's HEAD
(commit first), so the first run needs PyPI and takes a while; the hook's environment is cached under
``.pytest_cache/pre-commit`` between runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SERVEGATE = Path(sys.executable).parent / "servegate"
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}


def test_hook_definition() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    [hook] = hooks
    assert hook["id"] == "servegate"
    assert hook["language"] == "python"
    assert hook["entry"].split() == ["servegate", "check", "--changed-files"]
    assert hook.get("pass_filenames", True) is True


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), *args],
        check=True,
        capture_output=True,
        env={**os.environ, **GIT_ENV},
    )


def try_repo(project: Path, repo: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(ROOT / ".pytest_cache/pre-commit")}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        [str(PRE_COMMIT), "try-repo", str(project), "servegate", "--color", "never", *extra],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
    )


@pytest.mark.slow
def test_try_repo_passes_then_fails_on_a_privileged_container(tmp_path: Path) -> None:
    # a clone of the committed project: a shared, half-edited working tree cannot leak in
    project = tmp_path / "project"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(project)], check=True)
    repo = tmp_path / "model-repo"
    made = subprocess.run(
        [str(SERVEGATE), "new", str(repo), "--no-input"], capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "model repo")

    ok = try_repo(project, repo, "--all-files")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "servegate" in ok.stdout and "Passed" in ok.stdout

    isvc = repo / "base/inferenceservice.yaml"
    text = isvc.read_text(encoding="utf-8")
    assert "privileged: false" in text
    isvc.write_text(
        text.replace("privileged: false", "privileged: true"),
        encoding="utf-8",
    )
    git(repo, "add", "-A")
    bad = try_repo(project, repo, "--all-files")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "Failed" in bad.stdout
    assert "pss.privileged" in bad.stdout
    assert "base/inferenceservice.yaml" in bad.stdout

    # only the changed file is passed: a file no kustomization includes checks nothing
    (repo / "notes.yaml").write_text("title: not a manifest\n", encoding="utf-8")
    git(repo, "add", "notes.yaml")
    only_notes = try_repo(project, repo, "--files", "notes.yaml")
    assert only_notes.returncode == 0, only_notes.stdout

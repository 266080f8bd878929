"""End to end: `servegate check` reports zero findings on a freshly generated repo, for
every combination the generator matrix covers, and after each promote step."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import Run
from test_generator import COMBOS, STORAGE, make_repo


def zero_findings(cli: Callable[..., Run], repo: Path) -> None:
    run = cli("check", repo, "--format", "json")
    report = run.json()
    assert report["findings"] == [], report["findings"]
    assert report["summary"]["errors"] == report["summary"]["warnings"] == 0
    assert report["summary"]["resources"] > 0
    assert run.code == 0, run.err


@pytest.mark.parametrize(("mode", "canary", "iter8", "framework", "envs"), COMBOS)
def test_generated_repo_passes_check(
    tmp_path: Path,
    cli: Callable[..., Run],
    mode: str,
    canary: bool,
    iter8: bool,
    framework: str,
    envs: tuple[str, ...],
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
    zero_findings(cli, repo)


@pytest.mark.parametrize("mode", ["knative", "standard"])
def test_repo_still_passes_after_each_promote_step(
    tmp_path: Path, cli: Callable[..., Run], mode: str
) -> None:
    repo = make_repo(tmp_path, deployment_mode=mode)
    steps = (
        [("--canary", "50"), ("--full",)]
        if mode == "standard"
        else [("--canary", "50"), ("--full",), ("--rollback",)]
    )
    for step in steps:
        assert cli("promote", "prod", *step, "--repo", repo).code == 0
        zero_findings(cli, repo)


def test_added_environment_passes_check(tmp_path: Path, cli: Callable[..., Run]) -> None:
    repo = make_repo(tmp_path, envs=("dev",))
    assert cli("add", "env", "qa", "--profile", "prod", "--repo", repo).code == 0
    zero_findings(cli, repo)


def test_demo_scaffolds_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from servegate.demo import main

    assert main([str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    assert "OK: 0 error(s), 0 warning(s)" in out
    # the deliberately broken copy is caught, at the lines the demo changed
    assert "overlays/prod/inferenceservice-patch.yaml:17: error pss.privileged" in out
    assert "base/peerauthentication.yaml:10: error istio.peer-authentication-strict" in out
    assert (tmp_path / "demo" / "overlays" / "prod" / "kustomization.yaml").is_file()
    assert main([]) == 2

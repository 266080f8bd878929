"""End to end: `servegate check` reports zero findings on a freshly generated repo, for
every combination the generator matrix covers (pairwise: see test_generator.py), after each
promote step in each mode that has canaries, and after `add env`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import Run
from test_generator import COMBOS, PARAMS, make_repo, options_for

#: --mesh values whose repo says more than the operator's policy allows: no mesh (the mTLS
#: rules off), Istio sidecars without CNI (privileged namespaces, from the repo's profiles)
RELAXING_MESHES = ("none", "sidecar")


def zero_findings(cli: Callable[..., Run], repo: Path, *flags: str) -> None:
    run = cli("check", repo, "--format", "json", *flags)
    report = run.json()
    assert report["findings"] == [], report["findings"]
    assert report["summary"]["errors"] == report["summary"]["warnings"] == 0
    assert report["summary"]["resources"] > 0
    assert run.code == 0, run.err


@pytest.mark.parametrize(PARAMS, COMBOS)
def test_generated_repo_passes_check(
    tmp_path: Path,
    cli: Callable[..., Run],
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
    if mesh in RELAXING_MESHES:
        # what the repo says of the cluster relaxes the operator's policy: fails closed until
        # the operator allows it (servegate.trust)
        run = cli("check", repo, "--format", "json")
        assert run.code == 1
        assert {f["rule"] for f in run.json()["findings"]} >= {"repo.policy-weakening"}
        zero_findings(cli, repo, "--allow-repo-weakening")
    else:
        zero_findings(cli, repo)


@pytest.mark.parametrize(
    "options",
    [
        {"deployment_mode": "knative"},
        {"deployment_mode": "standard", "ingress_gateway": "gateway-api", "mesh": "ambient"},
    ],
    ids=["knative", "standard"],
)
def test_repo_still_passes_after_each_promote_step(
    tmp_path: Path, cli: Callable[..., Run], options: dict[str, str]
) -> None:
    repo = make_repo(tmp_path, **options)
    for step in [("--canary", "50"), ("--full",), ("--canary", "20"), ("--rollback",)]:
        run = cli("promote", "prod", *step, "--repo", repo)
        assert run.code == 0, run.err
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
    assert "overlays/prod/inferenceservice-patch.yaml:22: error pss.privileged" in out
    assert "base/peerauthentication.yaml:10: error istio.peer-authentication-strict" in out
    assert (tmp_path / "demo" / "overlays" / "prod" / "kustomization.yaml").is_file()
    assert main([]) == 2

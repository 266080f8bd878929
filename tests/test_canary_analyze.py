"""`servegate canary analyze` against a real Prometheus (Debian's binary, started on loopback,
fed synthetic Istio series), for both KServe modes and three scenarios: a healthy canary is
promoted, a canary failing while the stable is fine is rolled back (namespace-wide dilution
does not hide it), a canary without traffic is held. `canary step` then applies each decision
and the repo still passes `servegate check`."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import Run
from promserver import Workload, prometheus, query
from test_generator import kustomize, make_repo

pytestmark = pytest.mark.xdist_group("prometheus")

MODEL = "fraud"
SCENARIOS = {
    # scenario: (stable error ratio, canary rps, canary error ratio, canary latency, decision, exit)
    "healthy": (0.01, 1.0, 0.01, 45.0, "promote", 0),
    "failing": (0.0, 1.0, 0.4, 40.0, "rollback", 1),
    "idle": (0.0, 0.0, 0.0, 40.0, "hold", 3),
}
MODES = ("knative", "standard")
NOW = float(int(time.time()) // 60 * 60)


def workloads(mode: str, objs: list[dict[str, Any]]) -> tuple[str, str]:
    """(stable, canary) workload names as KServe names them, read from the rendered overlay."""
    isvc = next(o for o in objs if o["kind"] == "InferenceService")
    if mode == "knative":  # Knative revisions <ksvc>-0000N, Deployments <revision>-deployment
        return f"{MODEL}-predictor-00001-deployment", f"{MODEL}-predictor-00002-deployment"
    stable_name = isvc["spec"]["predictor"].get("name")
    canary_name = isvc["spec"]["canary"][0]["predictor"]["name"]
    stable = f"{MODEL}-{stable_name}-predictor" if stable_name else f"{MODEL}-predictor"
    return stable, f"{MODEL}-{canary_name}-predictor"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("canary")
    repos: dict[tuple[str, str], Path] = {}
    series: list[Workload] = []
    names: dict[tuple[str, str], tuple[str, str, str]] = {}
    for mode in MODES:
        for scenario, (stable_err, canary_rps, canary_err, latency, _, _) in SCENARIOS.items():
            repo = make_repo(
                root / f"{mode}-{scenario}",
                model_name=MODEL,
                deployment_mode=mode,
                # Standard-mode canaries get traffic only through Gateway API (kserve#5912)
                ingress_gateway="gateway-api" if mode == "standard" else "istio-ingressgateway",
                envs=("prod",),
                namespace_prefix=f"{scenario}-{mode[0]}-",
            )
            objs = kustomize(repo / "overlays" / "prod")
            namespace = next(o for o in objs if o["kind"] == "Namespace")["metadata"]["name"]
            stable, canary = workloads(mode, objs)
            repos[mode, scenario] = repo
            names[mode, scenario] = (namespace, stable, canary)
            series.append(Workload(namespace, stable, 9.0, stable_err))
            if canary_rps:
                series.append(Workload(namespace, canary, canary_rps, canary_err, latency))
            # another busy, healthy app in the same namespace: it must not dilute the canary
            series.append(Workload(namespace, "feature-store", 50.0))
    with prometheus(root / "prom", series, NOW - 40 * 60, NOW) as url:
        yield {"url": url, "repos": repos, "names": names}


def analyze(cli: Callable[..., Run], world: dict[str, Any], repo: Path, *extra: str | Path) -> Run:
    return cli(
        "canary",
        "analyze",
        "prod",
        "--repo",
        repo,
        "--prometheus",
        world["url"],
        "--time",
        str(NOW),
        *extra,
    )


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_decision(cli: Callable[..., Run], world: dict[str, Any], mode: str, scenario: str) -> None:
    *_, decision, code = SCENARIOS[scenario]
    repo = world["repos"][mode, scenario]
    namespace, stable, canary = world["names"][mode, scenario]
    run = analyze(cli, world, repo, "--format", "json")
    assert run.code == code, run.out + run.err
    report = run.json()
    assert report["decision"] == decision, report["reason"]
    assert report["namespace"] == namespace
    assert report["deploymentMode"] == mode.capitalize()
    assert report["canaryTrafficPercent"] == 10
    by_name = {m["metric"]: m for m in report["metrics"]}
    if scenario == "idle":
        if mode == "knative":  # the newest revision never served a request: nothing to compare
            assert report["canaryWorkloads"] == [] and report["stableWorkloads"] == [stable]
            assert "no canary traffic" in report["reason"]
        else:  # the canary's Deployment is known, its series are empty: Inconclusive
            assert report["analysisPhase"] == "Inconclusive"
            assert by_name["error-rate"]["measurements"][0]["value"] == "[]"
        return
    assert report["canaryWorkloads"] == [canary] and report["stableWorkloads"] == [stable]
    error_rate = by_name["error-rate"]
    assert len(error_rate["measurements"]) in (2, 5)  # failureLimit 1: stops at the 2nd failure
    last = float(error_rate["measurements"][-1]["value"].strip("[]"))
    if scenario == "failing":
        assert report["analysisPhase"] == "Failed"
        assert last == pytest.approx(0.4)  # the canary's own 40%, not the namespace's
        assert error_rate["stableValue"] == "[0]"
        assert by_name["error-rate-vs-stable"]["phase"] == "Failed"
        # the namespace-wide ratio the old templates computed would have passed 5%
        diluted = query(
            world["url"],
            f'sum(rate(istio_requests_total{{destination_workload_namespace="{namespace}", '
            f'response_code=~"5.."}}[5m])) / sum(rate(istio_requests_total{{'
            f'destination_workload_namespace="{namespace}"}}[5m]))',
            NOW,
        )
        assert float(diluted["result"][0]["value"][1]) < 0.05  # type: ignore[index]
    else:
        assert report["analysisPhase"] == "Successful"
        assert last == pytest.approx(0.01)
        assert all(m["phase"] == "Successful" for m in report["metrics"])
        assert len(error_rate["measurements"]) == 5


def test_text_output_names_the_evidence(cli: Callable[..., Run], world: dict[str, Any]) -> None:
    run = analyze(cli, world, world["repos"]["knative", "failing"])
    assert run.code == 1
    assert run.out.startswith("canary analyze prod: ROLLBACK\n")
    assert "canary: fraud-predictor-00002-deployment" in run.out
    assert "model-error-rate/error-rate: Failed  canary [0.4]  stable [0]" in run.out


def test_explicit_revision_and_args(cli: Callable[..., Run], world: dict[str, Any]) -> None:
    repo = world["repos"]["knative", "failing"]
    # a looser threshold (template argument) no longer fails the absolute error rate
    run = analyze(
        cli,
        world,
        repo,
        "--format",
        "json",
        "--arg",
        "max-error-rate=0.5",
        "--template",
        "model-error-rate",
    )
    by_name = {m["metric"]: m for m in run.json()["metrics"]}
    assert by_name["error-rate"]["phase"] == "Successful"
    assert by_name["error-rate-vs-stable"]["phase"] == "Failed" and run.code == 1
    # naming the stable revision as the canary reads the stable's numbers
    run = analyze(
        cli, world, repo, "--format", "json", "--canary-revision", f"{MODEL}-predictor-00001"
    )
    assert run.json()["canaryWorkloads"] == [f"{MODEL}-predictor-00001-deployment"]
    assert run.json()["decision"] == "promote"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_step_applies_the_decision_and_check_passes(
    cli: Callable[..., Run], world: dict[str, Any], tmp_path: Path, mode: str, scenario: str
) -> None:
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(world["repos"][mode, scenario], repo)
    report = tmp_path / "analysis.json"
    run = analyze(cli, world, repo, "--format", "json", "--output", report)
    decision = json.loads(report.read_text())["decision"]
    before = (repo / "overlays/prod/inferenceservice-patch.yaml").read_text()
    run = cli("canary", "step", "prod", "--repo", repo, "--analysis", report)
    assert run.code == 0, run.err
    after = (repo / "overlays/prod/inferenceservice-patch.yaml").read_text()
    isvc = next(o for o in kustomize(repo / "overlays/prod") if o["kind"] == "InferenceService")
    spec = isvc["spec"]
    if decision == "hold":
        assert after == before and "hold: no change" in run.out
    elif decision == "promote":  # 10% -> the next step, 25%
        share = (
            spec["predictor"]["canaryTrafficPercent"]
            if mode == "knative"
            else spec["canary"][0]["trafficPercent"]
        )
        assert share == 25
    elif mode == "knative":
        assert spec["predictor"]["canaryTrafficPercent"] == 0
    else:
        assert "canary" not in spec
    check = cli("check", repo, "--format", "json")
    assert check.json()["findings"] == [] and check.code == 0
    # the analysis no longer describes the overlay once it moved: step refuses to apply it twice
    if decision != "hold":
        again = cli("canary", "step", "prod", "--repo", repo, "--analysis", report)
        assert again.code == 2 and "analyze again" in again.err


def test_promote_walks_the_steps_to_full(
    cli: Callable[..., Run], world: dict[str, Any], tmp_path: Path
) -> None:
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(world["repos"]["knative", "healthy"], repo)
    seen = []
    for _ in range(3):
        assert cli("canary", "step", "prod", "--repo", repo, "--decision", "promote").code == 0
        isvc = next(o for o in kustomize(repo / "overlays/prod") if o["kind"] == "InferenceService")
        seen.append(isvc["spec"]["predictor"].get("canaryTrafficPercent"))
    assert seen == [25, 50, None]
    run = cli("canary", "step", "prod", "--repo", repo, "--decision", "promote")
    assert run.code == 2 and "no canary" in run.err
    hold = cli(
        "canary",
        "analyze",
        "prod",
        "--repo",
        repo,
        "--prometheus",
        world["url"],
        "--time",
        str(NOW),
    )
    assert hold.code == 3 and "nothing to analyze" in hold.out


def test_unreachable_prometheus_is_one_line_exit_2(
    cli: Callable[..., Run], world: dict[str, Any]
) -> None:
    repo = world["repos"]["standard", "healthy"]
    run = cli("canary", "analyze", "prod", "--repo", repo, "--prometheus", "http://127.0.0.1:9")
    assert run.code == 2 and run.out == ""
    assert run.err.count("\n") == 1 and "cannot reach Prometheus" in run.err
    assert "Traceback" not in run.err

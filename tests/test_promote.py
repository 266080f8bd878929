"""servegate promote: edits the overlay in place (comments kept) and the rendered
InferenceService carries the canary API of its deployment mode after each step."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import Run
from test_generator import kustomize, make_repo, validate_object

USER_COMMENT = "# owner: fraud team, ask in #ml-serving before touching memory"


def rendered_isvc(repo: Path, env: str = "prod") -> dict[str, Any]:
    objs = kustomize(repo / "overlays" / env)
    isvc = next(o for o in objs if o["kind"] == "InferenceService")
    assert validate_object(isvc) == []
    return isvc


def add_user_comment(repo: Path) -> Path:
    patch = repo / "overlays" / "prod" / "inferenceservice-patch.yaml"
    text = patch.read_text()
    text = text.replace("      resources:", f"      {USER_COMMENT}\n      resources:", 1)
    assert USER_COMMENT in text
    patch.write_text(text)
    return patch


STANDARD = {"deployment_mode": "standard", "ingress_gateway": "gateway-api"}


def test_knative_round_trip(tmp_path: Path, cli: Callable[..., Run]) -> None:
    """canary -> full -> canary -> rollback, each step verified on the rendered output."""
    repo = make_repo(tmp_path)
    patch = add_user_comment(repo)
    assert rendered_isvc(repo)["spec"]["predictor"]["canaryTrafficPercent"] == 10

    run = cli("promote", "prod", "--canary", "50", "--repo", repo)
    assert run.code == 0, run.err
    predictor = rendered_isvc(repo)["spec"]["predictor"]
    assert predictor["canaryTrafficPercent"] == 50
    assert predictor["model"]["resources"]["limits"] == {"cpu": "2", "memory": "4Gi"}
    assert USER_COMMENT in patch.read_text()
    assert '# What differs in "prod"' in patch.read_text()

    assert cli("promote", "prod", "--full", "--repo", repo).code == 0
    assert "canaryTrafficPercent" not in rendered_isvc(repo)["spec"]["predictor"]
    assert USER_COMMENT in patch.read_text()

    assert cli("promote", "prod", "--canary", "10", "--repo", repo).code == 0
    assert rendered_isvc(repo)["spec"]["predictor"]["canaryTrafficPercent"] == 10

    assert cli("promote", "prod", "--rollback", "--repo", repo).code == 0
    assert rendered_isvc(repo)["spec"]["predictor"]["canaryTrafficPercent"] == 0
    assert USER_COMMENT in patch.read_text()
    # the other environments are untouched
    assert "canaryTrafficPercent" not in rendered_isvc(repo, "dev")["spec"]["predictor"]


def test_standard_round_trip(tmp_path: Path, cli: Callable[..., Run]) -> None:
    """canary -> full -> canary -> rollback in Standard mode (spec.canary, KServe after v0.20.0
    with Gateway API): the promoted canary keeps its name, so the next one needs a new name."""
    repo = make_repo(tmp_path, **STANDARD)
    patch = add_user_comment(repo)
    stable_before = rendered_isvc(repo)["spec"]["predictor"]
    assert "name" not in stable_before  # the unnamed predictor: <isvc>-predictor
    assert cli("promote", "prod", "--canary", "30", "--repo", repo).code == 0
    spec = rendered_isvc(repo)["spec"]
    assert spec["canary"][0]["trafficPercent"] == 30
    assert spec["canary"][0]["predictor"]["name"] == "v2"
    assert "canaryTrafficPercent" not in spec["predictor"]

    # put the new model in the canary, then promote it
    text = patch.read_text()
    at = text.index("canary:")
    patch.write_text(
        text[:at]
        + text[at:].replace(
            "gs://kfserving-examples/models/sklearn/1.0/model", "gs://kfserving-examples/models/v2"
        )
    )
    assert cli("promote", "prod", "--full", "--repo", repo).code == 0
    spec = rendered_isvc(repo)["spec"]
    assert "canary" not in spec
    assert spec["predictor"]["name"] == "v2"  # zero-restart promotion: the canary's Deployment
    assert spec["predictor"]["name"] != "canary"
    assert spec["predictor"]["model"]["storageUri"] == "gs://kfserving-examples/models/v2"
    assert (spec["predictor"]["minReplicas"], spec["predictor"]["maxReplicas"]) == (2, 10)
    assert USER_COMMENT in patch.read_text()

    # the next canary: a copy of the stable model under the next name
    run = cli("promote", "prod", "--canary", "10", "--repo", repo)
    assert run.code == 0, run.err
    assert "spec.canary[0].predictor.model" in run.out
    spec = rendered_isvc(repo)["spec"]
    canary = spec["canary"][0]
    assert (canary["trafficPercent"], canary["predictor"]["name"]) == (10, "v3")
    assert canary["predictor"]["model"]["storageUri"] == "gs://kfserving-examples/models/v2"
    assert not {"minReplicas", "maxReplicas", "scaleTarget", "scaleMetric"} & set(
        canary["predictor"]
    )
    # a later change of base/ does not move prod's stable model: the overlay pins it
    assert spec["predictor"]["model"]["storageUri"] == "gs://kfserving-examples/models/v2"

    assert cli("promote", "prod", "--rollback", "--repo", repo).code == 0
    spec = rendered_isvc(repo)["spec"]
    assert "canary" not in spec
    assert spec["predictor"]["name"] == "v2"

    # nothing left to roll back: a clear error, the file unchanged
    before = patch.read_text()
    run = cli("promote", "prod", "--rollback", "--repo", repo)
    assert run.code == 2 and "no spec.canary" in run.err
    assert patch.read_text() == before


def test_standard_canary_refused_where_kserve_does_not_route_it(
    tmp_path: Path, cli: Callable[..., Run]
) -> None:
    repo = make_repo(tmp_path, deployment_mode="standard", canary=False)
    patch = repo / "overlays/prod/inferenceservice-patch.yaml"
    before = patch.read_text()
    run = cli("promote", "prod", "--canary", "10", "--repo", repo)
    assert run.code == 2 and "Gateway API" in run.err, run.err
    assert patch.read_text() == before
    config = repo / "servegate.yaml"
    config.write_text(config.read_text().replace('kserveVersion: "0.21"', 'kserveVersion: "0.20"'))
    run = cli("promote", "prod", "--canary", "10", "--repo", repo)
    assert run.code == 2 and "does not route spec.canary" in run.err


def test_function_api_for_other_commands(tmp_path: Path) -> None:
    """`servegate canary step` builds on these: state, set, full, rollback."""
    from servegate.commands.promote import (
        PromoteError,
        canary_state,
        promote_full,
        rollback,
        set_canary,
    )

    repo = make_repo(tmp_path, **STANDARD)
    state = canary_state(repo, "prod")
    assert (state.mode, state.percent, state.name, state.stable_name) == (
        "Standard",
        10,
        "v2",
        None,
    )
    result = set_canary(repo, "prod", 25)
    assert result.path.as_posix() == "overlays/prod/inferenceservice-patch.yaml"
    assert canary_state(repo, "prod").percent == 25
    promote_full(repo, "prod")
    assert canary_state(repo, "prod") == canary_state(repo, "prod").__class__(
        "Standard", None, None, "v2"
    )
    with pytest.raises(PromoteError):
        rollback(repo, "prod")
    with pytest.raises(PromoteError):
        set_canary(repo, "prod", 101)
    assert canary_state(repo, "dev").percent is None


def test_usage_errors(tmp_path: Path, cli: Callable[..., Run]) -> None:
    repo = make_repo(tmp_path, envs=("dev", "prod"))
    patch = repo / "overlays" / "dev" / "inferenceservice-patch.yaml"
    before = patch.read_text()
    for args, needle in [
        ((), "exactly one"),
        (("--canary", "5", "--full"), "exactly one"),
        (("--full",), "no canary to promote"),
    ]:
        run = cli("promote", "dev", *args, "--repo", repo)
        assert run.code == 2 and needle in run.err, run.err
        assert "Traceback" not in run.err
    assert patch.read_text() == before
    run = cli("promote", "perf", "--full", "--repo", repo)
    assert run.code == 2 and "perf" in run.err
    assert cli("promote", "prod", "--canary", "101", "--repo", repo).code == 2


def test_help_shows_percent_signs_once(cli: Callable[..., Run]) -> None:
    run = cli("promote", "--help")
    assert run.code == 0
    assert "N% of traffic" in run.out and "%%" not in run.out

"""servegate promote: edits the overlay in place (comments kept) and the rendered
InferenceService carries the canary API of its deployment mode after each step."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

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
    text = text.replace(
        "    model:\n      resources:", f"    model:\n      {USER_COMMENT}\n      resources:", 1
    )
    assert USER_COMMENT in text
    patch.write_text(text)
    return patch


def test_knative_canary_full_rollback(tmp_path: Path, cli: Callable[..., Run]) -> None:
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

    assert cli("promote", "prod", "--rollback", "--repo", repo).code == 0
    assert rendered_isvc(repo)["spec"]["predictor"]["canaryTrafficPercent"] == 0
    assert USER_COMMENT in patch.read_text()
    # the other environments are untouched
    assert "canaryTrafficPercent" not in rendered_isvc(repo, "dev")["spec"]["predictor"]


def test_standard_canary_full_and_rollback(tmp_path: Path, cli: Callable[..., Run]) -> None:
    repo = make_repo(tmp_path, deployment_mode="standard")
    patch = add_user_comment(repo)
    assert cli("promote", "prod", "--canary", "30", "--repo", repo).code == 0
    spec = rendered_isvc(repo)["spec"]
    assert spec["canary"][0]["trafficPercent"] == 30
    assert "canaryTrafficPercent" not in spec["predictor"]

    # the canary's new model becomes the stable predictor on --full
    text = patch.read_text()
    canary_at = text.index("canary:")
    patch.write_text(
        text[:canary_at]
        + text[canary_at:].replace(
            "gs://kfserving-examples/models/sklearn/1.0/model", "gs://kfserving-examples/models/v2"
        )
    )
    assert cli("promote", "prod", "--full", "--repo", repo).code == 0
    spec = rendered_isvc(repo)["spec"]
    assert "canary" not in spec
    assert spec["predictor"]["name"] == "canary"
    assert spec["predictor"]["model"]["storageUri"] == "gs://kfserving-examples/models/v2"
    assert (spec["predictor"]["minReplicas"], spec["predictor"]["maxReplicas"]) == (2, 10)

    # nothing left to roll back: a clear error, the file unchanged
    before = patch.read_text()
    run = cli("promote", "prod", "--rollback", "--repo", repo)
    assert run.code == 2 and "no spec.canary" in run.err
    assert patch.read_text() == before


def test_standard_rollback_drops_the_canary(tmp_path: Path, cli: Callable[..., Run]) -> None:
    repo = make_repo(tmp_path, deployment_mode="standard", envs=("prod",))
    stable = rendered_isvc(repo)["spec"]["predictor"]
    assert cli("promote", "prod", "--rollback", "--repo", repo).code == 0
    spec = rendered_isvc(repo)["spec"]
    assert "canary" not in spec
    assert spec["predictor"] == stable


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

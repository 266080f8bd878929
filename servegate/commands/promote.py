"""``servegate promote ENV --canary N | --full | --rollback``: move an overlay's canary in git.

Edits ``overlays/<env>/inferenceservice-patch.yaml`` in place with a round-trip YAML editor,
so the user's comments and layout stay; the change then goes through review and Argo CD like
any other. What the three moves mean depends on KServe's deployment mode:

- Knative: ``canaryTrafficPercent`` on the predictor splits traffic between the newest
  revision and the last one that had 100%. ``--canary N`` sets it, ``--full`` removes it
  (the newest revision takes all traffic), ``--rollback`` sets it to 0 (all traffic back to
  the previous revision).
- Standard (KServe >= 0.20): ``spec.canary`` lists named canary predictors, each with its own
  Deployment and ``trafficPercent``. ``--canary N`` sets the share, ``--full`` makes the
  canary the stable ``spec.predictor`` (its name retargeted, so no pod restarts) and drops
  the list, ``--rollback`` drops the list (all traffic to the stable predictor).
"""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import click

PATCH_FILE = "inferenceservice-patch.yaml"
MODE_ANNOTATION = "serving.kserve.io/deploymentMode"
#: Autoscaling fields KServe rejects on a Standard-mode canary predictor.
_SCALING_FIELDS = (
    "minReplicas",
    "maxReplicas",
    "scaleMetric",
    "scaleTarget",
    "autoScaling",
    "canaryTrafficPercent",
)


class PromoteError(Exception):
    """Cannot promote as asked (exit code 2, one line)."""


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML()  # round-trip mode: comments, key order and quoting survive
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


def _load(path: Path) -> Any:
    from ruamel.yaml.error import YAMLError

    try:
        return _yaml().load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise PromoteError(f"cannot read {path}: {err.strerror}") from err
    except YAMLError as err:
        raise PromoteError(f"cannot parse {path}: {err}".splitlines()[0]) from err


def _overlay_dir(repo: Path, env: str) -> Path:
    """The overlay of ``env``: by directory name, else by profile name in servegate.yaml."""
    config = repo / "servegate.yaml"
    mapping: dict[str, str] = {}
    if config.is_file():
        data = _load(config)
        if isinstance(data, dict) and isinstance(data.get("environments"), dict):
            mapping = {str(k): str(v) for k, v in data["environments"].items()}
    by_dir = [o for o in mapping if Path(o).name == env]
    by_profile = [o for o, p in mapping.items() if p == env]
    candidates = by_dir or by_profile or [f"overlays/{env}"]
    if len(candidates) > 1:
        raise PromoteError(
            f"environment {env!r} matches several overlays: "
            f"{', '.join(candidates)}; name the overlay directory"
        )
    overlay = (repo / candidates[0]).resolve()
    if not overlay.is_relative_to(repo.resolve()):
        raise PromoteError(f"overlay {candidates[0]!r} is outside the repo")
    if not (overlay / PATCH_FILE).is_file():
        raise PromoteError(f"no {PATCH_FILE} in {overlay}: is {env!r} an environment of this repo?")
    return overlay


def _deployment_mode(repo: Path, patch: Any) -> str:
    """Knative or Standard, from the patch or else the base InferenceService."""
    spec = patch.get("spec") or {}
    if "canary" in spec:
        return "Standard"
    if "canaryTrafficPercent" in (spec.get("predictor") or {}):
        return "Knative"
    for source in (
        patch,
        _load(repo / "base" / "inferenceservice.yaml")
        if (repo / "base" / "inferenceservice.yaml").is_file()
        else None,
    ):
        if isinstance(source, dict):
            mode = ((source.get("metadata") or {}).get("annotations") or {}).get(MODE_ANNOTATION)
            if mode:
                return "Standard" if str(mode) in ("Standard", "RawDeployment") else "Knative"
    return "Knative"  # KServe's default when no annotation says otherwise


def _predictor(patch: Any) -> Any:
    from ruamel.yaml.comments import CommentedMap

    if not isinstance(patch.get("spec"), dict):
        patch["spec"] = CommentedMap()
    spec = patch["spec"]
    if not isinstance(spec.get("predictor"), dict):
        spec["predictor"] = CommentedMap()
    return spec["predictor"]


def _knative(patch: Any, action: str, percent: int | None) -> str:
    predictor = _predictor(patch)
    if action == "canary":
        assert percent is not None
        predictor["canaryTrafficPercent"] = percent
        return f"canaryTrafficPercent: {percent}"
    if action == "full":
        if "canaryTrafficPercent" not in predictor:
            raise PromoteError("no canary to promote: canaryTrafficPercent is not set")
        del predictor["canaryTrafficPercent"]
        return "canaryTrafficPercent removed: the newest revision takes all traffic"
    predictor["canaryTrafficPercent"] = 0
    return "canaryTrafficPercent: 0: all traffic to the previous revision"


def _standard(patch: Any, action: str, percent: int | None) -> str:
    spec = patch.get("spec") or {}
    canaries = spec.get("canary")
    if not canaries:
        raise PromoteError(
            "no spec.canary entry in the overlay: in Standard mode, first declare the new model "
            f"as a canary in {PATCH_FILE} (see the repo README)"
        )
    if action == "canary":
        assert percent is not None
        if len(canaries) != 1:
            raise PromoteError("several canaries: set their trafficPercent by hand")
        canaries[0]["trafficPercent"] = percent
        return f"spec.canary[0].trafficPercent: {percent}"
    if action == "rollback":
        del spec["canary"]
        return "spec.canary removed: all traffic to the stable predictor"
    if len(canaries) != 1:
        raise PromoteError("several canaries: say which one to promote by removing the others")
    promoted = canaries[0].get("predictor") or {}
    predictor = _predictor(patch)
    for key, value in promoted.items():
        if key not in _SCALING_FIELDS:
            predictor[key] = value
    # The CRD requires a canary model container's name; KServe's webhook refuses it on the
    # stable predictor (validatePredictor, KServe >= 0.16).
    model = predictor.get("model")
    if isinstance(model, dict):
        model.pop("name", None)
    del spec["canary"]
    return f"canary {promoted.get('name', '')!r} is now spec.predictor; spec.canary removed"


def promote_overlay(repo: Path, env: str, action: str, percent: int | None = None) -> str:
    """Apply one move to ``env``'s overlay; return what changed. Raises PromoteError."""
    overlay = _overlay_dir(repo, env)
    path = overlay / PATCH_FILE
    patch = _load(path)
    if not isinstance(patch, dict):
        raise PromoteError(f"{path} is not a YAML mapping")
    mode = _deployment_mode(repo, patch)
    change = (_knative if mode == "Knative" else _standard)(patch, action, percent)
    out = StringIO()
    _yaml().dump(patch, out)
    path.write_text(out.getvalue(), encoding="utf-8")
    return (
        f"{path.relative_to(repo.resolve()) if path.is_relative_to(repo.resolve()) else path}:"
        f" {change} ({mode} mode)"
    )


@click.command()
@click.argument("env")
@click.option(
    "--canary",
    "percent",
    type=click.IntRange(0, 100),
    metavar="N",
    help="Send N%% of traffic to the canary.",
)
@click.option("--full", is_flag=True, help="Promote the canary: it takes all traffic.")
@click.option("--rollback", is_flag=True, help="All traffic back to the previous model.")
@click.option(
    "--repo",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="The model repo.",
)
def promote(env: str, percent: int | None, full: bool, rollback: bool, repo: Path) -> int:
    """Move ENV's canary in git: --canary N, --full or --rollback (exactly one)."""
    chosen = [
        a
        for a, on in (("canary", percent is not None), ("full", full), ("rollback", rollback))
        if on
    ]
    if len(chosen) != 1:
        click.echo("servegate: error: give exactly one of --canary N, --full, --rollback", err=True)
        return 2
    try:
        message = promote_overlay(repo.resolve(), env, chosen[0], percent)
    except PromoteError as err:
        click.echo(f"servegate: error: {err}", err=True)
        return 2
    click.echo(message)
    return 0

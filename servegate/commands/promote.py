"""``servegate promote ENV --canary N | --full | --rollback``: move an overlay's canary in git.

Edits ``overlays/<env>/inferenceservice-patch.yaml`` in place with a round-trip YAML editor,
so the user's comments and layout stay; the change then goes through review and Argo CD like
any other. What the three moves mean depends on KServe's deployment mode:

- Knative: ``canaryTrafficPercent`` on the predictor splits traffic between the newest
  revision and the last one that had 100%. ``--canary N`` sets it, ``--full`` removes it
  (the newest revision takes all traffic), ``--rollback`` sets it to 0 (all traffic back to
  the previous revision).
- Standard (KServe after v0.20.0 with Gateway API, kserve#5912): ``spec.canary`` lists named
  canary predictors, each with its own Deployment (``<isvc>-<name>-predictor``) and
  ``trafficPercent``. ``--canary N`` sets the share, or, when there is no canary, adds one
  named ``v<N+1>`` as a copy of the stable predictor (put the new model in it); ``--full``
  makes the canary the stable ``spec.predictor``, keeping its name so its pods stay (KServe's
  zero-restart promotion), and drops the list; ``--rollback`` drops the list (all traffic to
  the stable predictor).

The functions :func:`set_canary`, :func:`promote_full`, :func:`rollback` and
:func:`canary_state` are the API other commands (``servegate canary step``) build on; each
raises :class:`PromoteError` with a one-line reason and writes nothing then. Writes go through
:mod:`servegate.safewrite`: never through a symlink that leaves the repo, atomically.
"""

from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import click

from servegate import kserve_versions, safewrite

PATCH_FILE = "inferenceservice-patch.yaml"
MODE_ANNOTATION = "serving.kserve.io/deploymentMode"
#: Fields KServe rejects on a Standard-mode canary predictor (and the Knative canary knob).
_SCALING_FIELDS = (
    "minReplicas",
    "maxReplicas",
    "scaleMetric",
    "scaleMetricType",
    "scaleTarget",
    "autoScaling",
    "canaryTrafficPercent",
)
_GENERATION = re.compile(r"^v([0-9]+)$")


class PromoteError(Exception):
    """Cannot promote as asked (exit code 2, one line)."""


@dataclass(frozen=True, slots=True)
class CanaryState:
    """The canary of one overlay as its patch declares it."""

    mode: str
    """``Knative`` or ``Standard``."""
    percent: int | None
    """Traffic share of the canary; None when there is no canary."""
    name: str | None = None
    """Standard mode: the canary predictor's name."""
    stable_name: str | None = None
    """Standard mode: the stable predictor's name (None: unnamed, ``<isvc>-predictor``)."""


@dataclass(frozen=True, slots=True)
class PromoteResult:
    path: Path
    """The file changed, relative to the repo."""
    mode: str
    change: str

    def __str__(self) -> str:
        return f"{self.path.as_posix()}: {self.change} ({self.mode} mode)"


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


def _config(repo: Path) -> dict[str, Any]:
    config = repo / "servegate.yaml"
    if not config.is_file():
        return {}
    data = _load(config)
    return data if isinstance(data, dict) else {}


def _overlay_dir(repo: Path, env: str) -> Path:
    """The overlay of ``env``: by directory name, else by profile name in servegate.yaml."""
    data = _config(repo)
    mapping: dict[str, str] = {}
    if isinstance(data.get("environments"), dict):
        mapping = {str(k): str(v) for k, v in data["environments"].items()}
    by_dir = [o for o in mapping if Path(o).name == env and not o.endswith(".yaml")]
    by_profile = [o for o, p in mapping.items() if p == env and not o.endswith(".yaml")]
    candidates = by_dir or by_profile or [f"overlays/{env}"]
    if len(candidates) > 1:
        raise PromoteError(
            f"environment {env!r} matches several overlays: "
            f"{', '.join(candidates)}; name the overlay directory"
        )
    overlay = (repo / candidates[0]).resolve()
    if not overlay.is_relative_to(repo.resolve()):
        raise PromoteError(f"overlay {candidates[0]!r} is outside the repo")
    patch = overlay / PATCH_FILE
    if patch.is_symlink() and not patch.exists():
        raise PromoteError(
            f"{candidates[0]}/{PATCH_FILE} is a symlink to {os.readlink(patch)!r}, which does "
            "not exist or loops: not edited"
        )
    if not patch.is_file():
        raise PromoteError(f"no {PATCH_FILE} in {overlay}: is {env!r} an environment of this repo?")
    return overlay


def _base_isvc(repo: Path) -> Any:
    path = repo / "base" / "inferenceservice.yaml"
    return _load(path) if path.is_file() else None


def _deployment_mode(repo: Path, patch: Any) -> str:
    """Knative or Standard, from the patch or else the base InferenceService."""
    spec = patch.get("spec") or {}
    if "canary" in spec:
        return "Standard"
    if "canaryTrafficPercent" in (spec.get("predictor") or {}):
        return "Knative"
    for source in (patch, _base_isvc(repo)):
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


def _merged(base: Any, patch: Any) -> Any:
    """JSON merge patch (RFC 7386), as kustomize applies a patch to a custom resource."""
    if not isinstance(base, dict) or not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = {k: copy.deepcopy(v) for k, v in base.items()}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _merged(out.get(key), value)
    return out


def _routes_standard_canary(repo: Path) -> None:
    """Refuse a Standard-mode canary the cluster will not route (kserve#5912, Gateway API)."""
    data = _config(repo)
    value = data.get("kserveVersion", data.get("kserve_version"))
    if value is not None:
        try:
            version = kserve_versions.parse(str(value))
        except kserve_versions.UnsupportedVersion as err:
            raise PromoteError(f"servegate.yaml: {err}") from None
        if not version.routes_canary:
            raise PromoteError(
                f"KServe {version.label} (servegate.yaml kserveVersion) does not route "
                "spec.canary: Standard-mode canaries get traffic only after v0.20.0, through "
                "Gateway API (kserve#5912)"
            )
    answers = repo / ".servegate-answers.json"
    try:
        gateway = json.loads(answers.read_text(encoding="utf-8")).get("ingress_gateway")
    except (OSError, ValueError, AttributeError):
        gateway = None
    if gateway is not None and gateway != "gateway-api":
        raise PromoteError(
            f"this repo's ingress is {gateway!r}: KServe routes Standard-mode canaries only "
            "through Gateway API HTTPRoutes (kserve#5912)"
        )


def _update(target: Any, values: Any) -> None:
    """Assign ``values`` into ``target`` key by key, recursing into mappings, so the comments
    of every key that stays are kept."""
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _update(target[key], value)
        else:
            target[key] = value


def _next_name(stable: Any) -> str:
    match = _GENERATION.match(str(stable or ""))
    return f"v{int(match[1]) + 1}" if match else "v2"


class _Overlay:
    """One environment's patch, loaded; ``save`` writes it back (safely)."""

    def __init__(self, repo: Path, env: str) -> None:
        self.repo = repo.resolve()
        self.path = _overlay_dir(self.repo, env) / PATCH_FILE
        try:
            self.target = safewrite.landing(self.repo, self.path, symlinks="inside")
        except safewrite.UnsafeWrite as err:
            raise PromoteError(str(err)) from None
        self.patch = _load(self.path)
        if not isinstance(self.patch, dict):
            raise PromoteError(f"{self.path} is not a YAML mapping")
        self.mode = _deployment_mode(self.repo, self.patch)

    def save(self, change: str) -> PromoteResult:
        out = StringIO()
        _yaml().dump(self.patch, out)
        try:
            safewrite.write_text(self.target, out.getvalue(), create_dirs=False)
        except (safewrite.UnsafeWrite, OSError) as err:
            raise PromoteError(str(err)) from None
        return PromoteResult(Path(self.target.shown), self.mode, change)

    def canaries(self) -> Any:
        spec = self.patch.get("spec") or {}
        return spec.get("canary")

    def single_canary(self) -> Any:
        canaries = self.canaries()
        if not canaries:
            raise PromoteError(
                f"no spec.canary entry in {self.target.shown}: nothing to promote or roll back"
            )
        if len(canaries) != 1:
            raise PromoteError("several canaries: edit their trafficPercent by hand")
        return canaries[0]

    def effective_predictor(self) -> dict[str, Any]:
        """The stable predictor kustomize renders: base/ merged with this patch."""
        base = _base_isvc(self.repo)
        spec = (base.get("spec") or {}) if isinstance(base, dict) else {}
        mine = (self.patch.get("spec") or {}).get("predictor") or {}
        merged: dict[str, Any] = _merged(spec.get("predictor") or {}, mine)
        return merged


def canary_state(repo: Path, env: str) -> CanaryState:
    """The canary ``env``'s overlay declares (mode, share, names). Raises PromoteError."""
    o = _Overlay(repo, env)
    predictor = (o.patch.get("spec") or {}).get("predictor") or {}
    if o.mode == "Knative":
        value = predictor.get("canaryTrafficPercent")
        return CanaryState("Knative", int(value) if isinstance(value, int) else None)
    canaries = o.canaries() or []
    first = canaries[0] if canaries else {}
    share = first.get("trafficPercent") if isinstance(first, dict) else None
    name = ((first.get("predictor") or {}).get("name")) if isinstance(first, dict) else None
    stable = o.effective_predictor().get("name")
    return CanaryState(
        "Standard",
        int(share) if isinstance(share, int) else None,
        str(name) if name else None,
        str(stable) if stable else None,
    )


def set_canary(repo: Path, env: str, percent: int) -> PromoteResult:
    """Send ``percent`` (0-100) of ``env``'s traffic to the canary (adding one in Standard mode)."""
    if not 0 <= percent <= 100:
        raise PromoteError(f"canary share {percent} is not between 0 and 100")
    o = _Overlay(repo, env)
    if o.mode == "Knative":
        _predictor(o.patch)["canaryTrafficPercent"] = percent
        return o.save(f"canaryTrafficPercent: {percent}")
    _routes_standard_canary(o.repo)
    canaries = o.canaries()
    if canaries:
        o.single_canary()["trafficPercent"] = percent
        return o.save(f"spec.canary[0].trafficPercent: {percent}")
    return _add_standard_canary(o, percent)


def _add_standard_canary(o: _Overlay, percent: int) -> PromoteResult:
    from ruamel.yaml.comments import CommentedMap

    stable = o.effective_predictor()
    name = _next_name(stable.get("name"))
    found = stable.get("model")
    model: dict[str, Any] = found if isinstance(found, dict) else {}
    if not model.get("storageUri") and not model.get("storage"):
        raise PromoteError("the stable predictor has no model storageUri to start the canary from")
    predictor = _predictor(o.patch)
    # pin the stable model in this overlay: later changes of base/ must not move it
    if isinstance(model.get("storageUri"), str):
        pinned = predictor.get("model")
        if not isinstance(pinned, dict):
            pinned = predictor["model"] = CommentedMap()
        pinned.setdefault("storageUri", model["storageUri"])
    body = CommentedMap()
    body["name"] = name
    for key, value in stable.items():
        if key not in _SCALING_FIELDS and key != "name":
            body[key] = value
    if isinstance(body.get("model"), dict):
        # the CRD requires the container name on a canary's model (KServe names it too)
        canary_model = CommentedMap()
        canary_model["name"] = "kserve-container"
        for key, value in body["model"].items():
            if key != "name":
                canary_model[key] = value
        body["model"] = canary_model
    entry = CommentedMap()
    entry["trafficPercent"] = percent
    entry["predictor"] = body
    o.patch["spec"]["canary"] = [entry]
    return o.save(
        f"spec.canary: new canary {name!r} with {percent}%, a copy of the stable model: put the "
        "new model's storageUri in spec.canary[0].predictor.model"
    )


def promote_full(repo: Path, env: str) -> PromoteResult:
    """The canary takes all of ``env``'s traffic. Raises PromoteError when there is none."""
    o = _Overlay(repo, env)
    if o.mode == "Knative":
        predictor = _predictor(o.patch)
        if "canaryTrafficPercent" not in predictor:
            raise PromoteError("no canary to promote: canaryTrafficPercent is not set")
        del predictor["canaryTrafficPercent"]
        return o.save("canaryTrafficPercent removed: the newest revision takes all traffic")
    canary = o.single_canary()
    promoted = canary.get("predictor") or {}
    name = promoted.get("name")
    predictor = _predictor(o.patch)
    _update(predictor, {k: v for k, v in promoted.items() if k not in _SCALING_FIELDS})
    # The CRD requires a canary model container's name; KServe's webhook refuses it on the
    # stable predictor (validatePredictor, KServe >= 0.16).
    model = predictor.get("model")
    if isinstance(model, dict):
        model.pop("name", None)
    del o.patch["spec"]["canary"]
    return o.save(
        f"canary {name!r} is now spec.predictor (named {name!r}, so its pods stay); "
        "spec.canary removed"
    )


def rollback(repo: Path, env: str) -> PromoteResult:
    """All of ``env``'s traffic back to the stable model. Raises PromoteError."""
    o = _Overlay(repo, env)
    if o.mode == "Knative":
        _predictor(o.patch)["canaryTrafficPercent"] = 0
        return o.save("canaryTrafficPercent: 0: all traffic to the previous revision")
    o.single_canary()
    del o.patch["spec"]["canary"]
    return o.save("spec.canary removed: all traffic to the stable predictor")


def promote_overlay(repo: Path, env: str, action: str, percent: int | None = None) -> str:
    """One move by name (``canary``, ``full``, ``rollback``); the change as one line."""
    if action == "canary":
        if percent is None:
            raise PromoteError("--canary needs a percentage")
        return str(set_canary(repo, env, percent))
    if action == "full":
        return str(promote_full(repo, env))
    if action == "rollback":
        return str(rollback(repo, env))
    raise PromoteError(f"unknown move {action!r}")


@click.command()
@click.argument("env")
@click.option(
    "--canary",
    "percent",
    type=click.IntRange(0, 100),
    metavar="N",
    help="Send N% of traffic to the canary (in Standard mode, add a canary if there is none).",
)
@click.option("--full", is_flag=True, help="Promote the canary: it takes all traffic.")
@click.option("--rollback", "back", is_flag=True, help="All traffic back to the stable model.")
@click.option(
    "--repo",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="The model repo.",
)
def promote(env: str, percent: int | None, full: bool, back: bool, repo: Path) -> int:
    """Move ENV's canary in git: --canary N, --full or --rollback (exactly one)."""
    chosen = [
        a for a, on in (("canary", percent is not None), ("full", full), ("rollback", back)) if on
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

"""Metric-driven promotion: what a model's canary is, where its traffic shows in Prometheus,
and what the repo's AnalysisTemplates say about it (promote, hold or rollback).

``servegate canary analyze`` renders the environment's overlay (real kustomize), reads the
InferenceService (deployment mode, canary share) and the AnalysisTemplates, names the canary's
and the stable's workloads as KServe names them, replays the templates' metrics against
Prometheus (``servegate.analysis``) and maps the run's phase to a decision the way Argo
Rollouts acts on it (``rollout/analysis.go``): Successful promotes, Inconclusive pauses
(hold), Failed or Error aborts (rollback).

Workloads (Istio's ``destination_workload``, the Deployment of the pod that served a request):
- Standard mode: ``constants.PredictorServiceName(isvc, predictor.name)`` (kserve
  pkg/constants/constants.go): ``<isvc>-predictor`` or ``<isvc>-<name>-predictor`` for the
  stable, the same with each ``spec.canary[].predictor.name`` for a canary
  (components/predictor.go reconcileCanaryDeployments).
- Knative mode: the Revisions of the Knative Service ``<isvc>-predictor`` are numbered
  ``-00001``, ``-00002``… (knative/serving configuration/resources/revision.go) and each runs
  in ``<revision>-deployment`` (revision/resources/names/names.go, kmeta.ChildName hashing
  names over 63 characters). KServe sends ``canaryTrafficPercent`` to the latest revision and
  the rest to the previous one, so among the revisions that served requests in the window
  the newest is the canary and the others are the stable.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from servegate import analysis
from servegate.prometheus import Prometheus

PROMOTE, HOLD, ROLLBACK = "promote", "hold", "rollback"
#: decision -> exit code of `canary analyze` (README "Metric-driven promotion")
EXIT_CODES = {PROMOTE: 0, ROLLBACK: 1, HOLD: 3}
MODE_ANNOTATION = "serving.kserve.io/deploymentMode"
_RUN_DECISION = {
    analysis.SUCCESSFUL: PROMOTE,
    analysis.FAILED: ROLLBACK,
    analysis.ERROR: ROLLBACK,
}


class CanaryError(Exception):
    """Cannot analyze or step as asked (one line, exit code 2)."""


@dataclass(frozen=True, slots=True)
class Canary:
    """What the overlay declares: the model, its mode and its canary (if any)."""

    env: str
    overlay: str
    """Relative to the repo."""
    namespace: str
    model: str
    mode: str
    """``Knative`` or ``Standard``."""
    percent: int | None
    """The canary's share of traffic; None when no canary is declared."""
    stable_name: str | None = None
    """Standard mode: ``spec.predictor.name``."""
    canary_name: str | None = None
    """Standard mode: ``spec.canary[0].predictor.name``."""


@dataclass(slots=True)
class Decision:
    canary: Canary
    decision: str
    reason: str
    phase: str | None = None
    canary_workloads: list[str] = field(default_factory=list)
    stable_workloads: list[str] = field(default_factory=list)
    args: dict[str, str] = field(default_factory=dict)
    metrics: list[analysis.MetricResult] = field(default_factory=list)
    stable_values: dict[str, str] = field(default_factory=dict)
    """metric name -> the same query about the stable at the last instant (evidence only)."""
    time: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        c = self.canary
        return {
            "version": 1,
            "env": c.env,
            "overlay": c.overlay,
            "namespace": c.namespace,
            "inferenceService": c.model,
            "deploymentMode": c.mode,
            "canaryTrafficPercent": c.percent,
            "decision": self.decision,
            "reason": self.reason,
            "analysisPhase": self.phase,
            "time": self.time,
            "canaryWorkloads": self.canary_workloads,
            "stableWorkloads": self.stable_workloads,
            "args": self.args,
            "metrics": [
                {**m.as_dict(), "stableValue": self.stable_values.get(m.name)} for m in self.metrics
            ],
        }


def predictor_service_name(isvc: str, predictor: str | None = None) -> str:
    """KServe's constants.PredictorServiceName."""
    return f"{isvc}-{predictor}-predictor" if predictor else f"{isvc}-predictor"


def child_name(parent: str, suffix: str) -> str:
    """knative.dev/pkg kmeta.ChildName: parent+suffix, hashed to fit 63 characters."""
    if len(parent) > 63 - len(suffix):
        digest = hashlib.md5(parent.encode(), usedforsecurity=False).hexdigest()
        if 31 - len(suffix) <= 0:
            raise CanaryError(f"suffix {suffix!r} too long")
        return parent[: 31 - len(suffix)] + digest + suffix
    return parent + suffix


def revision_number(workload: str, service: str) -> int | None:
    """The revision number of a Knative revision's Deployment name, or None."""
    match = re.fullmatch(re.escape(service) + r"-(\d{5,})-deployment", workload)
    if match:
        return int(match[1])
    hashed = re.fullmatch(r"[a-z0-9-]*[0-9a-f]{32}-deployment", workload)
    if hashed and workload.startswith(child_name(f"{service}-00001", "-deployment")[:20]):
        for n in range(1, 100000):  # recover the number behind kmeta.ChildName's md5
            if child_name(f"{service}-{n:05d}", "-deployment") == workload:
                return n
    return None


# --- reading the overlay ----------------------------------------------------------------------


def render_overlay(repo: Path, env: str) -> tuple[str, list[dict[str, Any]]]:
    """(overlay relative to repo, its objects rendered by kustomize). Raises CanaryError."""
    import yaml

    from servegate.commands.promote import PromoteError, _overlay_dir
    from servegate.errors import ToolMissing
    from servegate.render import render_one

    try:
        overlay = _overlay_dir(repo, env)
    except PromoteError as err:
        raise CanaryError(str(err)) from None
    kdir = overlay.relative_to(repo.resolve()).as_posix()
    with tempfile.TemporaryDirectory(prefix="servegate-canary-") as scratch:
        try:
            rendered = render_one(repo.resolve(), kdir, Path(scratch))
        except ToolMissing as err:
            raise CanaryError(str(err)) from None
    if rendered.error is not None or rendered.output is None:
        first = (rendered.error or "no output").strip().splitlines()[0]
        raise CanaryError(f"cannot render {kdir}: {first}")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    docs = [d for d in yaml.load_all(rendered.output, Loader=loader) if isinstance(d, dict)]
    return kdir, docs


def read_canary(env: str, overlay: str, objects: Sequence[Mapping[str, Any]]) -> Canary:
    isvcs = [o for o in objects if o.get("kind") == "InferenceService"]
    if len(isvcs) != 1:
        raise CanaryError(
            f"{overlay} renders {len(isvcs)} InferenceServices; canary analysis needs exactly one"
        )
    isvc = isvcs[0]
    meta = isvc.get("metadata") or {}
    spec = isvc.get("spec") or {}
    predictor = spec.get("predictor") or {}
    annotation = str((meta.get("annotations") or {}).get(MODE_ANNOTATION, "Knative"))
    mode = "Standard" if annotation in ("Standard", "RawDeployment") else "Knative"
    namespace = str(meta.get("namespace") or "")
    if not namespace:
        raise CanaryError(f"the InferenceService of {overlay} has no namespace")
    common = {"env": env, "overlay": overlay, "namespace": namespace, "model": str(meta["name"])}
    if mode == "Knative":
        percent = predictor.get("canaryTrafficPercent")
        return Canary(**common, mode=mode, percent=int(percent) if percent else None)
    canaries = spec.get("canary") or []
    if not canaries:
        return Canary(**common, mode=mode, percent=None, stable_name=predictor.get("name"))
    if len(canaries) > 1:
        raise CanaryError(f"{overlay} declares {len(canaries)} canaries; analyze supports one")
    first = canaries[0] or {}
    return Canary(
        **common,
        mode=mode,
        percent=int(first.get("trafficPercent") or 0) or None,
        stable_name=predictor.get("name"),
        canary_name=(first.get("predictor") or {}).get("name"),
    )


def analysis_templates(objects: Sequence[Mapping[str, Any]], names: Sequence[str]) -> list[Any]:
    found = [o for o in objects if o.get("kind") == "AnalysisTemplate"]
    if names:
        by_name = {str((o.get("metadata") or {}).get("name")): o for o in found}
        missing = [n for n in names if n not in by_name]
        if missing:
            raise CanaryError(f"no AnalysisTemplate {missing[0]!r} in the overlay")
        return [by_name[n] for n in names]
    if not found:
        raise CanaryError("the overlay has no AnalysisTemplate to evaluate")
    return sorted(found, key=lambda o: str(o["metadata"]["name"]))


# --- deciding -----------------------------------------------------------------------------


def _regex(names: Sequence[str]) -> str:
    return "|".join(re.escape(n).replace("\\-", "-") for n in names)


def _lookback_s(templates: Sequence[Mapping[str, Any]]) -> float:
    """How far back the replayed measurements reach, plus their queries' rate windows."""
    longest = 0.0
    for template in templates:
        for metric in (template.get("spec") or {}).get("metrics") or []:
            try:
                interval = analysis.parse_duration(metric.get("interval") or "0", "interval")
                count = int(str(metric.get("count") or 1))
            except (analysis.AnalysisError, ValueError):
                continue
            longest = max(longest, (count - 1) * interval)
    return longest + 10 * 60


def knative_workloads(
    canary: Canary, prometheus: Prometheus, now: float, lookback_s: float
) -> list[str]:
    """Deployments of the model's revisions that served requests in the window, oldest first."""
    service = predictor_service_name(canary.model)
    selector = (
        f'istio_requests_total{{reporter="destination", '
        f'destination_workload_namespace="{canary.namespace}"}}'
    )
    seen = prometheus.label_values("destination_workload", selector, now - lookback_s, now)
    numbered = sorted((n, w) for w in seen if (n := revision_number(w, service)) is not None)
    return [w for _, w in numbered]


def decide(
    canary: Canary,
    templates: Sequence[Mapping[str, Any]],
    prometheus: Prometheus,
    *,
    now: float | None = None,
    extra_args: Mapping[str, str] | None = None,
    canary_revision: str | None = None,
) -> Decision:
    """Analyze ``canary`` with ``templates`` against ``prometheus``. Raises CanaryError,
    analysis.AnalysisError or prometheus.Unreachable."""
    at = time.time() if now is None else now
    if canary.percent is None:
        state = (
            "canaryTrafficPercent absent or 0"
            if canary.mode == "Knative"
            else "no spec.canary entry with a trafficPercent"
        )
        return Decision(
            canary, HOLD, f"nothing to analyze: no canary in {canary.overlay} ({state})", time=at
        )
    if canary.mode == "Standard":
        canaries = [predictor_service_name(canary.model, canary.canary_name)]
        stables = [predictor_service_name(canary.model, canary.stable_name)]
    else:
        seen = knative_workloads(canary, prometheus, at, _lookback_s(templates))
        if canary_revision:
            canaries = [child_name(canary_revision, "-deployment")]
        else:
            canaries = seen[-1:] if len(seen) > 1 else []
        stables = [w for w in seen if w not in canaries]
    decision = Decision(
        canary, HOLD, "", canary_workloads=canaries, stable_workloads=stables, time=at
    )
    if not canaries or not stables:
        only = ", ".join(stables or canaries) or "no revision"
        decision.reason = (
            f"no canary traffic: only {only} served requests of {canary.model} in "
            f"{canary.namespace} in the window (the canary is the newest revision)"
        )
        return decision
    args = {
        "namespace": canary.namespace,
        "canary-workload": _regex(canaries),
        "stable-workload": _regex(stables),
        "prometheus-address": prometheus.url,
        **(extra_args or {}),
    }
    declared = {
        str(a.get("name")) for t in templates for a in (t.get("spec") or {}).get("args") or []
    }
    decision.args = {k: v for k, v in args.items() if k in declared}
    phase, results = analysis.analyze(templates, decision.args, prometheus, at)
    decision.phase, decision.metrics = phase, results
    decision.decision = _RUN_DECISION.get(phase, HOLD)
    _stable_evidence(decision, templates, prometheus, at)
    failing = [r for r in results if r.phase == phase and not r.dry_run]
    detail = "; ".join(f"{r.name}: {r.message}" for r in failing if r.message)
    decision.reason = f"analysis {phase}" + (f" ({detail})" if detail else "")
    return decision


def _stable_evidence(
    decision: Decision,
    templates: Sequence[Mapping[str, Any]],
    prometheus: Prometheus,
    at: float,
) -> None:
    """Each metric about the canary alone, asked once more about the stable (evidence)."""
    from servegate.prometheus import QueryError

    swapped = {**decision.args, "canary-workload": decision.args["stable-workload"]}
    for template in templates:
        name = str((template.get("metadata") or {}).get("name", "?"))
        declared = (template.get("spec") or {}).get("args") or []
        values = analysis.resolve_args(declared, swapped, name)
        for metric in (template.get("spec") or {}).get("metrics") or []:
            query = str(((metric.get("provider") or {}).get("prometheus") or {}).get("query"))
            if "args.canary-workload" not in query or "args.stable-workload" in query:
                continue
            resolved = analysis.substitute(metric, values, name)
            try:
                answer = prometheus.query(resolved["provider"]["prometheus"]["query"], at)
            except QueryError:
                continue
            decision.stable_values[str(metric.get("name"))] = answer.text

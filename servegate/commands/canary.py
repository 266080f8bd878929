"""``servegate canary analyze ENV --prometheus URL`` and ``servegate canary step ENV``.

``analyze`` evaluates the environment's AnalysisTemplates against Prometheus, canary against
stable (``servegate.canary``), and prints a decision with its evidence. Exit codes: 0 promote,
1 rollback, 3 hold, 2 usage or environment error (bad flag, no such environment, Prometheus
unreachable, a template it cannot evaluate faithfully).

``step`` turns a decision into the git change, through ``servegate promote``'s functions:
promote moves the canary to the next traffic step (``--steps``), or to all traffic after the
last one; rollback sends all traffic back to the stable; hold changes nothing. Exit codes:
0 done (or nothing to do), 2 usage or environment error.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from servegate.canary import EXIT_CODES, HOLD, PROMOTE, ROLLBACK


def _fail(message: str) -> int:
    click.echo(f"servegate: error: {message}", err=True)
    return 2


def _parse_time(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{text!r}: use RFC 3339 or Unix seconds") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _parse_args(pairs: tuple[str, ...]) -> dict[str, str]:
    args: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{pair!r}: use NAME=VALUE", param_hint="--arg")
        args[name] = value
    return args


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_text(report: dict[str, Any]) -> str:
    """The decision and its evidence, for people."""
    lines = [f"canary analyze {report['env']}: {report['decision'].upper()}"]
    percent = report["canaryTrafficPercent"]
    lines.append(
        f"  InferenceService {report['inferenceService']} in {report['namespace']} "
        f"({report['deploymentMode']} mode), "
        + (f"canary at {percent}%" if percent is not None else "no canary declared")
    )
    if report["canaryWorkloads"] or report["stableWorkloads"]:
        lines.append(f"  canary: {', '.join(report['canaryWorkloads']) or '(none)'}")
        lines.append(f"  stable: {', '.join(report['stableWorkloads']) or '(none)'}")
    lines.append(f"  {report['reason']} at {_iso(report['time'])}")
    for m in report["metrics"]:
        last = m["measurements"][-1]["value"] if m["measurements"] else ""
        if m.get("stableValue") is not None:
            value = f"canary {last or '-'}  stable {m['stableValue']}"
        else:
            value = f"value {last or '-'}"
        marks = " ".join(x["phase"][0] for x in m["measurements"])
        lines.append(
            f"  {m['template']}/{m['metric']}: {m['phase']}  {value}"
            f"  [{marks}]" + (f"  {m['message']}" if m["message"] else "")
        )
        lines.extend(
            f"      {_iso(x['time'])} {x['phase']}: {x['message']}"
            for x in m["measurements"]
            if x["message"]
        )
    return "\n".join(lines) + "\n"


@click.group()
def canary() -> None:
    """Metric-driven canary promotion: analyze, then step."""


@canary.command()
@click.argument("env")
@click.option(
    "--prometheus",
    "prometheus_url",
    envvar="SERVEGATE_PROMETHEUS_URL",
    required=True,
    metavar="URL",
    help="Prometheus to query, e.g. http://prometheus-operated.monitoring.svc:9090 "
    "(env SERVEGATE_PROMETHEUS_URL).",
)
@click.option(
    "--repo",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="The model repo.",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here.")
@click.option("--time", "at", metavar="TIME", help="Evaluate at TIME (RFC 3339 or Unix s).")
@click.option("--template", "templates", multiple=True, help="Only this AnalysisTemplate.")
@click.option("--arg", "args", multiple=True, metavar="NAME=VALUE", help="Template argument.")
@click.option(
    "--canary-revision",
    metavar="NAME",
    help="Knative mode: the canary's revision (default: the newest that served requests).",
)
@click.option("--timeout", type=click.FloatRange(0.1, 600), default=30.0, show_default=True)
def analyze(
    env: str,
    prometheus_url: str,
    repo: Path,
    fmt: str,
    output: Path | None,
    at: str | None,
    templates: tuple[str, ...],
    args: tuple[str, ...],
    canary_revision: str | None,
    timeout: float,
) -> int:
    """Decide ENV's canary from its AnalysisTemplates: promote (exit 0), rollback (1), hold (3)."""
    from servegate import canary as model
    from servegate.analysis import AnalysisError
    from servegate.prometheus import Prometheus, Unreachable

    try:
        now = _parse_time(at)
        extra = _parse_args(args)
        prometheus = Prometheus(prometheus_url, timeout=timeout)
        overlay, objects = model.render_overlay(repo, env)
        found = model.read_canary(env, overlay, objects)
        chosen = model.analysis_templates(objects, templates)
        decision = model.decide(
            found,
            chosen,
            prometheus,
            now=now if now is not None else time.time(),
            extra_args=extra,
            canary_revision=canary_revision,
        )
    except (model.CanaryError, AnalysisError, Unreachable) as err:
        return _fail(str(err))
    report = decision.as_dict()
    text = json.dumps(report, indent=2) + "\n" if fmt == "json" else render_text(report)
    if output is not None:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as err:
            return _fail(f"cannot write {output}: {err.strerror}")
    else:
        click.echo(text, nl=False)
    return EXIT_CODES[decision.decision]


def _steps(text: str) -> list[int]:
    try:
        steps = sorted({int(s) for s in text.split(",") if s.strip()})
    except ValueError:
        raise click.BadParameter(f"--steps {text!r}: comma-separated percents") from None
    if not steps or steps[0] < 1 or steps[-1] > 99:
        raise click.BadParameter("--steps: each step is a percent from 1 to 99")
    return steps


@canary.command()
@click.argument("env")
@click.option(
    "--decision",
    type=click.Choice([PROMOTE, HOLD, ROLLBACK]),
    help="The decision to apply (or --analysis).",
)
@click.option(
    "--analysis",
    "analysis_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON written by `canary analyze --format json`: apply its decision.",
)
@click.option(
    "--steps",
    default="10,25,50",
    show_default=True,
    help="Canary traffic steps (percent); promote after the last one takes all traffic.",
)
@click.option(
    "--repo",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="The model repo.",
)
def step(env: str, decision: str | None, analysis_file: Path | None, steps: str, repo: Path) -> int:
    """Apply a decision to ENV's overlay in git: next step, full promotion, or rollback."""
    from servegate import canary as model
    from servegate.commands.promote import PromoteError, promote_overlay

    if (decision is None) == (analysis_file is None):
        return _fail("give exactly one of --decision or --analysis")
    try:
        ladder = _steps(steps)
        overlay, objects = model.render_overlay(repo, env)
        current = model.read_canary(env, overlay, objects)
        if analysis_file is not None:
            decision = _decision_from(analysis_file, current)
        assert decision is not None
        if decision == HOLD:
            click.echo(f"{env}: hold: no change")
            return 0
        if current.percent is None:
            return _fail(f"{env} has no canary to {decision} ({overlay} declares none)")
        if decision == ROLLBACK:
            message = promote_overlay(repo.resolve(), env, "rollback")
        else:
            following = [s for s in ladder if s > current.percent]
            if following:
                message = promote_overlay(repo.resolve(), env, "canary", following[0])
            else:
                message = promote_overlay(repo.resolve(), env, "full")
    except (model.CanaryError, PromoteError) as err:
        return _fail(str(err))
    click.echo(f"{env}: {decision}: {message}")
    return 0


def _decision_from(path: Path, current: Any) -> str:
    from servegate.canary import CanaryError

    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise CanaryError(f"cannot read {path}: {err.strerror}") from None
    except ValueError as err:
        raise CanaryError(f"{path} is not the JSON of `canary analyze`: {err}") from None
    if not isinstance(report, dict) or report.get("version") != 1:
        raise CanaryError(f"{path} is not the JSON of `canary analyze --format json`")
    if report.get("env") != current.env:
        raise CanaryError(f"{path} analyzed {report.get('env')!r}, not {current.env!r}")
    if report.get("canaryTrafficPercent") != current.percent:
        raise CanaryError(
            f"{current.overlay} changed since the analysis (canary "
            f"{report.get('canaryTrafficPercent')}% analyzed, {current.percent}% now): "
            "analyze again"
        )
    decision = report.get("decision")
    if decision not in (PROMOTE, HOLD, ROLLBACK):
        raise CanaryError(f"{path}: unknown decision {decision!r}")
    return str(decision)


@canary.command("render")
@click.option("--gitops-repo", default=None, help="GitHub owner/name of the model repo.")
@click.option("--env", "env", default=None, help="Environment (overlay) to promote.")
@click.option("--prometheus-url", default=None, help="Prometheus as the pod reaches it.")
@click.option("--schedule", default=None, help="Cron schedule (default every 10 minutes).")
@click.option("--steps", default=None, help="Canary traffic steps (default 10,25,50).")
@click.option("--image", default=None, help="servegate image (pinned tag).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here.")
def render_workflow(
    gitops_repo: str | None,
    env: str | None,
    prometheus_url: str | None,
    schedule: str | None,
    steps: str | None,
    image: str | None,
    out: Path | None,
) -> int:
    """Print the canary WorkflowTemplate and CronWorkflow (Argo Workflows SDK)."""
    from dataclasses import replace

    from servegate.canary_workflow import CanarySettings, render_yaml

    given = {
        "gitops_repo": gitops_repo,
        "env": env,
        "prometheus_url": prometheus_url,
        "schedule": schedule,
        "steps": steps,
        "image": image,
    }
    settings = replace(CanarySettings(), **{k: v for k, v in given.items() if v is not None})
    text = render_yaml(settings)
    if out is None:
        click.echo(text, nl=False)
        return 0
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as err:
        return _fail(f"cannot write {out}: {err.strerror}")
    return 0

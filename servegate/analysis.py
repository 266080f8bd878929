"""Argo Rollouts analysis, replayed against Prometheus: the phases an AnalysisRun of these
AnalysisTemplates would reach, computed from the metrics' own history.

Argo Rollouts takes a metric's measurements one ``interval`` apart until ``count``; servegate
takes the same measurements at once, as instant queries at ``now - (count-1-k) * interval``
(k = 0 … count-1), which is what a run started ``(count-1) * interval`` ago has seen by now.
Everything else is Argo Rollouts' own logic, cited where it lives:

- arguments: template ``args`` (``value`` defaults, overridden by the caller) are substituted
  into the metric's JSON with quoted values, every ``{{…}}`` must resolve
  (``utils/analysis/factory.go`` ResolveMetricArgs, ``utils/template/template.go``);
- one measurement: the query result (``servegate.prometheus``) through ``successCondition``
  and ``failureCondition`` (``utils/evaluate/evaluate.go`` EvaluateResult: without a failure
  condition a false success is Failed, without a success condition a false failure is
  Successful, neither true is Inconclusive, an evaluation error is Error);
- the metric's phase after each measurement (``analysis/analysis.go`` runMeasurements,
  assessMetricStatus, assessMetricFailureInconclusiveOrError): Failed when failed >
  ``failureLimit`` (default 0, negative disables), Inconclusive when inconclusive >
  ``inconclusiveLimit`` (default 0), Error when consecutive errors > ``consecutiveErrorLimit``
  (default 4); ``consecutiveSuccessLimit``; Successful when ``count`` measurements are taken
  (errors do not count);
- the run's phase: the worst of its metrics' (``utils/analysis/helpers.go`` IsWorse), metrics
  listed in ``dryRun`` excluded.

What a replay cannot mean is refused (:class:`AnalysisError`): providers other than
Prometheus, ``rangeQuery``, authentication and headers, arguments from secrets or fields.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from servegate import exprlang
from servegate.prometheus import Prometheus, QueryError

SUCCESSFUL, FAILED, INCONCLUSIVE, ERROR = "Successful", "Failed", "Inconclusive", "Error"
RUNNING, PENDING = "Running", "Pending"
#: best to worst (utils/analysis/helpers.go analysisStatusOrder)
PHASE_ORDER = (SUCCESSFUL, RUNNING, PENDING, INCONCLUSIVE, ERROR, FAILED)
DEFAULT_CONSECUTIVE_ERROR_LIMIT = 4  # utils/defaults/defaults.go
_TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_SUPPORTED_METRIC_KEYS = frozenset(
    {
        "name",
        "interval",
        "initialDelay",
        "count",
        "successCondition",
        "failureCondition",
        "failureLimit",
        "inconclusiveLimit",
        "consecutiveErrorLimit",
        "consecutiveSuccessLimit",
        "provider",
    }
)
_SUPPORTED_PROMETHEUS_KEYS = frozenset({"address", "query", "timeout"})


class AnalysisError(Exception):
    """The templates cannot be evaluated faithfully (one line, exit code 2)."""


@dataclass(frozen=True, slots=True)
class Measurement:
    at: float
    """Unix seconds of the instant queried."""
    phase: str
    value: str = ""
    """The result as Argo Rollouts records it (e.g. ``[0.4]``)."""
    message: str = ""


@dataclass(slots=True)
class MetricResult:
    template: str
    name: str
    query: str
    """The query with its arguments substituted."""
    count: int
    interval_s: float
    dry_run: bool = False
    phase: str = PENDING
    message: str = ""
    measurements: list[Measurement] = field(default_factory=list)
    successful: int = 0
    failed: int = 0
    inconclusive: int = 0
    error: int = 0
    taken: int = 0
    consecutive_error: int = 0
    consecutive_success: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "template": self.template,
            "metric": self.name,
            "phase": self.phase,
            "message": self.message,
            "dryRun": self.dry_run,
            "query": self.query,
            "count": self.count,
            "intervalSeconds": self.interval_s,
            "successful": self.successful,
            "failed": self.failed,
            "inconclusive": self.inconclusive,
            "error": self.error,
            "measurements": [
                {"time": m.at, "phase": m.phase, "value": m.value, "message": m.message}
                for m in self.measurements
            ],
        }


def worst(phases: Iterable[str]) -> str:
    """The worst phase (Successful for none)."""
    return max(phases, key=PHASE_ORDER.index, default=SUCCESSFUL)


def parse_duration(text: Any, what: str) -> float:
    """Seconds of a Go duration string (``time.ParseDuration``: ``1m``, ``90s``, ``1h30m``)."""
    if not isinstance(text, str) or not text:
        raise AnalysisError(f"{what}: not a duration: {text!r}")
    body = text[1:] if text[0] in "+-" else text
    if body == "0":
        return 0.0
    pos, seconds = 0, 0.0
    for match in _DURATION.finditer(body):
        if match.start() != pos:
            break
        seconds += float(match[1]) * _UNITS[match[2]]
        pos = match.end()
    if pos != len(body) or not body:
        raise AnalysisError(f"{what}: invalid duration {text!r}")
    return -seconds if text[0] == "-" else seconds


def _int_or_string(value: Any, default: int | None, what: str) -> int | None:
    """An IntOrString field as IntValue() reads it (a string that is no number is 0)."""
    if value is None:
        return default
    if isinstance(value, bool):
        raise AnalysisError(f"{what}: not an integer: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return 0
    raise AnalysisError(f"{what}: not an integer: {value!r}")


def resolve_args(
    declared: Sequence[Mapping[str, Any]], given: Mapping[str, str], template: str
) -> dict[str, str]:
    """Template ``args`` with the caller's values over their defaults. AnalysisError when an
    argument has no value, or takes it from a secret or field servegate cannot read."""
    values: dict[str, str] = {}
    for arg in declared:
        name = str(arg.get("name", ""))
        if name in given:
            values[name] = given[name]
        elif arg.get("valueFrom") is not None:
            raise AnalysisError(
                f"AnalysisTemplate {template!r} argument {name!r} takes its value from "
                "valueFrom, which servegate cannot read: give it with --arg "
                f"{name}=VALUE"
            )
        elif arg.get("value") is not None:
            values[name] = str(arg["value"])
        else:
            raise AnalysisError(
                f'AnalysisTemplate {template!r}: argument "{name}" was not supplied '
                f"(give it with --arg {name}=VALUE)"
            )
    return values


def substitute(metric: Mapping[str, Any], args: Mapping[str, str], template: str) -> Any:
    """The metric with ``{{args.x}}`` substituted as Argo does (ResolveQuotedArgs)."""
    quoted = {f"args.{k}": json.dumps(v, ensure_ascii=False)[1:-1] for k, v in args.items()}
    unresolved: list[str] = []

    def replace(match: re.Match[str]) -> str:
        tag = match[1].strip()
        if tag in quoted:
            return quoted[tag]
        unresolved.append(match[0])
        return ""

    text = _TAG.sub(replace, json.dumps(metric, ensure_ascii=False))
    if unresolved:
        raise AnalysisError(
            f"AnalysisTemplate {template!r} metric {metric.get('name', '?')!r}: "
            f"failed to resolve {unresolved[0]}"
        )
    try:
        return json.loads(text)
    except ValueError as err:  # an argument broke the JSON (cannot happen with quoting)
        raise AnalysisError(f"AnalysisTemplate {template!r}: {err}") from None


@dataclass(frozen=True, slots=True)
class _Plan:
    result: MetricResult
    success: exprlang.Condition | None
    failure: exprlang.Condition | None
    failure_limit: int
    inconclusive_limit: int
    consecutive_error_limit: int
    consecutive_success_limit: int


def _plan(template: str, metric: Mapping[str, Any], dry_run: bool) -> _Plan:
    name = str(metric.get("name", "?"))
    where = f"AnalysisTemplate {template!r} metric {name!r}"
    unknown = sorted(set(metric) - _SUPPORTED_METRIC_KEYS)
    if unknown:
        raise AnalysisError(f"{where}: {', '.join(unknown)} not supported by canary analyze")
    provider = metric.get("provider") or {}
    kinds = sorted(provider) if isinstance(provider, dict) else []
    if kinds != ["prometheus"]:
        raise AnalysisError(
            f"{where}: provider {', '.join(kinds) or 'none'}: canary analyze evaluates "
            "Prometheus metrics only"
        )
    prom = provider["prometheus"] or {}
    extra = sorted(set(prom) - _SUPPORTED_PROMETHEUS_KEYS)
    if extra:
        raise AnalysisError(f"{where}: prometheus.{', prometheus.'.join(extra)} not supported")
    query = prom.get("query")
    if not isinstance(query, str) or not query.strip():
        raise AnalysisError(f"{where}: no prometheus.query")
    count = _int_or_string(metric.get("count"), None, f"{where} count")
    interval = metric.get("interval")
    interval_s = parse_duration(interval, f"{where} interval") if interval else 0.0
    if count is None or count < 1:
        count = 1  # an open-ended metric: one measurement, now
    if count > 1 and interval_s <= 0:
        raise AnalysisError(f"{where}: interval must be specified when count > 1")
    conditions: list[exprlang.Condition | None] = []
    for key in ("successCondition", "failureCondition"):
        text = metric.get(key)
        try:
            conditions.append(exprlang.parse(text) if isinstance(text, str) and text else None)
        except exprlang.Unsupported as err:
            raise AnalysisError(f"{where} {key}: {err}") from None
    failure_limit = _int_or_string(metric.get("failureLimit"), 0, f"{where} failureLimit")
    inconclusive = _int_or_string(metric.get("inconclusiveLimit"), 0, f"{where} limit")
    errors = _int_or_string(
        metric.get("consecutiveErrorLimit"), DEFAULT_CONSECUTIVE_ERROR_LIMIT, f"{where} limit"
    )
    successes = _int_or_string(metric.get("consecutiveSuccessLimit"), 0, f"{where} limit")
    assert failure_limit is not None and inconclusive is not None
    assert errors is not None and successes is not None
    result = MetricResult(template, name, query, count, interval_s, dry_run)
    return _Plan(
        result, conditions[0], conditions[1], failure_limit, inconclusive, errors, successes
    )


def evaluate_result(
    values: Any, success: exprlang.Condition | None, failure: exprlang.Condition | None
) -> tuple[str, str]:
    """(phase, message) of one measurement (utils/evaluate/evaluate.go EvaluateResult)."""
    succeeded = failed = False
    for condition, key in ((success, "successCondition"), (failure, "failureCondition")):
        if condition is None:
            continue
        try:
            outcome = condition.evaluate(values)
        except exprlang.EvalError as err:
            empty = values is None or (isinstance(values, list) and not values)
            why = (
                "metric result is nil or empty: no data returned from the metric provider"
                if empty
                else str(err)
            )
            return ERROR, f'could not evaluate {key} "{condition.text}": {why}'
        if key == "successCondition":
            succeeded = outcome
        else:
            failed = outcome
    if success is None and failure is None:
        return SUCCESSFUL, ""
    if failure is None:
        failed = not succeeded
    elif success is None:
        succeeded = not failed
    if failed:
        return FAILED, ""
    if not succeeded:
        return INCONCLUSIVE, ""
    return SUCCESSFUL, ""


def _assess(plan: _Plan) -> str | None:
    """The metric's phase once it has completed, else None (analysis/analysis.go)."""
    r = plan.result
    phase = None
    if plan.failure_limit >= 0 and r.failed > plan.failure_limit:
        phase, r.message = FAILED, f"failed ({r.failed}) > failureLimit ({plan.failure_limit})"
    if r.inconclusive > plan.inconclusive_limit:
        phase = INCONCLUSIVE
        limit = plan.inconclusive_limit
        r.message = f"inconclusive ({r.inconclusive}) > inconclusiveLimit ({limit})"
    if r.consecutive_error > plan.consecutive_error_limit:
        phase = ERROR
        r.message = (
            f"consecutiveErrors ({r.consecutive_error}) > consecutiveErrorLimit "
            f"({plan.consecutive_error_limit})"
        )
    if phase:
        return phase
    limit = plan.consecutive_success_limit
    if limit > 0 and r.consecutive_success >= limit:
        r.message = f"consecutiveSuccessLimit ({limit}) reached"
        return SUCCESSFUL
    if r.taken >= r.count:
        if limit > 0:
            r.message = f"consecutiveSuccessLimit ({limit}) not reached"
            return INCONCLUSIVE if plan.failure_limit >= 0 else FAILED
        r.message = f"count ({r.count}) reached"
        return SUCCESSFUL
    return None


Query = Callable[[str, float], Any]


def run_metric(plan: _Plan, query: Query, now: float) -> MetricResult:
    """Take the measurements, oldest first, until the metric completes."""
    r = plan.result
    for k in range(r.count):
        at = now - (r.count - 1 - k) * r.interval_s
        try:
            answer = query(r.query, at)
        except QueryError as err:
            phase, value, message = ERROR, "", str(err)
        else:
            phase, message = evaluate_result(answer.values, plan.success, plan.failure)
            value = answer.text
        r.measurements.append(Measurement(at, phase, value, message))
        if phase == ERROR:
            r.error += 1
            r.consecutive_error += 1
            r.consecutive_success = 0
        else:
            r.taken += 1
            r.consecutive_error = 0
            if phase == SUCCESSFUL:
                r.successful += 1
                r.consecutive_success += 1
            else:
                r.consecutive_success = 0
                r.failed += phase == FAILED
                r.inconclusive += phase == INCONCLUSIVE
        done = _assess(plan)
        if done:
            r.phase = done
            return r
    r.phase, r.message = RUNNING, f"{r.taken} of {r.count} measurements without error"
    return r


def _dry_run_names(spec: Mapping[str, Any], names: list[str]) -> set[str]:
    chosen: set[str] = set()
    for entry in spec.get("dryRun") or []:
        wanted = str((entry or {}).get("metricName", ""))
        chosen |= set(names) if wanted == "*" else {n for n in names if n == wanted}
    return chosen


def analyze(
    templates: Sequence[Mapping[str, Any]],
    args: Mapping[str, str],
    prometheus: Prometheus,
    now: float,
) -> tuple[str, list[MetricResult]]:
    """Replay every metric of ``templates`` (AnalysisTemplate objects, merged into one run as
    a Rollout step listing several templates is). Returns (run phase, metric results).
    Raises AnalysisError, or prometheus.Unreachable when the server cannot be reached."""
    plans: list[_Plan] = []
    seen: set[str] = set()
    for template in templates:
        name = str((template.get("metadata") or {}).get("name", "?"))
        spec = template.get("spec") or {}
        values = resolve_args(spec.get("args") or [], args, name)
        metrics = [m for m in spec.get("metrics") or [] if isinstance(m, dict)]
        dry = _dry_run_names(spec, [str(m.get("name")) for m in metrics])
        for metric in metrics:
            if metric.get("name") in seen:
                raise AnalysisError(f"two metrics are named {metric.get('name')!r}")
            seen.add(str(metric.get("name")))
            plans.append(_plan(name, substitute(metric, values, name), metric.get("name") in dry))
    if not plans:
        raise AnalysisError("no analysis metrics to evaluate")
    results = [run_metric(plan, prometheus.query, now) for plan in plans]
    return worst(r.phase for r in results if not r.dry_run), results

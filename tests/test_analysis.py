"""The AnalysisRun logic of Argo Rollouts as servegate replays it: argument resolution,
one measurement's phase, a metric's phase over its measurements (limits, errors that do not
count), the run's worst phase, and refusals. Queries are answered from a table of values per
instant (the Prometheus side is tested against a real server in test_canary_analyze.py)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from servegate import analysis, exprlang
from servegate.analysis import AnalysisError
from servegate.prometheus import QueryError, QueryResult

SUCCESS = "len(result) > 0 && !isNaN(result[0]) && result[0] <= 0.05"
FAILURE = "len(result) > 0 && !isNaN(result[0]) && result[0] > 0.05"


def metric(**fields: Any) -> dict[str, Any]:
    base = {
        "name": "error-rate",
        "interval": "1m",
        "count": 5,
        "successCondition": SUCCESS,
        "failureCondition": FAILURE,
        "provider": {"prometheus": {"query": 'x{ns="{{args.namespace}}"}'}},
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def replay(m: dict[str, Any], answers: list[Any], now: float = 1000.0) -> analysis.MetricResult:
    """Run one metric; answers[k] is the k-th (oldest first) measurement's result or error."""
    plan = analysis._plan("t", analysis.substitute(m, {"namespace": "ns"}, "t"), False)
    asked: list[float] = []

    def query(promql: str, at: float) -> QueryResult:
        assert promql == 'x{ns="ns"}'
        asked.append(at)
        answer = answers[len(asked) - 1]
        if isinstance(answer, Exception):
            raise answer
        return QueryResult(answer, str(answer), [])

    result = analysis.run_metric(plan, query, now)
    interval = plan.result.interval_s
    assert asked == [now - (plan.result.count - 1 - k) * interval for k in range(len(asked))]
    return result


def test_all_successful_after_count() -> None:
    r = replay(metric(), [[0.01]] * 5)
    assert (r.phase, r.successful, r.message) == ("Successful", 5, "count (5) reached")


def test_failure_limit_default_zero_and_explicit() -> None:
    assert replay(metric(), [[0.4]] * 5).phase == "Failed"  # one failure > 0
    r = replay(metric(failureLimit=1), [[0.01], [0.4], [0.01], [0.4], [0.01]])
    assert (r.phase, r.failed, len(r.measurements)) == ("Failed", 2, 4)
    assert r.message == "failed (2) > failureLimit (1)"
    assert replay(metric(failureLimit=1), [[0.4], [0.01], [0.01], [0.01], [0.01]]).phase == (
        "Successful"
    )
    assert replay(metric(failureLimit=-1), [[0.4]] * 5).phase == "Successful"  # disabled


def test_no_data_is_inconclusive_never_a_pass() -> None:
    for empty in ([], [math.nan]):
        r = replay(metric(), [empty] * 5)
        assert r.phase == "Inconclusive" and len(r.measurements) == 1
    assert replay(metric(inconclusiveLimit=2), [[], [], [0.01], [0.01], [0.01]]).phase == (
        "Successful"
    )


def test_errors_do_not_count_and_stop_after_the_limit() -> None:
    r = replay(metric(count=2), [QueryError("bad_data: parse error"), [0.01]])
    assert r.phase == "Running" and r.error == 1 and r.taken == 1  # still one to take
    r = replay(
        metric(consecutiveErrorLimit=1), [QueryError("x"), QueryError("x"), [0.01]] + [[0.01]] * 2
    )
    assert r.phase == "Error" and r.message == "consecutiveErrors (2) > consecutiveErrorLimit (1)"
    # an unguarded condition on an empty result is an evaluation error, as in Argo Rollouts
    r = replay(metric(successCondition="result[0] < 0.05", failureCondition=None, count=1), [[]])
    assert r.measurements[0].phase == "Error"
    assert "no data returned from the metric provider" in r.measurements[0].message


def test_consecutive_success_limit() -> None:
    r = replay(metric(consecutiveSuccessLimit=2), [[0.01], [0.01], [0.4], [0.4], [0.4]])
    assert r.phase == "Successful" and len(r.measurements) == 2
    r = replay(metric(consecutiveSuccessLimit=3, failureLimit=5), [[0.01], [0.4]] * 3)
    assert r.phase == "Inconclusive"  # count reached, limit not: both limits apply


@pytest.mark.parametrize(
    ("success", "failure", "value", "phase"),
    [
        (SUCCESS, None, [0.4], "Failed"),  # no failureCondition: a false success fails
        (SUCCESS, None, [], "Failed"),
        (None, FAILURE, [0.01], "Successful"),  # no successCondition: a false failure passes
        (None, FAILURE, [], "Successful"),
        (None, None, [0.4], "Successful"),
        (SUCCESS, FAILURE, [], "Inconclusive"),
        ("true", "true", [0.0], "Failed"),  # failure wins
    ],
)
def test_evaluate_result(success: str | None, failure: str | None, value: Any, phase: str) -> None:
    parsed = [exprlang.parse(c) if c else None for c in (success, failure)]
    assert analysis.evaluate_result(value, parsed[0], parsed[1])[0] == phase


def test_worst_phase_order() -> None:
    assert analysis.worst(["Successful", "Inconclusive"]) == "Inconclusive"
    assert analysis.worst(["Error", "Inconclusive"]) == "Error"
    assert analysis.worst(["Error", "Failed", "Successful"]) == "Failed"
    assert analysis.worst([]) == "Successful"


def test_arguments() -> None:
    declared = [{"name": "namespace"}, {"name": "limit", "value": "0.05"}]
    assert analysis.resolve_args(declared, {"namespace": "ns"}, "t") == {
        "namespace": "ns",
        "limit": "0.05",
    }
    assert analysis.resolve_args(declared, {"namespace": "a", "limit": "1"}, "t")["limit"] == "1"
    with pytest.raises(AnalysisError, match='argument "namespace" was not supplied'):
        analysis.resolve_args(declared, {}, "t")
    with pytest.raises(AnalysisError, match="valueFrom"):
        analysis.resolve_args([{"name": "k", "valueFrom": {"secretKeyRef": {}}}], {}, "t")
    # values are quoted into the metric's JSON, so a quote cannot break out of the query
    out = analysis.substitute({"q": 'a="{{ args.v }}"'}, {"v": 'x"}) or vector(1'}, "t")
    assert out == {"q": 'a="x"}) or vector(1"'}
    with pytest.raises(AnalysisError, match=r"failed to resolve \{\{args.other\}\}"):
        analysis.substitute({"q": "{{args.other}}"}, {"v": "1"}, "t")


def test_durations() -> None:
    assert analysis.parse_duration("1m", "x") == 60
    assert analysis.parse_duration("1h30m", "x") == 5400
    assert analysis.parse_duration("1.5s", "x") == 1.5
    assert analysis.parse_duration("500ms", "x") == 0.5
    for bad in ("1", "m", "1d", ""):
        with pytest.raises(AnalysisError):
            analysis.parse_duration(bad, "x")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"provider": {"web": {"url": "http://x"}}}, "Prometheus metrics only"),
        ({"provider": {"prometheus": {"query": "x", "rangeQuery": {}}}}, "rangeQuery"),
        ({"provider": {"prometheus": {"query": "x", "authentication": {}}}}, "authentication"),
        ({"successCondition": "result | len() > 0"}, "cannot parse"),
        ({"count": 3, "interval": None}, "interval must be specified"),
        ({"unknownField": 1}, "unknownField not supported"),
    ],
)
def test_refusals(change: dict[str, Any], message: str) -> None:
    with pytest.raises(AnalysisError, match=message):
        analysis._plan("t", metric(**change), False)


def test_dry_run_metrics_do_not_decide() -> None:
    template = {
        "metadata": {"name": "t"},
        "spec": {
            "args": [{"name": "namespace", "value": "ns"}],
            "dryRun": [{"metricName": "error-rate"}],
            "metrics": [metric(count=1)],
        },
    }

    class Table:
        url = "http://table"

        def query(self, promql: str, at: float) -> QueryResult:
            return QueryResult([0.9], "[0.9]", [])

    phase, results = analysis.analyze([template], {}, Table(), 100.0)  # type: ignore[arg-type]
    assert results[0].phase == "Failed" and results[0].dry_run
    assert phase == "Successful"


def test_knative_revision_deployments_long_names_hashed_as_kmeta_child_name() -> None:
    from servegate.canary import child_name, revision_number

    assert child_name("fraud-predictor-00002", "-deployment") == "fraud-predictor-00002-deployment"
    assert revision_number("fraud-predictor-00002-deployment", "fraud-predictor") == 2
    assert revision_number("fraud-predictor-deployment", "fraud-predictor") is None
    long_model = "m" * 38  # <model>-predictor-00002-deployment is longer than 63 characters
    service = f"{long_model}-predictor"
    hashed = child_name(f"{service}-00002", "-deployment")
    assert len(hashed) == 63 and hashed.startswith("m" * 20) and hashed.endswith("-deployment")
    assert revision_number(hashed, service) == 2
    assert revision_number(child_name("other-predictor-00002", "-deployment"), service) is None

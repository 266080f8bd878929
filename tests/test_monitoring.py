"""The generated monitoring: every PrometheusRule passes `promtool check rules` and fires (or
stays quiet) in `promtool test rules` unit tests on synthetic Istio series shaped as KServe
names each mode's workloads; every alert has a test that fires it. The PodMonitor and the
Grafana dashboard are checked for what kube-prometheus-stack selects and for queries that
parse and run."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from promserver import BUCKETS, binary
from test_generator import kustomize, make_repo

MODEL = "fraud"
#: (mode, stable workload, canary workload, the workload after promotion)
SHAPES = {
    "knative": (
        "fraud-predictor-00001-deployment",
        "fraud-predictor-00002-deployment",
        "fraud-predictor-00002-deployment",
    ),
    # Standard mode: a canary named v2 (KServe's zero-restart promotion keeps the name)
    "standard": ("fraud-predictor", "fraud-v2-predictor", "fraud-v2-predictor"),
}


def rendered(tmp_path: Path, mode: str, **options: Any) -> dict[str, list[dict[str, Any]]]:
    if mode == "standard":  # spec.canary gets traffic only through Gateway API (kserve#5912)
        options.setdefault("ingress_gateway", "gateway-api")
    repo = make_repo(tmp_path, model_name=MODEL, deployment_mode=mode, **options)
    return {o.name: kustomize(o) for o in sorted((repo / "overlays").iterdir())}


def of_kind(objs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objs if o["kind"] == kind]


def series(namespace: str, workload: str, code: str, per_minute: float, minutes: int) -> Any:
    labels = (
        f'reporter="destination", destination_workload="{workload}", '
        f'destination_workload_namespace="{namespace}", destination_service_name="{MODEL}", '
        f'response_code="{code}"'
    )
    return {
        "series": f"istio_requests_total{{{labels}}}",
        "values": f"0+{per_minute:g}x{minutes}",
    }


def traffic(
    namespace: str,
    workload: str,
    rps: float,
    error_ratio: float = 0.0,
    latency_ms: float = 40.0,
    minutes: int = 60,
) -> list[Any]:
    out = [series(namespace, workload, "200", rps * (1 - error_ratio) * 60, minutes)]
    if error_ratio:
        out.append(series(namespace, workload, "503", rps * error_ratio * 60, minutes))
    base = (
        f'reporter="destination", destination_workload="{workload}", '
        f'destination_workload_namespace="{namespace}", response_code="200"'
    )
    for le in (*BUCKETS, "+Inf"):
        inside = le == "+Inf" or latency_ms <= float(le)
        out.append(
            {
                "series": f'istio_request_duration_milliseconds_bucket{{{base}, le="{le}"}}',
                "values": f"0+{rps * 60 * inside:g}x{minutes}",
            }
        )
    return out


def up(namespace: str, value: int, minutes: int = 60) -> Any:
    job = f"{namespace}/{MODEL}-istio-proxy"
    return {
        "series": f'up{{namespace="{namespace}", job="{job}", pod="{MODEL}-x"}}',
        "values": f"{value}x{minutes}",
    }


def cases(namespace: str, mode: str, absent_alerts: bool) -> list[dict[str, Any]]:
    """promtool unit tests (tests: [...]) for one overlay's rules."""
    stable, canary, promoted = SHAPES[mode]
    ok = up(namespace, 1)
    desc_error = (
        f"More than 5% of the requests served by one workload of {MODEL} in {namespace} "
        "returned 5xx for 5 minutes."
    )
    desc_latency = (
        f"The 95th percentile request latency of one workload of {MODEL} in {namespace} is "
        "above 500 ms."
    )

    def error_alert(workload: str) -> Any:
        return {
            "exp_labels": {"severity": "critical", "destination_workload": workload},
            "exp_annotations": {
                "summary": f"{workload} fails 40% of its requests",
                "description": desc_error,
            },
        }

    tests: list[dict[str, Any]] = [
        {  # a 10% canary failing 40% of its requests while the stable is fine
            "interval": "1m",
            "input_series": [
                ok,
                *traffic(namespace, stable, 9),
                *traffic(namespace, canary, 1, 0.4),
            ],
            "alert_rule_test": [
                {
                    "eval_time": "20m",
                    "alertname": "ModelHighErrorRate",
                    "exp_alerts": [error_alert(canary)],
                },
                {"eval_time": "20m", "alertname": "ModelHighLatencyP95", "exp_alerts": []},
            ],
        },
        {  # healthy canary and stable: nothing fires
            "interval": "1m",
            "input_series": [
                ok,
                *traffic(namespace, stable, 9, 0.01),
                *traffic(namespace, canary, 1, 0.01),
            ],
            "alert_rule_test": [
                {"eval_time": "30m", "alertname": name, "exp_alerts": []}
                for name in (
                    "ModelHighErrorRate",
                    "ModelHighLatencyP95",
                    *(
                        ("ModelRequestMetricsAbsent", "ModelMetricsTargetMissing")
                        if absent_alerts
                        else ()
                    ),
                )
            ],
        },
        {  # after promotion all traffic is on the new workload, and it is still watched
            "interval": "1m",
            "input_series": [ok, *traffic(namespace, promoted, 10, 0.4)],
            "alert_rule_test": [
                {
                    "eval_time": "20m",
                    "alertname": "ModelHighErrorRate",
                    "exp_alerts": [error_alert(promoted)],
                }
            ],
        },
        {  # a slow canary
            "interval": "1m",
            "input_series": [
                ok,
                *traffic(namespace, stable, 9),
                *traffic(namespace, canary, 1, 0, 800),
            ],
            "alert_rule_test": [
                {
                    "eval_time": "20m",
                    "alertname": "ModelHighLatencyP95",
                    "exp_alerts": [
                        {
                            "exp_labels": {"severity": "warning", "destination_workload": canary},
                            "exp_annotations": {
                                "summary": f"p95 latency of {canary} is 975 ms",
                                "description": desc_latency,
                            },
                        }
                    ],
                }
            ],
        },
        {  # another app's failures in the namespace are not the model's
            "interval": "1m",
            "input_series": [
                ok,
                *traffic(namespace, stable, 9),
                *traffic(namespace, "other-app", 5, 0.5),
            ],
            "alert_rule_test": [
                {"eval_time": "20m", "alertname": "ModelHighErrorRate", "exp_alerts": []}
            ],
        },
    ]
    if absent_alerts:
        tests += [
            {  # nothing scraped at all: the PodMonitor is not selected, or no sidecar
                "interval": "1m",
                "input_series": [{"series": 'up{job="other"}', "values": "1x60"}],
                "alert_rule_test": [
                    {
                        "eval_time": "45m",
                        "alertname": "ModelMetricsTargetMissing",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "severity": "warning",
                                    "namespace": namespace,
                                    "job": f"{namespace}/{MODEL}-istio-proxy",
                                },
                                "exp_annotations": {
                                    "summary": f"No scrape target for {MODEL} in {namespace}",
                                    "description": (
                                        f"Prometheus has scraped no istio-proxy of {MODEL} for 15 minutes although the environment keeps at least {{n}} replica(s) running. "
                                        f"Check that the PodMonitor {MODEL}-istio-proxy carries the label your Prometheus selects and that the pods have their sidecar."
                                    ),
                                },
                            }
                        ],
                    },
                    {
                        "eval_time": "45m",
                        "alertname": "ModelRequestMetricsAbsent",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "severity": "warning",
                                    "reporter": "destination",
                                    "destination_workload_namespace": namespace,
                                },
                                "exp_annotations": {
                                    "summary": f"No request metrics for {MODEL} in {namespace}",
                                    "description": (
                                        f"No istio_requests_total series for any workload of {MODEL} in {namespace} for 35 minutes: "
                                        "either no traffic or the sidecar metrics are not collected, and the error and latency alerts cannot fire."
                                    ),
                                },
                            }
                        ],
                    },
                ],
            },
            {  # targets there but failing
                "interval": "1m",
                "input_series": [up(namespace, 0), *traffic(namespace, stable, 9)],
                "alert_rule_test": [
                    {
                        "eval_time": "20m",
                        "alertname": "ModelMetricsScrapeFailing",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "severity": "warning",
                                    "namespace": namespace,
                                    "job": f"{namespace}/{MODEL}-istio-proxy",
                                    "pod": f"{MODEL}-x",
                                },
                                "exp_annotations": {
                                    "summary": f"Prometheus cannot scrape {MODEL}-x",
                                    "description": (
                                        f"The istio-proxy metrics endpoint of a {MODEL} pod in {namespace} has failed to answer for 10 minutes."
                                    ),
                                },
                            }
                        ],
                    }
                ],
            },
        ]
    return tests


def _fill_min_replicas(tests: list[dict[str, Any]], min_replicas: int) -> None:
    for test in tests:
        for check in test["alert_rule_test"]:
            for alert in check["exp_alerts"]:
                notes = alert["exp_annotations"]
                notes["description"] = notes["description"].replace("{n}", str(min_replicas))


@pytest.mark.parametrize("mode", sorted(SHAPES))
def test_rules_pass_promtool_and_their_unit_tests(tmp_path: Path, mode: str) -> None:
    promtool = binary("promtool")
    for env, objs in rendered(tmp_path, mode).items():
        (rule,) = of_kind(objs, "PrometheusRule")
        namespace = rule["metadata"]["namespace"]
        rules_file = tmp_path / f"{env}-rules.yaml"
        rules_file.write_text(yaml.safe_dump(rule["spec"]), encoding="utf-8")
        done = subprocess.run(
            [promtool, "check", "rules", str(rules_file)], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr
        alerts = {r["alert"] for g in rule["spec"]["groups"] for r in g["rules"]}
        absent = "ModelRequestMetricsAbsent" in alerts
        isvc = of_kind(objs, "InferenceService")[0]
        tests = cases(namespace, mode, absent)
        _fill_min_replicas(tests, isvc["spec"]["predictor"]["minReplicas"])
        fired = {c["alertname"] for t in tests for c in t["alert_rule_test"] if c["exp_alerts"]}
        assert alerts <= fired, (
            f"{env}: alerts without a unit test that fires them: {alerts - fired}"
        )
        unit = tmp_path / f"{env}-test.yaml"
        unit.write_text(
            yaml.safe_dump(
                {"rule_files": [rules_file.name], "evaluation_interval": "1m", "tests": tests},
                sort_keys=False,
            ),
            encoding="utf-8",
        )
        done = subprocess.run(
            [promtool, "test", "rules", unit.name], capture_output=True, text=True, cwd=tmp_path
        )
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
        assert "SUCCESS" in done.stdout


def test_a_failing_unit_test_is_reported(tmp_path: Path) -> None:
    """The unit tests above can fail: a canary failing 40% is not quiet."""
    promtool = binary("promtool")
    objs = rendered(tmp_path, "knative", envs=("prod",))["prod"]
    (rule,) = of_kind(objs, "PrometheusRule")
    namespace = rule["metadata"]["namespace"]
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rule["spec"]), encoding="utf-8")
    stable, canary, _ = SHAPES["knative"]
    test = {
        "interval": "1m",
        "input_series": [*traffic(namespace, stable, 9), *traffic(namespace, canary, 1, 0.4)],
        "alert_rule_test": [
            {"eval_time": "20m", "alertname": "ModelHighErrorRate", "exp_alerts": []}
        ],
    }
    (tmp_path / "t.yaml").write_text(
        yaml.safe_dump({"rule_files": ["rules.yaml"], "tests": [test]}), encoding="utf-8"
    )
    done = subprocess.run(
        [promtool, "test", "rules", "t.yaml"], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode != 0 and canary in done.stdout + done.stderr


@pytest.mark.parametrize("mode", sorted(SHAPES))
def test_monitors_are_selected_by_kube_prometheus_stack(tmp_path: Path, mode: str) -> None:
    envs = rendered(tmp_path, mode, prometheus_release="monitoring")
    for objs in envs.values():
        (monitor,) = of_kind(objs, "PodMonitor")
        (rule,) = of_kind(objs, "PrometheusRule")
        (dashboard,) = of_kind(objs, "ConfigMap")
        # kube-prometheus-stack: ruleSelector / podMonitorSelector match release: <release>
        assert rule["metadata"]["labels"]["release"] == "monitoring"
        assert monitor["metadata"]["labels"]["release"] == "monitoring"
        assert "role" not in rule["metadata"]["labels"]
        # every pod of the model (stable, canary, every revision) carries this label
        assert monitor["spec"]["selector"] == {
            "matchLabels": {"serving.kserve.io/inferenceservice": MODEL}
        }
        (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
        assert endpoint["path"] == "/stats/prometheus"
        keep = endpoint["relabelings"][0]
        assert keep["regex"] == "istio-proxy"
        # the Grafana sidecar of kube-prometheus-stack loads grafana_dashboard: "1"
        assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
        (body,) = dashboard["data"].values()
        board = json.loads(body)
        exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
        assert len(exprs) == 5
        for expr in exprs:
            promql_parser.parse(expr)
            assert 'destination_workload=~"' in expr and rule["metadata"]["namespace"] in expr
        assert len(board["uid"]) <= 40


def test_drift_alert_is_gone_without_an_emitter(tmp_path: Path) -> None:
    for objs in rendered(tmp_path, "knative").values():
        (rule,) = of_kind(objs, "PrometheusRule")
        assert "drift" not in json.dumps(rule).lower()


def test_scale_to_zero_environments_get_no_absent_alerts(tmp_path: Path) -> None:
    envs = rendered(tmp_path, "knative")
    for objs in envs.values():
        isvc = of_kind(objs, "InferenceService")[0]
        (rule,) = of_kind(objs, "PrometheusRule")
        alerts = {r["alert"] for g in rule["spec"]["groups"] for r in g["rules"]}
        assert ("ModelRequestMetricsAbsent" in alerts) == (
            isvc["spec"]["predictor"]["minReplicas"] > 0
        )

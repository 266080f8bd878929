"""A real Prometheus for the tests: Debian's ``prometheus`` and ``promtool`` binaries, synthetic
series backfilled with ``promtool tsdb create-blocks-from openmetrics``, the server started on
loopback and stopped by the test that started it.

Without the binaries the calling test skips with the reason, or fails when
``SERVEGATE_REQUIRE_UPSTREAM=1`` (CI: ``.ci/run`` installs the package).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

#: Istio's default request duration buckets, milliseconds (istio/proxy stats plugin)
BUCKETS = (0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000)


def binary(name: str) -> str:
    """Path of ``promtool`` or ``prometheus``; skips (or fails in CI) when absent."""
    found = shutil.which(name)
    if found:
        return found
    reason = (
        f"{name} not found: install Debian's prometheus package "
        "(apt-get install prometheus; .ci/run does)"
    )
    if os.environ.get("SERVEGATE_REQUIRE_UPSTREAM") == "1":
        pytest.fail(f"{reason} (SERVEGATE_REQUIRE_UPSTREAM=1)")
    pytest.skip(reason)


@dataclass(frozen=True)
class Workload:
    """Synthetic Istio traffic served by one workload: requests per second, the share of
    them that fail with 503, and a latency in milliseconds every request takes."""

    namespace: str
    workload: str
    rps: float
    error_ratio: float = 0.0
    latency_ms: float = 40.0
    service: str = ""


def _labels(w: Workload, code: str) -> str:
    pairs = {
        "reporter": "destination",
        "source_workload": "istio-ingressgateway",
        "destination_workload": w.workload,
        "destination_workload_namespace": w.namespace,
        "destination_service_name": w.service or w.workload,
        "destination_canonical_service": w.workload,
        "destination_canonical_revision": "latest",
        "request_protocol": "http",
        "response_code": code,
    }
    return ",".join(f'{k}="{v}"' for k, v in pairs.items())


def openmetrics(workloads: Sequence[Workload], start: float, end: float, step: float) -> str:
    """OpenMetrics text of istio_requests_total and istio_request_duration_milliseconds for
    ``workloads``, one sample every ``step`` seconds from ``start`` to ``end`` (Unix s)."""
    times = [start + i * step for i in range(int((end - start) // step) + 1)]
    out = ["# TYPE istio_requests counter"]
    for w in workloads:
        for code, share in (("200", 1 - w.error_ratio), ("503", w.error_ratio)):
            if share <= 0:
                continue
            out.extend(
                f"istio_requests_total{{{_labels(w, code)}}} "
                f"{w.rps * share * (t - start):.3f} {t:.3f}"
                for t in times
            )
    out.append("# TYPE istio_request_duration_milliseconds histogram")
    for w in workloads:
        base = _labels(w, "200")
        for le in (*BUCKETS, float("inf")):
            inside = w.latency_ms <= le
            bound = "+Inf" if le == float("inf") else repr(float(le))
            out.extend(
                f'istio_request_duration_milliseconds_bucket{{{base},le="{bound}"}} '
                f"{(w.rps * (t - start) if inside else 0):.3f} {t:.3f}"
                for t in times
            )
        out.extend(
            f"istio_request_duration_milliseconds_count{{{base}}} {w.rps * (t - start):.3f} {t:.3f}"
            for t in times
        )
        out.extend(
            f"istio_request_duration_milliseconds_sum{{{base}}} "
            f"{w.rps * w.latency_ms * (t - start):.3f} {t:.3f}"
            for t in times
        )
    out.append("# EOF")
    return "\n".join(out) + "\n"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def prometheus(
    workdir: Path, workloads: Iterable[Workload], start: float, end: float, step: float = 15.0
) -> Iterator[str]:
    """Backfill ``workloads`` into a fresh TSDB, serve it on loopback; yields the base URL."""
    promtool, server = binary("promtool"), binary("prometheus")
    data = workdir / "tsdb"
    data.mkdir(parents=True)
    source = workdir / "series.om"
    source.write_text(openmetrics(list(workloads), start, end, step), encoding="utf-8")
    done = subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(source), str(data)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    config = workdir / "prometheus.yml"
    config.write_text("global:\n  evaluation_interval: 1m\n", encoding="utf-8")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (workdir / "prometheus.log").open("w", encoding="utf-8")
    process = subprocess.Popen(
        [
            server,
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=30d",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise AssertionError(
                    "prometheus did not start: "
                    + (workdir / "prometheus.log").read_text(encoding="utf-8")[-2000:]
                )
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def query(url: str, promql: str, at: float) -> Mapping[str, object]:
    """Raw instant query, for assertions about the data itself."""
    import json
    import urllib.parse

    params = urllib.parse.urlencode({"query": promql, "time": f"{at:.3f}"})
    with urllib.request.urlopen(f"{url}/api/v1/query?{params}", timeout=10) as response:
        data: Mapping[str, object] = json.load(response)["data"]
        return data

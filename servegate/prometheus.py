"""A small client of Prometheus' HTTP API (``/api/v1``): instant queries and label values.

Only what ``servegate canary analyze`` needs, with the standard library (no extra dependency):
``query`` evaluates PromQL at one instant and returns what Argo Rollouts' Prometheus provider
hands to its conditions (``metricproviders/prometheus/prometheus.go`` ``processResponse``: a
vector or matrix becomes a list of floats, a scalar one float); ``label_values`` lists the
values of a label among the series a selector matches in a time range.

Errors: :class:`Unreachable` when no HTTP answer came (connection refused, DNS, timeout, not
Prometheus at all): an environment problem of the operator; :class:`QueryError` when
Prometheus answered with an error (bad PromQL, execution error): Argo Rollouts records such a
measurement as Error.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

DEFAULT_TIMEOUT_S = 30.0
"""Argo Rollouts' default for a Prometheus metric without ``timeout``."""


class Unreachable(Exception):
    """No usable answer from the Prometheus server (one line, for exit code 2)."""


class QueryError(Exception):
    """Prometheus answered a query with an error."""


@dataclass(frozen=True, slots=True)
class QueryResult:
    """``values``: what Argo's conditions see as ``result``; ``text``: Argo's value string."""

    values: list[float] | float
    text: str
    series: list[dict[str, str]]
    """The label sets of the returned series (empty for a scalar)."""


def _format(value: float) -> str:
    """Prometheus' model.SampleValue.String() (strconv.FormatFloat(v, 'f', -1, 64)): NaN,
    +Inf, -Inf, else the shortest decimal that reads back as the same float, no exponent."""
    from decimal import Decimal

    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = format(Decimal(repr(value)), "f")
    return text[:-2] if text.endswith(".0") else text


class Prometheus:
    """One Prometheus server: ``Prometheus("http://127.0.0.1:9090")``."""

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise Unreachable(f"invalid Prometheus URL {url!r}: expected http(s)://host[:port]")
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _get(self, path: str, params: list[tuple[str, str]]) -> Any:
        url = f"{self.url}{path}?{urllib.parse.urlencode(params)}"
        request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                body = response.read()
        except urllib.error.HTTPError as err:
            body = err.read()
            try:
                data = json.loads(body)
            except ValueError:
                raise Unreachable(
                    f"Prometheus at {self.url} answered HTTP {err.code} without a JSON body"
                ) from None
            raise QueryError(
                f"{data.get('errorType', 'error')}: {data.get('error', f'HTTP {err.code}')}"
            ) from None
        except (urllib.error.URLError, OSError, ValueError) as err:
            reason = getattr(err, "reason", err)
            raise Unreachable(f"cannot reach Prometheus at {self.url}: {reason}") from None
        try:
            data = json.loads(body)
        except ValueError:
            raise Unreachable(f"{self.url} did not answer with Prometheus JSON") from None
        if not isinstance(data, dict) or data.get("status") != "success":
            error = data.get("error") if isinstance(data, dict) else None
            raise QueryError(str(error or "Prometheus did not answer with status success"))
        return data.get("data")

    def query(self, promql: str, at: float) -> QueryResult:
        """Evaluate ``promql`` at ``at`` (Unix seconds)."""
        data = self._get("/api/v1/query", [("query", promql), ("time", f"{at:.3f}")])
        kind = data.get("resultType") if isinstance(data, dict) else None
        result = data.get("result") if isinstance(data, dict) else None
        if kind == "scalar" and isinstance(result, list) and len(result) == 2:
            value = float(result[1])
            return QueryResult(value, _format(value), [])
        if kind == "vector" and isinstance(result, list):
            values = [float(s["value"][1]) for s in result]
            series = [dict(s.get("metric") or {}) for s in result]
        elif kind == "matrix" and isinstance(result, list):
            values = [float(v[1]) for s in result for v in s["values"]]
            series = [dict(s.get("metric") or {}) for s in result]
        else:  # Argo: "Prometheus metric type not supported" (strings): an Error measurement
            raise QueryError(f"Prometheus metric type not supported: {kind}")
        return QueryResult(values, "[" + ",".join(_format(v) for v in values) + "]", series)

    def label_values(self, label: str, selector: str, start: float, end: float) -> list[str]:
        """Values of ``label`` among the series ``selector`` matches between start and end."""
        params = [("match[]", selector), ("start", f"{start:.3f}"), ("end", f"{end:.3f}")]
        data = self._get(f"/api/v1/label/{urllib.parse.quote(label)}/values", params)
        return sorted(str(v) for v in data) if isinstance(data, list) else []

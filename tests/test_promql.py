"""servegate.promql: no query can crash or stall servegate; the parser's verdict otherwise."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import fresh_promql

from servegate import promql, regexcost

SERVEGATE = Path(sys.executable).parent / "servegate"


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    """Each test with its own per-process counters and memo."""
    with fresh_promql():
        yield


def test_size_skips_strings_and_comments() -> None:
    assert promql.size("up{a=\"(((\", b='[[', c=`{{`}") == promql.Size(1, 3)
    assert promql.size("# it's ((((\nsum(up)") == promql.Size(1, 0)
    assert promql.size("a + b - c * d / e % f ^ g and h or i unless j").operators == 9
    # an unterminated quote hides nothing: the rest still counts
    assert promql.size('up{a="x} + (((1)))').nesting == 3


def test_valid_and_invalid_queries() -> None:
    assert promql.problem('sum by (job) (rate(http_requests_total{code=~"5.."}[5m]))') is None
    found = promql.problem("sum(rate(x[5m])")
    assert found is not None and found.parsed and "parenthesis" in found.message


def test_each_query_text_is_judged_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A monorepo's overlays repeat their bases' queries: one parse and one sizing per text."""
    import promql_parser

    parsed: list[str] = []
    real = promql_parser.parse

    def parse(query: str) -> Any:
        parsed.append(query)
        return real(query)

    monkeypatch.setattr(promql_parser, "parse", parse)
    for _ in range(3):
        assert promql.problem("sum(up)") is None
        bad = promql.problem("sum(up")
        assert bad is not None and bad.parsed
    assert parsed == ["sum(up)", "sum(up"]


@pytest.mark.parametrize(
    "query",
    [
        "(" * 20_000 + "1" + ")" * 20_000,
        "abs(" * 10_000 + "up" + ")" * 10_000,
        "+".join(["1"] * 20_000),
        " and ".join(["up"] * 5_000),
        "sum(" + "x" * (promql.MAX_QUERY_CHARS + 1) + ")",
    ],
)
def test_pathological_queries_are_refused_fast(query: str) -> None:
    started = time.perf_counter()
    found = promql.problem(query)
    assert time.perf_counter() - started < 2
    assert found is not None and not found.parsed
    assert promql.describe(found).startswith("PromQL not parsed: ")


def test_costly_regular_expressions_are_refused_fast() -> None:
    """promql-parser compiles each =~ regex while parsing: \\w{1000} took 0.8 s, 20 chars."""
    for query in ['up{job=~"\\\\w{1000}"}', "up{job!~'(\\\\pL{40}){40}'}"]:
        started = time.perf_counter()
        found = promql.problem(query)
        assert time.perf_counter() - started < 0.4  # parsed, each takes 0.8 s or more
        assert found is not None and not found.parsed and "regular expressions" in found.message
        assert promql.parse(query) is None
    assert promql.usage().cost == 0  # refused before the parser: nothing spent


def test_regular_expressions_are_charged_so_many_costly_queries_stay_bounded() -> None:
    """Each query under the bound parses; together they spend the run's budget, and the rest
    are refused: a file of sixty of them took 54 s, now about two."""
    queries = [f'up{{job=~"\\\\w{{{150 + i}}}"}}' for i in range(12)]
    started = time.perf_counter()
    found = [promql.problem(q) for q in queries]
    parsed = [f for f in found if f is None or f.parsed]
    assert 0 < len(parsed) <= promql.RUN_COST // (150 * regexcost.UNICODE_CLASS)
    assert all("in one run" in f.message for f in found[len(parsed) :] if f is not None)
    assert promql.usage().refused
    assert time.perf_counter() - started < 10
    assert promql.usage().cost <= promql.RUN_COST


def test_parse_gives_a_tree_only_within_the_inline_bound() -> None:
    assert promql.parse("sum(rate(x[5m]))") is not None
    assert promql.parse("sum(rate(x[5m])") is None
    assert promql.parse("(" * 20_000 + "1" + ")" * 20_000) is None  # would crash the parser
    assert promql.parse(" + ".join(["up"] * 300)) is None  # parsed apart only, never here
    assert promql._children == 0


def test_large_queries_are_parsed_apart() -> None:
    query = " + ".join(["up"] * 300)  # beyond INLINE_DEPTH, within MAX_DEPTH
    assert promql.size(query).depth > promql.INLINE_DEPTH
    assert promql.problem(query) is None
    assert promql._children == 1
    found = promql.problem(query + " +")
    assert found is not None and found.parsed


def test_a_crash_apart_is_a_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(promql, "_CHILD", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    found = promql.problem(" + ".join(["up"] * 300))
    assert found is not None and not found.parsed and "crashed" in found.message


def test_children_and_parse_work_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(promql, "MAX_CHILD_PARSES", 0)
    found = promql.problem(" + ".join(["up"] * 300))
    assert found is not None and not found.parsed
    assert promql.usage().refused  # servegate.fanout then evaluates in one process
    promql._cost = promql.RUN_COST
    found = promql.problem("sum(up)")
    assert found is not None and not found.parsed and "in one run" in found.message


def test_usage_charges_each_distinct_query_once() -> None:
    assert promql.usage() == promql.Usage(0, 0, False)
    for _ in range(2):
        assert promql.problem("sum(up)") is None
        assert promql.problem("sum(rate(x[5m]))") is None
    # depth max(1, 8) ** 2 each: two queries, charged once however often they are judged
    assert promql.usage() == promql.Usage(2 * 64, 0, False)
    promql._cost = promql.RUN_COST - 64
    assert promql.problem("avg(up)") is None
    assert not promql.usage().refused
    found = promql.problem("max(up)")
    assert found is not None and not found.parsed
    assert promql.usage() == promql.Usage(promql.RUN_COST, 0, True)


DEEP = "(" * 20_000 + "1" + ")" * 20_000

ANALYSIS = f"""\
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {{name: smoke, namespace: ml}}
spec:
  metrics:
  - name: q
    successCondition: result[0] >= 0
    provider:
      prometheus:
        address: http://prometheus.monitoring:9090
        query: "{DEEP}"
"""

RULES = f"""\
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {{name: alerts, namespace: ml}}
spec:
  groups:
  - name: g
    rules:
    - alert: Deep
      expr: "{" + ".join(["up"] * 20_000)}"
"""


def test_check_reports_deep_queries_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "at.yaml").write_text(ANALYSIS, encoding="utf-8")
    (tmp_path / "rules.yaml").write_text(RULES, encoding="utf-8")
    started = time.perf_counter()
    done = subprocess.run(
        [str(SERVEGATE), "check", str(tmp_path), "--no-cache"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert time.perf_counter() - started < 30
    assert done.returncode == 1, done.stderr
    assert "rollouts.promql" in done.stdout and "AnalysisTemplate ml/smoke" in done.stdout
    assert "monitoring.promql" in done.stdout and "PrometheusRule ml/alerts" in done.stdout

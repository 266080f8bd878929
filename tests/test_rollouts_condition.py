"""Argo Rollouts conditions (servegate/rules/rollouts/_condition.py, _promql_type.py and
condition_guard.py): the query's result type from its PromQL tree, expr-lang's compile-time type
check, and what a condition decides on no data."""

from __future__ import annotations

import pytest

from servegate.exprlang import parse
from servegate.rules.rollouts._condition import LIST, NUMBER, CompileError, check_types
from servegate.rules.rollouts._promql_type import never_empty, query_kind
from servegate.rules.rollouts.condition_guard import problems


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        ("1", "scalar"),
        ("scalar(sum(up))", "scalar"),
        ("time()", "scalar"),
        ("scalar(sum(a)) / scalar(sum(b))", "scalar"),
        ("-(2 * pi())", "scalar"),
        ("sum(up)", "list"),
        ("sum(up) / 2", "list"),
        ("vector(1)", "list"),
        ("up[5m]", "list"),
        ("rate(up[5m])[10m:1m]", "list"),
        ("up > bool 1", "list"),
        ('sum(rate(x{svc="{{args.service}}"}[{{args.window}}]))', "list"),
        ('"a string"', "string"),
        ("sum(", None),
    ],
)
def test_query_kind(query: str, kind: str | None) -> None:
    assert query_kind(query) == kind


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sum(rate(ok[5m])) / sum(rate(all[5m])) or vector(1)", True),
        ("(sum(a) / sum(b)) or on() vector(0)", True),
        ("vector(0) or sum(a)", True),
        ("100 * (sum(a) or vector(0))", True),
        ('sum(rate(x{svc="{{args.service}}"}[{{args.window}}])) or vector(0)', True),
        ("sum(a) / sum(b)", False),
        ("sum(a) and vector(1)", False),
        ("(sum(a) or vector(0)) > 0.5", False),  # a comparison filters the element out
        ("(sum(a) or vector(0)) / sum(b)", False),  # vector matching can drop it
        ("sum(", False),
    ],
)
def test_a_query_that_is_never_empty(query: str, expected: bool) -> None:
    assert never_empty(query) is expected


def test_range_query_is_always_a_list() -> None:
    assert query_kind("scalar(sum(up))", range_query=True) == "list"


@pytest.mark.parametrize(
    ("condition", "result", "compiles"),
    [
        ("result >= 0.95", LIST, False),
        ("isNaN(result)", LIST, False),
        ("result * 100 > 5", LIST, False),
        ("len(result) > 0 && result[0] >= 0.95", LIST, True),
        ("all(result, {# < 0.5})", LIST, True),
        ("result >= 0.95", NUMBER, True),
        ("result[0] >= 0.95", NUMBER, False),
        ("len(result) > 0", NUMBER, False),
        ("all(result, {# < 0.5})", NUMBER, False),
        ("isNaN(result) || result > 0.05", NUMBER, True),
        ("!(result > 1)", NUMBER, True),
        ("!result", NUMBER, False),
        ("len(result) > 0 && result >= 0.95", LIST, False),  # types are checked on every branch
        ("0 < result < 1", NUMBER, True),
        ("0 < result < 1", LIST, False),
        ("result[0] in [1, 2]", LIST, True),
        ("default(result, 0) > 1", LIST, True),  # default() returns an interface: accepted
    ],
)
def test_compile_time_types(condition: str, result: str, compiles: bool) -> None:
    node = parse(condition).tree
    if compiles:
        check_types(node, result)
    else:
        with pytest.raises(CompileError):
            check_types(node, result)


@pytest.mark.parametrize(
    ("key", "condition", "kind", "advice"),
    [
        ("successCondition", "len(result) > 0 && result[0] >= 0.95", "list", []),
        ("successCondition", "result[0] >= 0.95", "list", ["errors on an empty result"]),
        ("successCondition", "all(result, {# < 0.5})", "list", ["passes on an empty result"]),
        ("successCondition", "len(result) > 0 && result[0] != 0", "list", ["passes on NaN"]),
        ("successCondition", "result < 0.05", "scalar", []),
        (
            "failureCondition",
            "len(result) > 0 && (isNaN(result[0]) || result[0] > 0.05)",
            "list",
            ["does not fail on an empty result"],
        ),
        (
            "failureCondition",
            "len(result) == 0 || isNaN(result[0]) || result[0] > 0.05",
            "list",
            [],
        ),
        ("failureCondition", "result > 0.05", "scalar", ["does not fail on NaN"]),
        ("failureCondition", "isNaN(result) || result > 0.05", "scalar", []),
    ],
)
def test_no_data_advice_per_condition(
    key: str, condition: str, kind: str, advice: list[str]
) -> None:
    found = problems(key, condition, kind)
    assert [a.split(":")[0] for a in found] == advice

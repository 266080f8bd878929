"""Argo Rollouts conditions (expr-lang) parsed and evaluated as Argo Rollouts evaluates them:
precedence, short circuit, chained comparisons, numbers across int and float, the functions
of utils/evaluate/evaluate.go, run-time errors, and a clear refusal of what is not supported."""

from __future__ import annotations

import math
import time
from typing import Any

import pytest

from servegate.exprlang import MAX_DEPTH, EvalError, TooLarge, Unsupported, parse

GUARDED = "len(result) > 0 && !isNaN(result[0]) && result[0] <= 0.05"


@pytest.mark.parametrize(
    ("condition", "result", "expected"),
    [
        (GUARDED, [0.04], True),
        (GUARDED, [0.4], False),
        (GUARDED, [], False),  # short circuit: result[0] is never evaluated
        (GUARDED, [math.nan], False),
        ("len(result) > 0 && !isNaN(result[0]) && result[0] > 500", [600.0], True),
        ("result[0] < 500", [499.5], True),  # float against int
        ("result[0] == 1", [1.0], True),
        ("result < 5", 4.0, True),  # a scalar query result
        ("all(result, {# < 0.05})", [0.01, 0.02], True),
        ("all(result, # < 0.05)", [0.01, 0.2], False),
        ("any(result, # > 0.1) || false", [0.01, 0.2], True),
        ("none(result, # > 0.1)", [0.01], True),
        ("one(result, # > 0.1)", [0.2, 0.3], False),
        ("len(filter(result, # > 0.1)) == 2", [0.2, 0.3, 0.0], True),
        ("count(result, # > 0.1) == 2", [0.2, 0.3, 0.0], True),
        ("sum(map(result, # * 2)) == 6", [1.0, 2.0], True),
        ("0 < result[0] < 1", [0.5], True),  # chained: 0 < x && x < 1
        ("0 < result[0] < 1", [1.5], False),
        ("!(result[0] > 1) and true", [0.5], True),
        ("not false or false", None, True),
        ("1 + 2 * 3 == 7", None, True),
        ("-2 ** 2 == -4", None, True),  # unary minus binds looser than **
        ("2 ** 3 ** 2 == 512", None, True),  # right associative
        ("7 % 3 == 1 && -7 % 3 == -1", None, True),  # Go truncates toward zero
        ("7 / 2 == 3.5", None, True),  # always float division
        ("1 / 0 > 1e300", None, True),  # Go float division: +Inf
        ("isInf(1 / 0) && isNaN(0 / 0)", None, True),
        ("result[-1] == 2", [1.0, 2.0], True),
        ("len(result) > 0 ? result[0] < 1 : false", [], False),
        ("'a' + \"b\" == 'ab'", None, True),
        ("result[0] in [1, 2]", [2.0], True),
        ("isNil(result)", None, True),  # Argo: is the result nil, whatever the argument
        ("isNil(1)", [1.0], False),
        ("default(result, 3) == 3", None, True),
        ("asInt(result[0]) == 1", [1.9], True),
        ("asFloat('0.5') == 0.5", None, True),
        ("abs(-2) == 2 && max(1, 3) == 3 && min(result) == 1", [1.0, 2.0], True),
        ("nil ?? 2 == 2", None, True),
    ],
)
def test_evaluates_like_argo_rollouts(condition: str, result: Any, expected: bool) -> None:
    assert parse(condition).evaluate(result) is expected


@pytest.mark.parametrize(
    ("condition", "result", "message"),
    [
        ("result[0] < 1", [], "index out of range: 0 (array length is 0)"),
        ("result < 1", [1.0], "mismatched types"),
        ("result[0]", [1.0], "expected bool, but got float64"),
        ("1 && true", None, "mismatched types int and bool"),
        ("1 % 0 == 0", None, "integer divide by zero"),
        ("asInt('x') == 1", None, "invalid syntax"),
        ("len(1) == 1", None, "invalid argument for len"),
    ],
)
def test_runtime_errors(condition: str, result: Any, message: str) -> None:
    with pytest.raises(EvalError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(condition).evaluate(result)


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("foo > 1", "unknown name foo"),
        ("result | len() > 0", "cannot parse"),
        ("matches(result, 'x')", "matches() is not supported"),
        ("let x = 1; x", "cannot parse"),
        ("result.x > 1", "cannot parse"),
        ("# > 1", "outside a predicate"),
        ("result[0] <", "cannot parse"),
        ("all(result)", "takes an array and a predicate"),
    ],
)
def test_refuses_what_it_does_not_support(condition: str, message: str) -> None:
    with pytest.raises(Unsupported, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(condition)


@pytest.mark.parametrize(
    "condition",
    [
        "(" * 5_000 + "result[0] > 0" + ")" * 5_000,  # 5,000 levels overflowed the checks
        "!" * 15_000 + "true",
        "-" * 15_000 + "1 < 0",
        " && ".join(["result[0] >= 0"] * 800),  # a left-deep tree 800 levels deep
        "result[0]" + "[0]" * 3_000 + " > 1",
        "1 ?? " * 3_000 + "1 > 0",
        " && ".join(["len(result) > 0"] * 20_000),  # 340 KiB
    ],
)
def test_a_condition_beyond_the_bounds_is_refused_fast(condition: str) -> None:
    started = time.perf_counter()
    with pytest.raises(TooLarge, match=r"deeper than|KiB"):
        parse(condition)
    with pytest.raises(TooLarge):  # remembered: the same refusal, not a bare Unsupported
        parse(condition)
    assert time.perf_counter() - started < 2


def test_conditions_within_the_bounds_parse_and_evaluate() -> None:
    depth = MAX_DEPTH - 8  # a comparison of an index is four levels of its own
    assert parse("(" * depth + "result[0] > 0" + ")" * depth).evaluate([1.0]) is True
    assert parse(" && ".join(["result[0] > 0"] * 60)).evaluate([1.0]) is True

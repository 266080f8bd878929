"""servegate.regexcost: what compiling a query's regular expressions costs, estimated."""

from __future__ import annotations

import pytest

from servegate import regexcost
from servegate.regexcost import ANY, LITERAL, NEGATED_SET, SET, UNICODE_CLASS, cost, query_cost


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("5..", LITERAL + 2 * ANY),
        ("api|web", 6 * LITERAL),
        (r"\w", UNICODE_CLASS),
        (r"\w{300}", 300 * UNICODE_CLASS),
        (r"\w{3,}", 4 * UNICODE_CLASS),  # three copies and a star
        (r"\w{2,5}", 5 * UNICODE_CLASS),
        (r"\pL{2}", 2 * UNICODE_CLASS),
        (r"\p{Greek}+", UNICODE_CLASS),
        (r"[\w-]{2}", 2 * UNICODE_CLASS),  # a set holding a Unicode class is one
        ("[[:alpha:]]{4}", 4 * SET),
        ("[^a]{10}", 10 * NEGATED_SET),
        ("[]a]", SET),
        ("(a|b){3}", 6 * LITERAL),
        (r"((\w{10}){10}){10}", 1000 * UNICODE_CLASS),  # nested repetitions multiply
        (r"(?P<n>\w{10})", 10 * UNICODE_CLASS),  # a named group's pattern counts
        (r"(?<n>\w{10})", 10 * UNICODE_CLASS),
        (r"(?i)\w{10}", 10 * UNICODE_CLASS),  # flags alone are no group
        (r"(?i:\w){10}", 10 * UNICODE_CLASS),
        (r"(?s).*", ANY),
    ],
)
def test_cost(pattern: str, expected: int) -> None:
    assert cost(pattern) == expected


@pytest.mark.parametrize("pattern", ["(", ")))", "[", "\\", "a{", "{1}", r"\p{", "(?", "(?P<"])
def test_any_text_has_a_cost(pattern: str) -> None:
    assert cost(pattern) >= 0


def test_huge_repetitions_are_capped_not_computed() -> None:
    huge = cost(r"(\w{999999999}){999999999}" + "{9" + "9" * 5000 + "}")
    assert huge == regexcost.CAP > 10**9


def test_query_cost_reads_string_literals_as_the_parser_does() -> None:
    # a double-quoted PromQL string holds \\w for the regex \w; a raw string holds it as is
    assert query_cost('up{job=~"\\\\w{300}"}') == 300 * UNICODE_CLASS
    assert query_cost("up{job=~'\\\\w{300}'}") == 300 * UNICODE_CLASS
    assert query_cost("up{job=~`\\w{300}`}") == 300 * UNICODE_CLASS
    # every string counts (a matcher's regex may follow a comment), comments do not
    assert query_cost('up{a="\\\\w"} # "\\\\w{9999}"') == UNICODE_CLASS
    assert query_cost("sum(rate(x[5m]))") == 0

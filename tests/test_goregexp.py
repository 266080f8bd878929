"""servegate.goregexp: the repo's regular expressions matched as Go's regexp matches them."""

from __future__ import annotations

import time

from servegate.goregexp import compile_go
from servegate.provenance.select import _matches


def test_patterns_that_backtrack_for_minutes_in_python_match_in_linear_time() -> None:
    started = time.perf_counter()
    for pattern in ("(a+)+$", "(a|a)*b", "(x+x+)+y", "(?:" + "a*" * 30 + ")b"):
        compiled = compile_go(pattern)
        assert compiled is not None and compiled.search("a" * 5_000 + "!") is None
    # a kustomize target selector (name regex) on a long name
    assert not _matches("(a+)+b", "a" * 250)
    assert time.perf_counter() - started < 1


def test_go_syntax_and_refusals() -> None:
    unicode_letters = compile_go(r"\pL+")
    assert unicode_letters is not None and unicode_letters.fullmatch("héllo")
    assert compile_go("a{1001}") is None  # over RE2's repeat bound, as Go refuses it
    assert compile_go("(") is None
    assert compile_go(r"(?<=a)b") is None  # no lookbehind in Go's regexp

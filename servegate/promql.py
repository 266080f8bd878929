"""PromQL parsed without letting a query take servegate down.

The parser servegate uses (the Rust ``promql-parser`` package, 0.12) recurses once per nesting
level and per binary operator: about 10,000 nested parentheses or 5,000 chained operators
overflow the native stack and kill the process, which no Python handler can catch; and its
time grows with the square of that depth (1,000 chained operators take over a second). So a
query is sized before it reaches the parser (brackets and operators, outside string literals
and comments), and:

- nested deeper than ``MAX_NESTING`` brackets, deeper than ``MAX_DEPTH`` (brackets plus
  operators) or longer than ``MAX_QUERY_CHARS``: refused without parsing (no query written
  for people comes near);
- within ``INLINE_DEPTH``: parsed here, far below the crash depth even on a 1 MiB stack, and
  charged ``max(depth, 8) ** 2`` against the process's ``RUN_COST``, once per distinct query
  (once spent, further queries are refused, so a repo of many large queries still ends in
  seconds);
- in between: parsed in a child process, on a thread with a large stack, so that a crash
  costs that query a finding and nothing else (at most ``MAX_CHILD_PARSES`` per process).

The parser also compiles every ``=~``/``!~`` regular expression, at a cost the depth does not
show (``up{job=~"\\\\w{300}"}`` takes half a second): ``servegate.regexcost`` estimates it, a
query whose regular expressions would cost more than ``MAX_REGEX_COST`` microseconds is
refused without parsing, and the estimate is charged against ``RUN_COST`` with the depth.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from servegate import regexcost

MAX_NESTING = 128
MAX_DEPTH = 1_000
MAX_QUERY_CHARS = 256 * 1024
INLINE_DEPTH = 256
RUN_COST = 2_000_000
MAX_CHILD_PARSES = 4
MAX_REGEX_COST = 500_000
CHILD_TIMEOUT_S = 10

_STRINGS_AND_COMMENTS = re.compile(r"\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'|`[^`]*`|#[^\n]*")
_OPERATORS = re.compile(r"==|!=|>=|<=|=~|!~|[-+*/%^<>=]|\b(?:and|or|unless|atan2)\b", re.I)
_BRACKETS = re.compile(r"[()\[\]{}]")
_OPENING = frozenset("([{")

_CHILD = """\
import sys, threading
query = sys.stdin.read()
out = []
def parse():
    import promql_parser
    try:
        promql_parser.parse(query)
        out.append("")
    except ValueError as err:
        out.append(str(err) or "invalid promql query")
threading.stack_size(256 * 1024 * 1024)
worker = threading.Thread(target=parse)
worker.start()
worker.join()
sys.stdout.write("ok" if out == [""] else "error:" + (out[0] if out else "no result"))
"""
_children = 0
_cost = 0
_refused = False


@dataclass(frozen=True, slots=True)
class Usage:
    """What this process has spent of the run's PromQL budgets (``usage``)."""

    cost: int
    """Charged against ``RUN_COST``."""
    children: int
    """Queries parsed in a child process (at most ``MAX_CHILD_PARSES``)."""
    refused: bool
    """Whether a query was refused because a budget was spent."""


def usage() -> Usage:
    """What this process has spent so far: ``servegate.fanout`` adds up its children's."""
    return Usage(_cost, _children, _refused)


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a query is not accepted: ``parsed`` is False when servegate refused to parse it."""

    message: str
    parsed: bool = True


@dataclass(frozen=True, slots=True)
class Size:
    """A query's size as the parser's recursion sees it."""

    nesting: int
    """Deepest bracket nesting."""
    operators: int
    """Operator tokens (an upper bound: label matchers and exponents count too)."""

    @property
    def depth(self) -> int:
        return self.nesting + self.operators


def describe(found: Problem) -> str:
    """A finding's message for ``found``."""
    if found.parsed:
        return f"PromQL does not parse: {found.message}"
    return f"PromQL not parsed: {found.message}"


def size(query: str) -> Size:
    """The nesting and operator count of ``query``, string literals and comments left out."""
    code = _STRINGS_AND_COMMENTS.sub(" ", query)
    depth = deepest = 0
    for match in _BRACKETS.finditer(code):
        if match[0] in _OPENING:
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth = max(0, depth - 1)
    return Size(deepest, len(_OPERATORS.findall(code)))


def problem(query: str) -> Problem | None:
    """None when ``query`` parses as PromQL, else the parser's error or why it was refused.
    Remembered per query text: a monorepo's overlays repeat their bases' queries."""
    return _problem(query)


@lru_cache(maxsize=8192)
def _problem(query: str) -> Problem | None:
    if len(query) > MAX_QUERY_CHARS:
        return Problem(
            f"the query is {len(query) // 1024} KiB; servegate parses PromQL up to "
            f"{MAX_QUERY_CHARS // 1024} KiB",
            parsed=False,
        )
    measured = size(query)
    if measured.nesting > MAX_NESTING:
        return Problem(
            f"the query nests brackets {measured.nesting:,} levels deep; servegate parses "
            f"PromQL nested up to {MAX_NESTING} levels (deeper queries crash parsers)",
            parsed=False,
        )
    if measured.depth > MAX_DEPTH:
        return Problem(
            f"the query has {measured.operators:,} operators within {measured.nesting} levels "
            f"of brackets; servegate parses PromQL up to {MAX_DEPTH:,} (larger queries crash "
            "or stall parsers)",
            parsed=False,
        )
    regex = regexcost.query_cost(query)
    if regex > MAX_REGEX_COST:
        return Problem(
            f"compiling its regular expressions would take about {regex // 1000:,} ms "
            f"(servegate's estimate); servegate parses PromQL whose regular expressions take up "
            f"to {MAX_REGEX_COST // 1000} ms (a repetition of a Unicode class such as "
            "\\w{300} builds a huge automaton)",
            parsed=False,
        )
    if measured.depth <= INLINE_DEPTH:
        return _parse_here(query, measured, regex)[1]
    return _parse_apart(query, measured)


def parse(query: str) -> Any | None:
    """``query``'s syntax tree (a ``promql_parser`` node), or None when it does not parse or
    is too large to parse in this process (``problem`` says which). Every in-process parse
    of PromQL goes through here or ``problem``, never to ``promql_parser`` directly."""
    if len(query) > MAX_QUERY_CHARS:
        return None
    measured = size(query)
    if measured.nesting > MAX_NESTING or measured.depth > INLINE_DEPTH:
        return None
    regex = regexcost.query_cost(query)
    if regex > MAX_REGEX_COST:
        return None
    return _parse_here(query, measured, regex)[0]


@cache  # unbounded: each distinct query is charged once
def _parse_here(query: str, measured: Size, regex: int) -> tuple[Any | None, Problem | None]:
    global _cost, _refused
    import promql_parser

    cost = max(measured.depth, 8) ** 2 + regex
    if _cost + cost > RUN_COST:
        _refused = True
        return None, Problem(
            "servegate has already parsed as much PromQL as it parses in one run",
            parsed=False,
        )
    _cost += cost
    try:
        return promql_parser.parse(query), None
    except ValueError as err:
        return None, Problem(str(err) or "invalid promql query")


@lru_cache(maxsize=64)
def _parse_apart(query: str, measured: Size) -> Problem | None:
    global _children, _refused
    if _children >= MAX_CHILD_PARSES:
        _refused = True
        return Problem(
            f"the query has {measured.operators:,} operators; servegate has already parsed "
            f"{MAX_CHILD_PARSES} queries that large in this run",
            parsed=False,
        )
    _children += 1
    refused = Problem(
        f"the query ({measured.nesting} levels of brackets, {measured.operators:,} operators) "
        "crashed or hung the PromQL parser",
        parsed=False,
    )
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", _CHILD],
            input=query,
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return refused
    if done.returncode != 0 or not done.stdout.startswith(("ok", "error:")):
        return refused
    if done.stdout == "ok":
        return None
    return Problem(done.stdout.removeprefix("error:") or "invalid promql query")

"""What compiling the regular expressions in a PromQL query costs, estimated without compiling.

The PromQL parser servegate uses (the Rust ``promql-parser`` package) compiles every ``=~`` and
``!~`` matcher with Rust's ``regex`` crate while parsing, and that compile is not bounded by the
query's depth: ``up{job=~"\\\\w{300}"}``, 20 characters, takes about half a second, because each
copy of a Unicode class such as ``\\w`` becomes a large automaton (measured with promql-parser
0.12: a copy of ``\\w``, ``\\W``, ``\\d`` or ``\\pL`` costs 0.5 to 2.3 ms, of ``[^a]`` up to 90 µs,
of ``.`` or ``\\s`` up to 32 µs, of an ASCII class 9 µs, of a literal about 2 µs). ``cost``
adds up those figures, in microseconds, for every atom of a pattern times the counted
repetitions (``{n}``, ``{n,}``, ``{n,m}``) around it, so that ``servegate.promql`` can refuse a
query too costly to parse and charge the rest against its per-run budget. It overestimates
rather than under: every class containing a Unicode class escape costs as much as ``\\w``.
"""

from __future__ import annotations

import re
from typing import Final

UNICODE_CLASS: Final = 2_500
"""A Unicode class escape (``\\w \\W \\d \\D \\pL \\PL \\p{Greek}``), or a set holding one."""
NEGATED_SET: Final = 100
ANY: Final = 40
"""``.`` (with ``(?s)`` too), ``\\s``, ``\\S``."""
SET: Final = 10
LITERAL: Final = 2

_ESCAPES = {**dict.fromkeys("wWdDpP", UNICODE_CLASS), **dict.fromkeys("sS", ANY)}
_REPEAT = re.compile(r"\{(\d+)(?:(,)(\d*))?\}")
CAP: Final = 10**12
"""No estimate is larger (a pattern costing this much is refused whatever it is)."""
# PromQL string literals (``"..."``, ``'...'``, backquoted raw strings) and ``#`` comments: the
# comments are matched only so that quotes inside them are skipped
_LITERALS = re.compile(r"\"((?:\\.|[^\"\\\n])*)\"|'((?:\\.|[^'\\\n])*)'|`([^`]*)`|#[^\n]*")
_ESCAPED = re.compile(r"\\(.)", re.S)


def query_cost(query: str) -> int:
    """``cost`` of every string literal in ``query`` (any string may be a matcher's regex)."""
    total = 0
    for match in _LITERALS.finditer(query):
        if match[0].startswith("#"):
            continue
        if match[3] is not None:
            text = match[3]
        else:
            text = _ESCAPED.sub(r"\1", match[1] if match[1] is not None else match[2])
        total = min(CAP, total + cost(text))
    return total


def cost(pattern: str) -> int:
    """Estimated microseconds to compile ``pattern`` (RE2 syntax, as Prometheus and Rust's
    ``regex`` read it); any text is accepted, invalid patterns included."""
    frames = [0]  # the cost of each open group so far
    last = 0  # the cost of the atom (or group) a repetition would apply to
    i, end = 0, len(pattern)
    while i < end:
        char = pattern[i]
        if char == "\\":
            escape = pattern[i + 1 : i + 2]
            atom = _ESCAPES.get(escape, LITERAL) if escape else LITERAL
            i += 2
            if escape in ("p", "P"):
                close = pattern.find("}", i) if pattern[i : i + 1] == "{" else i
                i = end if close < 0 else close + 1
        elif char == "[":
            atom, i = _set(pattern, i + 1)
        elif char == "(":
            i += 1
            if pattern[i : i + 1] == "?":  # (?flags), (?flags:re), (?P<name>re), (?<name>re)
                i += 1
                if pattern.startswith(("P<", "<"), i):
                    close = pattern.find(">", i)
                    i = end if close < 0 else close + 1
                else:
                    while i < end and pattern[i] in "imsU-":
                        i += 1
                    if pattern[i : i + 1] == ")":
                        i += 1
                        continue  # flags for the rest of the group: no group of its own
                    i += pattern[i : i + 1] == ":"
            frames.append(0)
            last = 0
            continue
        elif char == ")":
            i += 1
            atom = LITERAL if len(frames) == 1 else frames.pop()
        elif char == "{" and (repeat := _REPEAT.match(pattern, i)):
            low = int(repeat[1][:13])  # more digits than that is beyond any bound anyway
            high = int(repeat[3][:13]) if repeat[3] else (low + 1 if repeat[2] else low)
            extra = min(CAP, last * max(0, max(low, high) - 1))
            frames[-1] = min(CAP, frames[-1] + extra)
            last = min(CAP, last + extra)
            i = repeat.end()
            continue
        elif char == ".":
            atom, i = ANY, i + 1
        elif char in "*+?^$":
            i += 1
            continue
        elif char == "|":
            last, i = 0, i + 1
            continue
        else:
            atom, i = LITERAL, i + 1
        frames[-1] = min(CAP, frames[-1] + atom)
        last = atom
    return min(CAP, sum(frames))


def _set(pattern: str, i: int) -> tuple[int, int]:
    """The cost of the set whose ``[`` is just before ``i``, and where it ends."""
    end = len(pattern)
    negated = pattern[i : i + 1] == "^"
    i += negated
    if pattern[i : i + 1] == "]":
        i += 1  # a leading ] is a member
    unicode_class = False
    while i < end and pattern[i] != "]":
        if pattern[i] == "\\":
            unicode_class |= pattern[i + 1 : i + 2] in ("w", "W", "d", "D", "p", "P")
            i += 2
        elif pattern.startswith("[:", i):
            close = pattern.find(":]", i + 2)
            i = end if close < 0 else close + 2
        else:
            i += 1
    if unicode_class:
        return UNICODE_CLASS, i + 1
    return (NEGATED_SET if negated else SET), i + 1

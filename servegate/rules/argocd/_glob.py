"""Argo CD's two pattern languages, compiled to Python regular expressions.

AppProject ``sourceRepos`` and ``destinations`` go through ``globMatch``
(argoproj/argo-cd ``pkg/apis/application/v1alpha1/app_project_types.go``), which calls
``util/glob.Match``, a thin wrapper over github.com/gobwas/glob: ``*`` is any run of
non-separator characters, ``**`` any run at all, ``?`` one non-separator character,
``[abc]``/``[a-z]``/``[!a-z]`` classes, ``{a,b}`` alternatives, ``\\`` escapes. A leading ``!``
makes the entry a deny pattern: it matches everything the rest does not. ``sourceRepos`` pass
``/`` as separator; destinations pass none, so there ``*`` crosses dots and slashes. A pattern
that does not compile matches nothing.

Resource white- and blacklists (``clusterResourceWhitelist``, ``namespaceResourceWhitelist``...)
use Go's ``path/filepath.Match`` instead (``isResourceInList``, ``isNamedResourceInList`` in
``types.go``): ``*`` and ``?`` stop at ``/``, classes negate with ``^``, no alternatives.

Both compile to RE2 (``google-re2``), which matches in linear time: a pattern such as
``*a*a*a...b`` made Python's backtracking ``re`` run for minutes on a 40-character value.
"""

from __future__ import annotations

from functools import lru_cache

from servegate.goregexp import Pattern, compile_go

_META = frozenset("*?[{")
Compiled = Pattern


def _lit(char: str) -> str:
    """``char`` as an RE2 literal (inside a class too)."""
    return char if char.isalnum() or char == "_" else f"\\x{{{ord(char):x}}}"


def _compile(regex: str) -> Compiled | None:
    return compile_go("(?s)" + regex)


def has_meta(pattern: str) -> bool:
    return any(c in _META for c in pattern)


def is_deny(pattern: str) -> bool:
    return pattern.startswith("!")


def _class(pattern: str, i: int, negators: str) -> tuple[str, int] | None:
    """The character class starting after ``[`` at ``i``: (regex, index after ``]``)."""
    out = "["
    if i < len(pattern) and pattern[i] in negators:
        out += "^"
        i += 1
    start = i
    while i < len(pattern) and (pattern[i] != "]" or i == start):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            i += 1
            char = pattern[i]
        if i + 2 < len(pattern) and pattern[i + 1] == "-" and pattern[i + 2] != "]":
            out += _lit(char) + "-" + _lit(pattern[i + 2])
            i += 3
            continue
        out += _lit(char)
        i += 1
    if i >= len(pattern) or i == start:
        return None
    return out + "]", i + 1


def _gobwas(pattern: str, i: int, sep: str, depth: int, stop: str) -> tuple[str, int] | None:
    not_sep = f"[^{''.join(map(_lit, sep))}]" if sep else "."
    out: list[str] = []
    while i < len(pattern):
        char = pattern[i]
        if char in stop:
            return "".join(out), i
        if char == "\\":
            if i + 1 >= len(pattern):
                return None
            out.append(_lit(pattern[i + 1]))
            i += 2
        elif char == "*":
            if pattern.startswith("**", i):
                out.append(".*")
                i += 2
            else:
                out.append(f"{not_sep}*")
                i += 1
        elif char == "?":
            out.append(not_sep)
            i += 1
        elif char == "[":
            found = _class(pattern, i + 1, "!")
            if found is None:
                return None
            out.append(found[0])
            i = found[1]
        elif char == "{":
            if depth > 16:
                return None
            options: list[str] = []
            i += 1
            while True:
                part = _gobwas(pattern, i, sep, depth + 1, ",}")
                if part is None or part[1] >= len(pattern):
                    return None
                options.append(part[0])
                i = part[1] + 1
                if pattern[part[1]] == "}":
                    break
            out.append("(?:" + "|".join(options) + ")")
        else:
            out.append(_lit(char))
            i += 1
    return ("".join(out), i) if not stop else None


@lru_cache(maxsize=4096)
def gobwas(pattern: str, separators: str = "") -> Compiled | None:
    """``pattern`` (without a deny ``!``) as gobwas/glob compiles it; None if it does not."""
    found = _gobwas(pattern, 0, separators, 0, "")
    return None if found is None else _compile(found[0])


def glob_match(pattern: str, value: str, separators: str = "") -> bool:
    """Argo CD's ``globMatch(pattern, value, allowNegation=true, separators...)``."""
    if is_deny(pattern):
        compiled = gobwas(pattern[1:], separators)
        return not (compiled is not None and compiled.fullmatch(value))
    if pattern == "*":
        return True
    compiled = gobwas(pattern, separators)
    return compiled is not None and compiled.fullmatch(value) is not None


@lru_cache(maxsize=4096)
def _filepath(pattern: str) -> Compiled | None:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            if i + 1 >= len(pattern):
                return None
            out.append(_lit(pattern[i + 1]))
            i += 2
        elif char == "*":
            out.append("[^/]*")
            i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[":
            found = _class(pattern, i + 1, "^")
            if found is None:
                return None
            out.append(found[0])
            i = found[1]
        else:
            out.append(_lit(char))
            i += 1
    return _compile("".join(out))


def filepath_match(pattern: str, value: str) -> bool:
    """Go's ``filepath.Match(pattern, value)``; a malformed pattern matches nothing."""
    compiled = _filepath(pattern)
    return compiled is not None and compiled.fullmatch(value) is not None

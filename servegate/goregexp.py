"""Regular expressions written in the checked repo, matched as Go's ``regexp`` matches them.

Argo CD (AppProject ``sourceNamespaces`` written ``/regex/``), kustomize (target selectors,
replacement selectors) and the Kubernetes CEL library compile these with Go's ``regexp``: RE2
syntax, matching in linear time. Python's ``re`` backtracks, so ``(a+)+$`` or ``(a|a)*b``
against a few dozen characters runs for minutes; RE2 itself (``google-re2``) runs them here,
with the same syntax as the consumer.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

Pattern = Any
"""A compiled RE2 pattern: ``search``, ``fullmatch``, ``finditer``, ``pattern`` (google-re2
ships no types)."""


@lru_cache(maxsize=1024)
def compiled(pattern: str) -> Pattern | str:
    """``pattern`` compiled as Go's ``regexp.Compile`` would, or RE2's reason for refusing it."""
    import re2

    try:
        return re2.compile(pattern)
    except re2.error as err:
        return str(err)


def compile_go(pattern: str) -> Pattern | None:
    """``pattern`` compiled as Go's ``regexp.Compile`` would, or None when it refuses it."""
    found = compiled(pattern)
    return None if isinstance(found, str) else found

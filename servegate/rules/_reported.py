"""Shared constructor for rules the engine reports while loading (no check function)."""

from __future__ import annotations

from servegate.findings import Severity
from servegate.rules.base import Rule, Scope, rule


def reported(id: str, title: str, doc: str, severity: Severity = Severity.ERROR) -> Rule:
    return rule(id, title, severity, Scope.ENGINE, None, doc=doc)

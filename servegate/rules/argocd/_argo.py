"""Small accessors the argocd rules share."""

from __future__ import annotations

from typing import Any

from servegate.resource import Resource


def mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def who(r: Resource) -> str:
    return f"{r.kind} {r.name!r}"

"""Locate the read-only upstream reference data (``../shared/upstream``) for oracle tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_REPO = Path(__file__).resolve().parent.parent


def upstream_dir() -> Path:
    """The upstream data folder (env ``SERVEGATE_UPSTREAM`` overrides ``<repo>/../shared/
    upstream``). Skips the calling test when it is absent, or fails it when
    ``SERVEGATE_REQUIRE_UPSTREAM=1``."""
    override = os.environ.get("SERVEGATE_UPSTREAM")
    path = Path(override) if override else _REPO.parent / "shared" / "upstream"
    if path.is_dir():
        return path
    reason = f"upstream reference data not found at {path}"
    if os.environ.get("SERVEGATE_REQUIRE_UPSTREAM") == "1":
        pytest.fail(f"{reason} (SERVEGATE_REQUIRE_UPSTREAM=1)")
    pytest.skip(reason)

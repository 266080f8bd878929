"""Where the read-only upstream reference data lives, for tests that use it as an oracle."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def upstream_dir() -> Path:
    """``<repo>/../shared/upstream`` (or $SERVEGATE_UPSTREAM); skip when absent, unless
    SERVEGATE_REQUIRE_UPSTREAM=1, then fail."""
    override = os.environ.get("SERVEGATE_UPSTREAM")
    path = (
        Path(override)
        if override
        else Path(__file__).resolve().parents[1].parent / "shared/upstream"
    )
    if not path.is_dir():
        message = f"upstream reference data not found at {path}"
        if os.environ.get("SERVEGATE_REQUIRE_UPSTREAM") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path

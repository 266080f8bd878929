"""servegate.baseline: fingerprints that survive line moves, and the baseline file's format.

How a check applies a baseline is tested with ``exemptions.finish`` (tests/test_exemptions.py)
and end to end with the command (tests/test_commands_baseline.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from servegate.baseline import BaselineError, fingerprint, load
from servegate.model import Finding, Severity
from servegate.resource import ResourceRef


def test_fingerprint_is_stable_and_ignores_lines() -> None:
    ref = ResourceRef("apps/v1", "Deployment", "ml", "model")
    at_3 = Finding("pss.privileged", Severity.ERROR, "m", "a.yaml", 3, ref, "spec.x")
    at_9 = Finding("pss.privileged", Severity.ERROR, "other words", "b.yaml", 9, ref, "spec.x")
    assert fingerprint(at_3) == fingerprint(at_9) == "29a31dbfe577b7b3b9650c4357dd17b1"
    v2 = Finding(
        "pss.privileged",
        Severity.ERROR,
        "m",
        "a.yaml",
        3,
        ResourceRef("apps/v2", "Deployment", "ml", "model"),
        "spec.x",
    )
    assert fingerprint(v2) == fingerprint(at_3)  # the API version is no part of identity
    other = Finding("pss.privileged", Severity.ERROR, "m", "a.yaml", 3, ref, "spec.y")
    assert fingerprint(other) != fingerprint(at_3)


def test_load_refuses_what_is_not_a_baseline(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match="no 'entries' list"):
        path = tmp_path / "b.json"
        path.write_text('{"version": 1}', encoding="utf-8")
        load(path)

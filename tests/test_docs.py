"""The documents name tests as the proof of what they promise (docs/security.md's guarantees):
every test they name exists, so a renamed or deleted test cannot leave a guarantee unproven."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
NAMED = re.compile(r"\b(test_[a-z0-9_]+\.py)(?:::([A-Za-z0-9_]+))?")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_named_test_exists(doc: Path) -> None:
    missing = []
    for module, name in NAMED.findall(doc.read_text(encoding="utf-8")):
        path = ROOT / "tests" / module
        if not path.is_file():
            missing.append(module)
        elif name and not re.search(rf"^\s*def {name}\(", path.read_text(encoding="utf-8"), re.M):
            missing.append(f"{module}::{name}")
    assert missing == []


def test_a_missing_test_is_found() -> None:
    text = (
        "proved by `test_nowhere.py::test_nothing` and `test_docs.py::test_a_missing_test_is_found`"
    )
    found = NAMED.findall(text)
    assert found == [
        ("test_nowhere.py", "test_nothing"),
        ("test_docs.py", "test_a_missing_test_is_found"),
    ]
    assert not (ROOT / "tests" / found[0][0]).is_file()

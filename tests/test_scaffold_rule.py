"""``make new-rule`` writes a rule module and fixtures that the registry and fixture test read."""

from __future__ import annotations

import ast
from pathlib import Path

from servegate.scaffold_rule import main, scaffold


def test_scaffold_writes_module_and_fixtures(tmp_path: Path) -> None:
    written = scaffold("kserve.example-check", tmp_path)
    names = sorted(p.relative_to(tmp_path).as_posix() for p in written)
    assert names == [
        "servegate/rules/kserve/__init__.py",
        "servegate/rules/kserve/example_check.py",
        "tests/fixtures/rules/kserve.example-check/fail.basic.yaml",
        "tests/fixtures/rules/kserve.example-check/pass.basic.yaml",
    ]
    module = (tmp_path / "servegate/rules/kserve/example_check.py").read_text()
    ast.parse(module)
    for heading in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
        assert heading in module
    fail = (tmp_path / "tests/fixtures/rules/kserve.example-check/fail.basic.yaml").read_text()
    assert "# expect: kserve.example-check" in fail


def test_scaffold_refuses_bad_ids_and_never_overwrites(tmp_path: Path) -> None:
    assert main(["Not An Id", str(tmp_path)]) == 2
    assert main(["repo.thing", str(tmp_path)]) == 0
    target = tmp_path / "servegate/rules/repo/thing.py"
    target.write_text("# mine\n")
    assert main(["repo.thing", str(tmp_path)]) == 2
    assert target.read_text() == "# mine\n"

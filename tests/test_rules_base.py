"""The rule interface (servegate/rules/base.py): typed checks per scope, findings, docs."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import mypy.api
import pytest

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, ObjectRule, PodRule, Scope, Violation, rule
from servegate.rules.pss.privileged import RULE as PRIVILEGED

ROOT = Path(__file__).resolve().parent.parent

SOURCE = """
from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule


def check(resource: Resource, ctx: Context) -> Iterator[Violation]:
    yield from ()


RULE = rule("x.y", "t", Severity.ERROR, Scope.{scope}, check, doc=None)
"""


@pytest.mark.slow
def test_mypy_rejects_a_check_of_another_scope(tmp_path: Path) -> None:
    def mypy_errors(scope: str) -> str:
        path = tmp_path / f"rule_{scope.lower()}.py"
        path.write_text(textwrap.dedent(SOURCE.format(scope=scope)), encoding="utf-8")
        out, _, _ = mypy.api.run(
            ["--strict", "--follow-imports=silent", "--cache-dir", str(tmp_path / "c"), str(path)]
        )
        return out

    assert "Success" in mypy_errors("OBJECT")
    wrong = mypy_errors("POD")
    assert 'No overload variant of "rule"' in wrong and "error" in wrong


def test_rule_builds_the_class_of_its_scope() -> None:
    def check(resource: Resource, ctx: Context) -> Iterator[Violation]:
        yield from ()

    made = rule("x.y", "t", Severity.WARNING, Scope.OBJECT, check, doc=None)
    assert isinstance(made, ObjectRule) and made.scope is Scope.OBJECT
    assert isinstance(PRIVILEGED, PodRule) and PRIVILEGED.scope is Scope.POD


def test_finding_carries_the_rule_and_its_default_severity() -> None:
    finding = PRIVILEGED.finding("m", "a.yaml", 3, unit="root:x")
    assert (finding.rule, finding.severity, finding.file, finding.line, finding.unit) == (
        "pss.privileged",
        Severity.ERROR,
        "a.yaml",
        3,
        "root:x",
    )


def test_module_name_follows_the_id() -> None:
    assert PRIVILEGED.module == "servegate.rules.pss.privileged"
    assert PRIVILEGED.section("What it does").startswith("Flags containers")

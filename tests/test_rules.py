"""The rule registry (servegate/rules/__init__.py): one rule id is one module, and back."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from servegate.rules import all_rules, matches, problem_rule
from servegate.rules.base import ReportedRule
from servegate.yamlsafe import Problem

RULES_DIR = Path(__file__).resolve().parent.parent / "servegate" / "rules"


def rule_modules() -> dict[str, Path]:
    """Every module under servegate/rules/<family>/ that is not a shared helper (``_x.py``)."""
    return {
        f"servegate.rules.{p.parent.name}.{p.stem}": p
        for p in sorted(RULES_DIR.glob("*/*.py"))
        if not p.name.startswith("_")
    }


def test_every_rule_id_is_one_module() -> None:
    for rule_id, rule in all_rules().items():
        family, _, name = rule_id.partition(".")
        path = RULES_DIR / family / f"{name.replace('-', '_')}.py"
        assert path.is_file(), f"{rule_id}: expected its module at {path}"
        assert importlib.import_module(rule.module).RULE is rule


def test_every_module_is_one_rule_id() -> None:
    modules = rule_modules()
    assert len(modules) == len(all_rules())
    for name in modules:
        rule = importlib.import_module(name).RULE
        family, module = name.split(".")[2:]
        assert rule.id == f"{family}.{module.replace('_', '-')}", name


def test_engine_reported_rules_have_modules_too() -> None:
    reported = {r.id for r in all_rules().values() if isinstance(r, ReportedRule)}
    assert {"yaml.syntax", "repo.kustomize-escape", "schema.unknown-kind"} <= reported
    assert all(r.module in rule_modules() for r in all_rules().values())


@pytest.mark.parametrize("problem", list(Problem))
def test_every_loader_problem_has_its_rule(problem: Problem) -> None:
    rule = problem_rule(problem)
    assert rule.id == f"yaml.{problem.value}" and rule.input_problem


def test_matches_ids_and_families() -> None:
    assert matches("pss.privileged", ["pss"])
    assert matches("pss.privileged", ["pss."])
    assert matches("pss.privileged", ["pss.privileged"])
    assert not matches("pss.privileged-x", ["pss.privileged"])
    assert not matches("pssx.a", ["pss"])

"""Rule docs (servegate/rules/docs.py) are generated from the registry and complete: every
rule documents itself under the five headings, and a stale docs/rules.md fails here."""

from __future__ import annotations

from pathlib import Path

from servegate.rules import all_rules
from servegate.rules.docs import markdown

DOCS = Path(__file__).resolve().parent.parent / "docs" / "rules.md"
HEADINGS = ("What it does", "Why is this bad?", "Example", "Use instead", "References")


def test_rules_md_is_current() -> None:
    assert DOCS.read_text(encoding="utf-8") == markdown(all_rules()), "run `make docs`"


def test_every_rule_is_documented() -> None:
    lacking = [f"{r.id}: {h}" for r in all_rules().values() for h in HEADINGS if not r.section(h)]
    assert not lacking, "rules missing doc sections:\n" + "\n".join(lacking)


def test_rule_ids_are_family_kebab() -> None:
    for rule_id, rule in all_rules().items():
        family, _, name = rule_id.partition(".")
        assert family and name and name == name.lower() and " " not in name, rule_id
        assert rule.family == family

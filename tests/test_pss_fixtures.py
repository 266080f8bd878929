"""The pss fixtures are "a hardened pod plus one change": run through every pss rule of their
level (as the engine selects them), each reports exactly the ``# expect:`` markers, whichever
rule they name, and a pass fixture trips no other pss rule either."""

from __future__ import annotations

import pytest
from test_pss_conformance import pss_rules
from test_rule_fixtures import ALL_FIXTURES, Fixture, found_lines, load_resources

from servegate.evaluate import evaluate
from servegate.rules import all_rules
from servegate.rules.base import Context, Level

PSS_FIXTURES = [f for f in ALL_FIXTURES if f.rule_id.startswith("pss.")]


@pytest.mark.parametrize(
    "fixture", PSS_FIXTURES, ids=[f"{f.rule_id}/{f.path.name}" for f in PSS_FIXTURES]
)
def test_fixture_trips_only_its_markers(fixture: Fixture) -> None:
    """In the fixture's context (its level and ``# params:``, as the rule fixtures run), located
    as the report locates findings (an injected container at the label that injects it)."""
    rule = all_rules()[fixture.rule_id]
    assert found_lines(fixture, rule, pss_rules(fixture.level)) == fixture.expected


def test_levels_differ_on_overridden_checks() -> None:
    """One defect, reported once: by the baseline rule at baseline, by its restricted
    replacement at restricted."""
    fixture = next(f for f in PSS_FIXTURES if f.path.name == "pass.overridden-at-restricted.yaml")
    results: dict[Level, set[str]] = {}
    for level in Level:
        ctx = Context(fixture.version, level)
        resources = load_resources(fixture.path)
        results[level] = {hit.rule.id for hit in evaluate(pss_rules(level), resources, ctx)}
    assert results[Level.BASELINE] == {"pss.capabilities-baseline"}
    assert results[Level.RESTRICTED] == {"pss.capabilities-restricted"}

"""The pss fixtures are "a hardened pod plus one change": run through every pss rule of their
level (as the engine selects them), each reports exactly the ``# expect:`` markers, whichever
rule they name, and a pass fixture trips no other pss rule either."""

from __future__ import annotations

import pytest
from test_pss_conformance import pss_rules
from test_rule_fixtures import ALL_FIXTURES, Fixture, load_resources

from servegate.podspecs import pod_specs
from servegate.rules.base import Context, Level

PSS_FIXTURES = [f for f in ALL_FIXTURES if f.rule_id.startswith("pss.")]


@pytest.mark.parametrize(
    "fixture", PSS_FIXTURES, ids=[f"{f.rule_id}/{f.path.name}" for f in PSS_FIXTURES]
)
def test_fixture_trips_only_its_markers(fixture: Fixture) -> None:
    ctx = Context(fixture.version, fixture.level)
    checks = [(r.id, r.check_for(fixture.version)) for r in pss_rules(fixture.level)]
    found: set[tuple[str, int]] = set()
    for resource in load_resources(fixture.path):
        for pod in pod_specs(resource):
            for rule_id, check in checks:
                found.update((rule_id, resource.locate(v.path)[1]) for v in check(pod, ctx))
    assert found == fixture.expected


def test_levels_differ_on_overridden_checks() -> None:
    """One defect, reported once: by the baseline rule at baseline, by its restricted
    replacement at restricted."""
    fixture = next(f for f in PSS_FIXTURES if f.path.name == "pass.overridden-at-restricted.yaml")
    results: dict[Level, set[str]] = {}
    for level in Level:
        ctx = Context(fixture.version, level)
        results[level] = {
            r.id
            for resource in load_resources(fixture.path)
            for pod in pod_specs(resource)
            for r in pss_rules(level)
            if any(True for _ in r.check_for(fixture.version)(pod, ctx))
        }
    assert results[Level.BASELINE] == {"pss.capabilities-baseline"}
    assert results[Level.RESTRICTED] == {"pss.capabilities-restricted"}

"""The pss family's shape: ids, levels, versions and documentation, as the registry sees them."""

from __future__ import annotations

import pytest

from servegate.rules import all_rules
from servegate.rules.base import Level, PodRule, Rule

BASELINE = {
    "pss.host-namespaces",
    "pss.privileged",
    "pss.capabilities-baseline",
    "pss.host-path-volumes",
    "pss.host-ports",
    "pss.apparmor",
    "pss.selinux",
    "pss.proc-mount",
    "pss.seccomp-baseline",
    "pss.sysctls",
    "pss.host-probes-lifecycle",
    "pss.windows-host-process",
}
RESTRICTED = {
    "pss.restricted-volumes",
    "pss.allow-privilege-escalation",
    "pss.run-as-non-root",
    "pss.run-as-user",
    "pss.seccomp-restricted",
    "pss.capabilities-restricted",
    "pss.proc-mount-restricted",
}
PSS = [r for r in all_rules().values() if r.family == "pss"]


def test_the_family_is_complete() -> None:
    assert {r.id for r in PSS} == BASELINE | RESTRICTED
    assert {r.id for r in PSS if r.level is Level.BASELINE} == BASELINE
    assert {r.id for r in PSS if r.level is Level.RESTRICTED} == RESTRICTED


@pytest.mark.parametrize("rule", PSS, ids=[r.id for r in PSS])
def test_rule_shape(rule: Rule) -> None:
    assert isinstance(rule, PodRule)
    # Every version from 1.0 resolves to a check, so an old --k8s-version never falls through.
    assert (1, 0) in rule.versions
    assert rule.check_for((1, 0)) is rule.check
    # the headings of every rule: tests/test_rules_docs.py
    assert "kubernetes/pod-security-admission `policy/check_" in rule.section("References")


@pytest.mark.parametrize(
    ("rule_id", "version", "check_name"),
    [
        ("pss.sysctls", (1, 26), "check_v1_0"),
        ("pss.sysctls", (1, 36), "check_v1_32"),
        ("pss.sysctls", (1, 40), "check_v1_37"),
        ("pss.host-probes-lifecycle", (1, 33), "unchecked"),
        ("pss.host-probes-lifecycle", (1, 34), "check_v1_34"),
        ("pss.run-as-non-root", (1, 34), "check_v1_0"),
        ("pss.run-as-non-root", (1, 35), "check_v1_35"),
        ("pss.proc-mount", (1, 35), "check_v1_35_overridable"),
        ("pss.seccomp-baseline", (1, 18), "check_v1_0"),
        ("pss.selinux", (1, 31), "check_v1_31"),
    ],
)
def test_version_resolution(rule_id: str, version: tuple[int, int], check_name: str) -> None:
    rule = all_rules()[rule_id]
    assert isinstance(rule, PodRule)
    assert rule.check_for(version).__name__ == check_name

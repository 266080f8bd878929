"""Pod Security as admission applies it (servegate.podsecurity): namespace labels read as
pod-security-admission reads them, the stricter of the Namespace and the environment, the
pinned version, and stricter warn/audit labels as advisories."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import namespace as namespace_body
from helpers import objects_of, psa_labels

from servegate.podsecurity import (
    Requirement,
    judge,
    namespace_policy,
    parse_version,
    requirement,
)
from servegate.resource import Resource
from servegate.rules.base import Context, Level

CLUSTER = (1, 37)
OLDEST = (1, 25)
RESTRICTED = Requirement(Level.RESTRICTED)
BASELINE = Requirement(Level.BASELINE)


def namespace(**labels: str) -> Resource:
    [ns] = objects_of(namespace_body("ml", **psa_labels(**labels)), file="ns.yaml")
    return ns


def test_versions_parse_as_admission_parses_them() -> None:
    assert parse_version("latest") is None
    assert parse_version("v1.33") == (1, 33)
    for bad in ("1.33", "v2.1", "v1.033", "v1.x", ""):
        with pytest.raises(ValueError):
            parse_version(bad)


def test_labels_default_and_fail_as_admission_does() -> None:
    policy = namespace_policy({})
    assert (str(policy.enforce), str(policy.warn), str(policy.audit)) == (
        "privileged:latest",
        "privileged:latest",
        "privileged:latest",
    )
    # an invalid enforce level fails closed, invalid warn/audit levels fail open
    policy = namespace_policy(
        {
            "pod-security.kubernetes.io/enforce": "strict",
            "pod-security.kubernetes.io/enforce-version": "1.30",
            "pod-security.kubernetes.io/warn": "everything",
        }
    )
    assert str(policy.enforce) == "restricted:latest"
    assert policy.warn.level == "privileged"
    assert [label for label, _, _ in policy.errors] == [
        "pod-security.kubernetes.io/enforce",
        "pod-security.kubernetes.io/enforce-version",
        "pod-security.kubernetes.io/warn",
    ]


def test_warn_follows_a_stricter_enforce_unless_labelled() -> None:
    policy = namespace_policy(
        {
            "pod-security.kubernetes.io/enforce": "baseline",
            "pod-security.kubernetes.io/enforce-version": "v1.30",
        }
    )
    assert str(policy.warn) == "baseline:v1.30"
    policy = namespace_policy(
        {
            "pod-security.kubernetes.io/enforce": "baseline",
            "pod-security.kubernetes.io/enforce-version": "v1.30",
            "pod-security.kubernetes.io/warn-version": "latest",
        }
    )
    assert str(policy.warn) == "baseline:latest"


@pytest.mark.parametrize(
    ("labels", "required", "level", "version"),
    [
        # the namespace's pin decides the version; the environment's level is the floor
        (
            {"enforce": "restricted", "enforce_version": "v1.33"},
            RESTRICTED,
            Level.RESTRICTED,
            (1, 33),
        ),
        (
            {"enforce": "baseline", "enforce_version": "v1.30"},
            RESTRICTED,
            Level.RESTRICTED,
            (1, 30),
        ),
        ({"enforce": "privileged"}, BASELINE, Level.BASELINE, CLUSTER),
        ({"enforce": "restricted"}, BASELINE, Level.RESTRICTED, CLUSTER),
        # latest is the cluster's version; a pin newer than the cluster is the cluster's
        (
            {"enforce": "restricted", "enforce_version": "latest"},
            RESTRICTED,
            Level.RESTRICTED,
            CLUSTER,
        ),
        (
            {"enforce": "restricted", "enforce_version": "v1.40"},
            RESTRICTED,
            Level.RESTRICTED,
            CLUSTER,
        ),
        # an unreadable version is latest
        (
            {"enforce": "restricted", "enforce_version": "1.30"},
            RESTRICTED,
            Level.RESTRICTED,
            CLUSTER,
        ),
    ],
)
def test_judged_at_the_stricter_level_and_the_pinned_version(
    labels: dict[str, str], required: Requirement, level: Level, version: tuple[int, int]
) -> None:
    judged = judge(namespace(**labels), required, CLUSTER, OLDEST)
    assert (judged.level, judged.version) == (level, version)
    assert judged.note == ""


def test_a_pin_older_than_servegate_knows_uses_the_oldest_and_says_so() -> None:
    judged = judge(
        namespace(enforce="restricted", enforce_version="v1.22"), RESTRICTED, CLUSTER, OLDEST
    )
    assert judged.version == OLDEST
    assert "v1.22" in judged.note and "v1.25" in judged.note


def test_without_a_namespace_the_profile_version_then_the_cluster() -> None:
    assert judge(None, RESTRICTED, (1, 33), OLDEST).version == (1, 33)
    pinned = Requirement(Level.BASELINE, version=(1, 30))
    judged = judge(None, pinned, CLUSTER, OLDEST)
    assert (judged.level, judged.version) == (Level.BASELINE, (1, 30))


def test_stricter_warn_and_audit_become_advisories() -> None:
    judged = judge(
        namespace(enforce="baseline", enforce_version="v1.30", warn="restricted", audit="baseline"),
        BASELINE,
        CLUSTER,
        OLDEST,
    )
    assert [(a.mode, a.level, a.version) for a in judged.advisories] == [
        ("warn", Level.RESTRICTED, CLUSTER),
        ("audit", Level.BASELINE, CLUSTER),  # same level, newer version
    ]
    # nothing stricter than what is enforced: no advisory
    judged = judge(namespace(enforce="restricted", warn="baseline"), RESTRICTED, CLUSTER, OLDEST)
    assert judged.advisories == ()


def test_requirement_reads_the_plan_off_the_context() -> None:
    ctx = Context((1, 37), Level.BASELINE, pss_version=(1, 31), pss_min_version=(1, 30))
    assert requirement(ctx) == Requirement(Level.BASELINE, (1, 31), (1, 30))
    # the profile itself is not read again: the plan resolved it
    profile: dict[str, Any] = {"podSecurityVersion": "v1.20"}
    assert requirement(Context((1, 37), environment=profile)).version is None

"""Pod Security Admission semantics the pss rules share.

Mirrors kubernetes/pod-security-admission ``policy/helpers.go`` and ``policy/registry.go``: the
Windows and user-namespace relaxations, which securityContext counts as the pod's, and the
restricted level's *overrides* (a restricted check that replaces a baseline one, so a defect is
reported once, by the stricter rule).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from servegate.podspecs import ContainerView, PodSpecView
from servegate.resource import FieldPath, as_dict
from servegate.rules.base import Context, Level, PodCheck, Violation


def unchecked(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    """The check for Kubernetes versions older than the one that introduced a rule."""
    return iter(())


def restricted_overrides(check: PodCheck) -> PodCheck:
    """``check``, silent at the restricted level, where a restricted rule replaces it.

    Upstream's ``OverrideCheckIDs``: restricted = baseline minus the overridden checks, plus the
    restricted checks. Use it from the version the overriding restricted check appeared.
    """

    def overridable(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
        if ctx.pss_level is Level.RESTRICTED:
            return iter(())
        return check(pod, ctx)

    overridable.__name__ = f"{check.__name__}_overridable"
    overridable.__doc__ = check.__doc__
    return overridable


def exempt_when(name: str, exempt: Callable[[PodSpecView], bool], check: PodCheck) -> PodCheck:
    """``check``, except for pods ``exempt`` accepts: a relaxation a Kubernetes release added
    (Windows pods from 1.25, user-namespace pods from 1.35), as a new versioned function."""

    def relaxed(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
        if exempt(pod):
            return iter(())
        return check(pod, ctx)

    relaxed.__name__ = name  # the versioned name, as upstream's check_<id>_v1_<minor>
    relaxed.__doc__ = check.__doc__
    return relaxed


def pod_security_context(pod: PodSpecView) -> dict[str, Any]:
    """The pod-level securityContext, empty for kinds that have none (ServingRuntime...)."""
    return pod.security_context if pod.pod_level else {}


def pod_level_field(pod: PodSpecView, *parts: str) -> tuple[FieldPath, ...]:
    """The pod-level ``securityContext`` field that would satisfy a container's violation as
    well (``Violation.alternatives``): none for kinds without a pod-level securityContext."""
    return (pod.at("securityContext", *parts),) if pod.pod_level else ()


def is_windows(pod: PodSpecView) -> bool:
    """``spec.os.name: windows`` (policy 1.25+ exempts such pods from Linux-only checks)."""
    return as_dict(pod.spec.get("os")).get("name") == "windows"


def in_user_namespace(pod: PodSpecView) -> bool:
    """``hostUsers: false`` (upstream ``relaxPolicyForUserNamespacePod``, KEP-127)."""
    return pod.spec.get("hostUsers") is False


def is_zero(value: Any) -> bool:
    """An integer 0 (YAML ``false`` is not a user id)."""
    return type(value) is int and value == 0


def who(pod: PodSpecView, container: ContainerView | None = None) -> str:
    """The ``detail`` of a violation: which pod, and which container in it."""
    if container is None:
        return pod.label
    return f"{pod.label} container {container.name!r}"

"""Pod Security as admission applies it: the level and version each pod is judged at.

This module is the one place that decides it. The unit's plan (``servegate.plan``) resolves the
environment's requirement once (:func:`requirement` reads it off a rule's context: the level is
``--pss-level``, else the environment profile's ``podSecurity``, else the policy set's; the
profile's ``podSecurityVersion`` and ``podSecurityMinVersion``); :func:`judge` turns it, the
pod's Namespace (when the checked set holds it) and the cluster version into what one pod is
judged at. ``servegate.evaluate`` calls it per
pod, ``namespace.pss-enforce`` per Namespace.

Namespace labels are read as Pod Security admission reads them (kubernetes/pod-security-admission
``api/helpers.go`` ``PolicyToEvaluate``, ``ParseLevel``, ``ParseVersion``):

* ``pod-security.kubernetes.io/<mode>`` (``enforce``, ``warn``, ``audit``) is ``privileged``,
  ``baseline`` or ``restricted``; an invalid ``enforce`` value is enforced as ``restricted``
  (fail closed), an invalid ``warn``/``audit`` value as ``privileged`` (fail open).
* ``pod-security.kubernetes.io/<mode>-version`` is ``latest`` or ``v1.<minor>``; absent or
  invalid means ``latest``. A version newer than the cluster's is the cluster's
  (``policy/registry.go`` ``EvaluatePod``), ``latest`` is the cluster's version.
* ``warn`` without a label of its own follows a stricter ``enforce`` (level and version).

servegate then judges each pod at the **stricter** of the Namespace's ``enforce`` level and the
environment's requirement (a Namespace labelled below it is itself an error, reported by
``namespace.pss-enforce``), at the Namespace's ``enforce-version``. Without the pod's Namespace
in the checked set: the environment's level at the profile's ``podSecurityVersion``, else at
``--k8s-version``. A pinned version older than the oldest servegate has checks and conformance
fixtures for is judged at that oldest version, and said so.

One exception the operator may allow: a Namespace enforcing ``privileged`` because Istio's
sidecars run without CNI (``allowPrivilegedNamespace`` with ``mesh: sidecar``, warn and audit
still at the environment's level). Its pods are still judged at the environment's level, but
the containers Istio injects are not: admission admits them, and the operator accepted that.

``warn`` and ``audit``: admission admits a pod that violates them (it warns the client, or
annotates the audit event). Where either is stricter than what the pod is judged at (a higher
level, or the same level at a newer version), servegate judges the pod there too and reports
what only that judgement finds as **warnings**: they are what ``kubectl apply`` and the audit
log will show, and what the Namespace's next ``enforce`` step will reject, but the pod runs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from servegate.rules.base import Level

if TYPE_CHECKING:
    from servegate.resource import Resource
    from servegate.rules.base import Context

Version = tuple[int, int]

PREFIX = "pod-security.kubernetes.io/"
ENFORCE = f"{PREFIX}enforce"
ENFORCE_VERSION = f"{PREFIX}enforce-version"
WARN = f"{PREFIX}warn"
WARN_VERSION = f"{PREFIX}warn-version"
AUDIT = f"{PREFIX}audit"
AUDIT_VERSION = f"{PREFIX}audit-version"
MODES = ("enforce", "warn", "audit")

PRIVILEGED = "privileged"
LEVELS = (PRIVILEGED, Level.BASELINE.value, Level.RESTRICTED.value)
"""Pod Security levels, least strict first."""

_VERSION = re.compile(r"^v1\.(0|[1-9][0-9]*)$")


def rank(level: str) -> int:
    """0 for privileged, 1 baseline, 2 restricted (an unknown level ranks as restricted)."""
    return LEVELS.index(level) if level in LEVELS else len(LEVELS) - 1


def parse_version(text: Any) -> Version | None:
    """``v1.33`` -> (1, 33); ``latest`` -> None. Raises ValueError for anything else."""
    value = str(text).strip()
    if value == "latest":
        return None
    match = _VERSION.match(value)
    if match is None:
        raise ValueError(f'{value!r}: must be "latest" or "v1.x"')
    return 1, int(match[1])


def show(version: Version | None) -> str:
    return "latest" if version is None else f"v{version[0]}.{version[1]}"


@dataclass(frozen=True, slots=True)
class LevelVersion:
    """One mode's policy: a level name (privileged, baseline, restricted) and a version
    (None: latest)."""

    level: str
    version: Version | None = None

    def __str__(self) -> str:
        return f"{self.level}:{show(self.version)}"


@dataclass(frozen=True, slots=True)
class NamespacePolicy:
    """What a Namespace's labels make admission enforce, warn and audit, and the labels it
    could not read (label, value, why)."""

    enforce: LevelVersion
    warn: LevelVersion
    audit: LevelVersion
    errors: tuple[tuple[str, str, str], ...] = ()
    enforce_labelled: bool = False
    """Whether the ``enforce`` label is present (absent: the cluster default, privileged)."""


_UNLABELLED = LevelVersion(PRIVILEGED)


def namespace_policy(labels: Mapping[str, Any]) -> NamespacePolicy:
    """The policy admission evaluates for a Namespace with ``labels``, with the cluster's
    default ``privileged:latest`` for what they leave out (``PolicyToEvaluate``)."""
    errors: list[tuple[str, str, str]] = []
    levels: dict[str, str] = {}
    versions: dict[str, Version | None] = {}
    for mode in MODES:
        label = f"{PREFIX}{mode}"
        if label in labels:
            value = str(labels[label])
            if value in LEVELS:
                levels[mode] = value
            else:
                errors.append((label, value, f"must be one of {', '.join(LEVELS)}"))
                # invalid enforce fails closed; invalid warn/audit fail open
                levels[mode] = Level.RESTRICTED.value if mode == "enforce" else PRIVILEGED
        if f"{label}-version" in labels:
            value = str(labels[f"{label}-version"])
            try:
                versions[mode] = parse_version(value)
            except ValueError as err:
                errors.append((f"{label}-version", value, str(err).partition(": ")[2]))
                versions[mode] = None
    enforce = LevelVersion(levels.get("enforce", PRIVILEGED), versions.get("enforce"))
    warn = LevelVersion(levels.get("warn", PRIVILEGED), versions.get("warn"))
    audit = LevelVersion(levels.get("audit", PRIVILEGED), versions.get("audit"))
    enforce_valid = ENFORCE in labels and str(labels[ENFORCE]) in LEVELS
    if "warn" not in levels and enforce_valid and rank(enforce.level) > rank(warn.level):
        warn = LevelVersion(enforce.level, versions.get("warn", enforce.version))
    return NamespacePolicy(enforce, warn, audit, tuple(errors), ENFORCE in labels)


@dataclass(frozen=True, slots=True)
class Requirement:
    """What an environment requires of every pod, from the unit's plan."""

    level: Level
    version: Version | None = None
    """``podSecurityVersion``: the version pods are judged at when their Namespace is not in
    the checked set (None: the cluster version)."""
    min_version: Version | None = None
    """``podSecurityMinVersion``: the oldest ``enforce-version`` a Namespace may pin."""
    privileged_mesh: bool = False
    """The operator's profile allows a Namespace to enforce ``privileged`` for Istio sidecars
    without CNI (``allowPrivilegedNamespace``, ``mesh: sidecar``)."""


def requirement(ctx: Context) -> Requirement:
    """The environment's requirement in a unit's context: its plan's Pod Security level,
    version and minimum version, and whether its (trust-merged) profile allows a privileged
    namespace for a sidecar mesh (``servegate.plan`` resolves them once per environment)."""
    mesh = ctx.params.get("mesh") or "sidecar"  # as the plan settled it
    allowed = ctx.environment.get("allowPrivilegedNamespace") is True and mesh == "sidecar"
    return Requirement(ctx.pss_level, ctx.pss_version, ctx.pss_min_version, allowed)


def mesh_exempt(policy: NamespacePolicy, required: Requirement) -> bool:
    """Whether a Namespace enforces ``privileged`` only as the environment allows for Istio's
    ``istio-init`` (Istio's "Install Istio with Pod Security Admission"): allowed, and its
    ``warn`` and ``audit`` labels still at the required level."""
    need = rank(required.level.value)
    return (
        required.privileged_mesh
        and policy.enforce_labelled
        and policy.enforce.level == PRIVILEGED
        and rank(policy.warn.level) >= need
        and rank(policy.audit.level) >= need
    )


def profile_version(value: Any, field: str) -> Version | None:
    """An environment profile's ``podSecurityVersion``/``podSecurityMinVersion`` (``field``):
    None when unset or ``latest``; ValueError naming the field for anything else."""
    if value is None:
        return None
    try:
        return parse_version(value)
    except ValueError as err:
        raise ValueError(f"{field}: {err}") from None


@dataclass(frozen=True, slots=True)
class Advisory:
    """A stricter judgement a Namespace's ``warn`` or ``audit`` label asks for."""

    mode: str
    level: Level
    version: Version


@dataclass(frozen=True, slots=True)
class PodSecurity:
    """What one pod is judged at."""

    level: Level
    """The stricter of the Namespace's ``enforce`` level and the environment's (which is at
    least baseline: a pod is never judged at privileged)."""
    version: Version
    namespace: Resource | None = None
    advisories: tuple[Advisory, ...] = ()
    note: str = ""
    """Why the version differs from the one the Namespace asks for, if it does."""
    mesh_exempt: bool = False
    """The Namespace enforces ``privileged`` as the environment allows for Istio sidecars
    without CNI (:func:`mesh_exempt`): what Istio injects is admitted, and not judged."""


def judge(
    namespace: Resource | None,
    required: Requirement,
    cluster: Version,
    oldest: Version,
) -> PodSecurity:
    """What a pod in ``namespace`` (None: not in the checked set) is judged at, for an
    environment that requires ``required``, on a cluster at ``cluster``; ``oldest`` is the
    oldest version servegate has Pod Security checks and conformance fixtures for."""
    if namespace is None:
        at, why = _clip(required.version, cluster, oldest)
        return PodSecurity(required.level, at, None, (), why)
    policy = namespace_policy(namespace.labels)
    level = _stricter(policy.enforce.level, required.level)
    version, note = _clip(policy.enforce.version, cluster, oldest)
    advisories = []
    for mode, lv in (("warn", policy.warn), ("audit", policy.audit)):
        if rank(lv.level) == 0:
            continue
        at, _ = _clip(lv.version, cluster, oldest)
        wanted = Level(lv.level)
        if rank(wanted.value) > rank(level.value) or (wanted is level and at > version):
            advisories.append(Advisory(mode, wanted, at))
    unique = {(a.level, a.version): a for a in advisories}
    exempt = mesh_exempt(policy, required)
    return PodSecurity(level, version, namespace, tuple(unique.values()), note, exempt)


def _stricter(label: str, required: Level) -> Level:
    if rank(label) > rank(required.value):
        return Level(label)
    return required


def _clip(version: Version | None, cluster: Version, oldest: Version) -> tuple[Version, str]:
    if version is None or version > cluster:
        return cluster, ""
    if version < oldest:
        return oldest, (
            f"{show(version)} is older than the oldest Pod Security version servegate checks "
            f"({show(oldest)}): judged at {show(oldest)}"
        )
    return version, ""

"""What a rule is: metadata, docs and a typed check function, in one module per rule id.

A rule module ``servegate/rules/<family>/<name>.py`` defines ``RULE`` for the id
``<family>.<name with - for _>``. Its docstring is the rule's documentation, under the
headings ``## What it does``, ``## Why is this bad?``, ``## Example``, ``## Use instead`` and
``## References``. The registry (``servegate.rules``) finds every module by itself.

The scope decides what a check sees, and so its signature (``servegate.evaluate`` runs them):

========  ==========================================  ===========================
scope     check signature                             called
========  ==========================================  ===========================
POD       ``(pod: PodSpecView, ctx) -> violations``   per pod-like spec (podspecs)
OBJECT    ``(resource: Resource, ctx)``                per object of ``kinds``
UNIT      ``(resources: Sequence[Resource], ctx)``     once per unit (cross-object)
CHANGE    ``(before: Resource | None, after, ctx)``   per object, with ``--base``
REPORTED  none: the pipeline reports it itself         while loading (YAML, kustomize)
========  ==========================================  ===========================

``rule()`` returns the Rule class of its scope, so mypy rejects a check whose signature does
not match the scope it is registered for.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, overload

from servegate.model import Finding, Severity
from servegate.resource import FieldPath, Resource, ResourceRef

if TYPE_CHECKING:
    from servegate.podspecs import PodSpecView
    from servegate.yamlsafe import Problem


class Scope(enum.Enum):
    POD = "pod"
    """check(pod: PodSpecView, ctx) for every pod-like spec the pod-spec layer yields."""
    OBJECT = "object"
    """check(resource, ctx) for every object whose kind is in ``kinds`` (all if empty)."""
    UNIT = "unit"
    """check(resources, ctx) once over everything checked together (cross-object rules)."""
    CHANGE = "change"
    """check(before, after, ctx) for every object against the ``--base`` revision."""
    REPORTED = "reported"
    """Reported by the pipeline while loading (YAML, schema, kustomize); no check."""


class Level(enum.Enum):
    """Pod Security Standards level a pss rule belongs to."""

    BASELINE = "baseline"
    RESTRICTED = "restricted"


@dataclass(frozen=True, slots=True)
class Violation:
    """One defect a check found. ``reason`` is short; ``detail`` names what, e.g. the container."""

    path: FieldPath
    reason: str
    detail: str = ""
    resource: Resource | None = None
    """Set by UNIT-scope checks, which see many resources."""
    unless: str | None = None
    """A cluster fact that voids the violation when another unit of the same environment
    deploys it (``servegate.clusterfacts``)."""
    alternatives: tuple[FieldPath, ...] = ()
    """Other fields of the same object whose setting would also satisfy the rule (a pod-level
    ``securityContext`` field for a container's): when a patch removed one of them, the
    finding points at that patch, where the fix belongs."""

    @property
    def message(self) -> str:
        return f"{self.detail}: {self.reason}" if self.detail else self.reason


@dataclass(frozen=True, slots=True)
class Context:
    """What a check may know besides the object: the unit's plan (``servegate.plan``)."""

    k8s_version: tuple[int, int]
    pss_level: Level = Level.RESTRICTED
    """The Pod Security level: the unit's requirement (``servegate.podsecurity``); for a pod
    rule, what that pod is judged at (its Namespace may ask for more)."""
    params: Mapping[str, Any] = field(default_factory=dict)
    environment: Mapping[str, Any] = field(default_factory=dict)
    """The environment profile of the unit being checked (empty when unknown)."""
    pss_version: tuple[int, int] | None = None
    """The Pod Security version: the environment's ``podSecurityVersion`` as the plan resolved
    it (None: ``latest``, the cluster's ``k8s_version``); for a pod rule, the version that pod
    is judged at (its Namespace's ``enforce-version``)."""
    pss_min_version: tuple[int, int] | None = None
    """The environment's ``podSecurityMinVersion``: the oldest ``enforce-version`` a Namespace
    may pin (None: any)."""

    def param(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)


Version = tuple[int, int]
PodCheck = Callable[["PodSpecView", Context], Iterator[Violation]]
ObjectCheck = Callable[[Resource, Context], Iterator[Violation]]
UnitCheck = Callable[[Sequence[Resource], Context], Iterator[Violation]]
ChangeCheck = Callable[[Resource | None, Resource, Context], Iterator[Violation]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """A rule's identity and documentation; the subclass of its scope adds the check."""

    scope: ClassVar[Scope]
    id: str
    title: str
    severity: Severity
    """The default severity; a unit's policy set may change it (``servegate.plan``)."""
    doc: str = ""
    kinds: frozenset[str] = frozenset()
    level: Level | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    """Default parameters; policy sets and servegate.yaml override them."""

    @property
    def family(self) -> str:
        return self.id.partition(".")[0]

    @property
    def module(self) -> str:
        """The module that defines this rule: ``pss.run-as-non-root`` ->
        ``servegate.rules.pss.run_as_non_root``."""
        family, _, name = self.id.partition(".")
        return f"servegate.rules.{family}.{name.replace('-', '_')}"

    def finding(
        self,
        message: str,
        file: str,
        line: int,
        resource: ResourceRef | None = None,
        path: str | None = None,
        unit: str = "",
    ) -> Finding:
        """A finding of this rule at its default severity (the unit's plan sets the final one)."""
        return Finding(self.id, self.severity, message, file, line, resource, path, unit=unit)

    def section(self, heading: str) -> str:
        """One ``## heading`` section of the rule's documentation, stripped."""
        marker = f"## {heading}"
        text = self.doc
        start = text.find(marker)
        if start < 0:
            return ""
        body = text[start + len(marker) :]
        end = body.find("\n## ")
        return (body if end < 0 else body[:end]).strip()

    @property
    def summary(self) -> str:
        what = self.section("What it does")
        return what.split("\n\n")[0].replace("\n", " ") if what else self.title


def _newest(versions: Mapping[Version, Any], k8s_version: Version, oldest: Any) -> Any:
    usable = [v for v in versions if v <= k8s_version]
    return versions[max(usable)] if usable else oldest


@dataclass(frozen=True, slots=True, kw_only=True)
class PodRule(Rule):
    scope: ClassVar[Scope] = Scope.POD
    check: PodCheck
    """The check; for versioned rules the oldest version's."""
    versions: Mapping[Version, PodCheck] = field(default_factory=dict)
    """Kubernetes version -> check, for behaviour that changed in a release (newest <= asked)."""

    def check_for(self, k8s_version: Version) -> PodCheck:
        found: PodCheck = _newest(self.versions, k8s_version, self.check)
        return found


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectRule(Rule):
    scope: ClassVar[Scope] = Scope.OBJECT
    check: ObjectCheck
    versions: Mapping[Version, ObjectCheck] = field(default_factory=dict)

    def check_for(self, k8s_version: Version) -> ObjectCheck:
        found: ObjectCheck = _newest(self.versions, k8s_version, self.check)
        return found


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitRule(Rule):
    scope: ClassVar[Scope] = Scope.UNIT
    check: UnitCheck
    versions: Mapping[Version, UnitCheck] = field(default_factory=dict)

    def check_for(self, k8s_version: Version) -> UnitCheck:
        found: UnitCheck = _newest(self.versions, k8s_version, self.check)
        return found


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeRule(Rule):
    scope: ClassVar[Scope] = Scope.CHANGE
    check: ChangeCheck
    versions: Mapping[Version, ChangeCheck] = field(default_factory=dict)

    def check_for(self, k8s_version: Version) -> ChangeCheck:
        found: ChangeCheck = _newest(self.versions, k8s_version, self.check)
        return found


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportedRule(Rule):
    """A rule the pipeline reports itself while loading: its module holds the id, severity
    and documentation, and the code that finds the problem imports ``RULE`` from it."""

    scope: ClassVar[Scope] = Scope.REPORTED
    input_problem: bool = False
    """The input could not be read, rendered or configured: reported even when ``--select``
    names other rules, since none of them saw that input (``--ignore`` still silences it)."""
    problem: Problem | None = None
    """The strict YAML loader's problem this rule reports (``servegate.yamlsafe.Problem``)."""


@overload
def rule(
    id: str,
    title: str,
    severity: Severity,
    scope: Literal[Scope.POD],
    check: PodCheck,
    *,
    doc: str | None,
    kinds: frozenset[str] | set[str] = ...,
    level: Level | None = ...,
    versions: Mapping[Version, PodCheck] | None = ...,
    params: Mapping[str, Any] | None = ...,
) -> PodRule: ...


@overload
def rule(
    id: str,
    title: str,
    severity: Severity,
    scope: Literal[Scope.OBJECT],
    check: ObjectCheck,
    *,
    doc: str | None,
    kinds: frozenset[str] | set[str] = ...,
    level: Level | None = ...,
    versions: Mapping[Version, ObjectCheck] | None = ...,
    params: Mapping[str, Any] | None = ...,
) -> ObjectRule: ...


@overload
def rule(
    id: str,
    title: str,
    severity: Severity,
    scope: Literal[Scope.UNIT],
    check: UnitCheck,
    *,
    doc: str | None,
    kinds: frozenset[str] | set[str] = ...,
    level: Level | None = ...,
    versions: Mapping[Version, UnitCheck] | None = ...,
    params: Mapping[str, Any] | None = ...,
) -> UnitRule: ...


@overload
def rule(
    id: str,
    title: str,
    severity: Severity,
    scope: Literal[Scope.CHANGE],
    check: ChangeCheck,
    *,
    doc: str | None,
    kinds: frozenset[str] | set[str] = ...,
    level: Level | None = ...,
    versions: Mapping[Version, ChangeCheck] | None = ...,
    params: Mapping[str, Any] | None = ...,
) -> ChangeRule: ...


def rule(
    id: str,
    title: str,
    severity: Severity,
    scope: Scope,
    check: PodCheck | ObjectCheck | UnitCheck | ChangeCheck,
    *,
    doc: str | None,
    kinds: frozenset[str] | set[str] = frozenset(),
    level: Level | None = None,
    versions: Mapping[Version, Any] | None = None,
    params: Mapping[str, Any] | None = None,
) -> Rule:
    """Build the Rule of ``scope``; ``doc`` is the module docstring (pass ``__doc__``)."""
    classes: dict[Scope, type[PodRule | ObjectRule | UnitRule | ChangeRule]] = {
        Scope.POD: PodRule,
        Scope.OBJECT: ObjectRule,
        Scope.UNIT: UnitRule,
        Scope.CHANGE: ChangeRule,
    }
    return classes[scope](
        id=id,
        title=title,
        severity=severity,
        check=check,  # type: ignore[arg-type]  # the overloads pair scope and check
        kinds=frozenset(kinds),
        level=level,
        versions=dict(versions or {}),
        params=dict(params or {}),
        doc=doc or "",
    )


def reported(
    id: str,
    title: str,
    severity: Severity,
    *,
    doc: str | None,
    input_problem: bool = False,
    problem: Problem | None = None,
) -> ReportedRule:
    """A rule the pipeline reports itself; ``doc`` is the module docstring (``__doc__``)."""
    return ReportedRule(
        id=id,
        title=title,
        severity=severity,
        doc=doc or "",
        input_problem=input_problem,
        problem=problem,
    )

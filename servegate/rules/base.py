"""What a rule is: metadata, docs and a check function, in one unit per module.

A rule module defines ``RULE`` (or ``RULES``). Its docstring is the rule's documentation, under
the headings ``## What it does``, ``## Why is this bad?``, ``## Example``, ``## Use instead``
and ``## References``. The registry (``servegate.rules``) finds every module by itself.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from servegate.findings import Severity
from servegate.resource import FieldPath, Resource

if TYPE_CHECKING:
    from servegate.podspecs import PodSpecView


class Scope(enum.Enum):
    POD = "pod"
    """check(pod: PodSpecView, ctx) for every pod-like spec the pod-spec layer yields."""
    RESOURCE = "resource"
    """check(resource, ctx) for every resource whose kind is in ``kinds`` (all if empty)."""
    REPO = "repo"
    """check(resources, ctx) once over everything checked together (cross-object rules)."""
    ENGINE = "engine"
    """Reported by the engine while loading (YAML, schema, kustomize); ``check`` is None."""


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
    """Set by REPO-scope checks, which see many resources."""

    @property
    def message(self) -> str:
        return f"{self.detail}: {self.reason}" if self.detail else self.reason


@dataclass(frozen=True, slots=True)
class Context:
    """What a check may know besides the object: versions, levels, parameters, environment."""

    k8s_version: tuple[int, int]
    pss_level: Level = Level.RESTRICTED
    params: Mapping[str, Any] = field(default_factory=dict)
    environment: Mapping[str, Any] = field(default_factory=dict)
    """The environment profile of the overlay being checked (empty when unknown)."""

    def param(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)


PodCheck = Callable[["PodSpecView", Context], Iterator[Violation]]
ResourceCheck = Callable[[Resource, Context], Iterator[Violation]]
RepoCheck = Callable[[Sequence[Resource], Context], Iterator[Violation]]
Check = PodCheck | ResourceCheck | RepoCheck


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    severity: Severity
    scope: Scope
    check: Any
    """The check function; for versioned rules the oldest version's."""
    kinds: frozenset[str] = frozenset()
    level: Level | None = None
    versions: Mapping[tuple[int, int], Any] = field(default_factory=dict)
    """Kubernetes version -> check, for behaviour that changed in a release (newest <= asked)."""
    params: Mapping[str, Any] = field(default_factory=dict)
    """Default parameters; policy sets and servegate.yaml override them."""
    doc: str = ""

    @property
    def family(self) -> str:
        return self.id.partition(".")[0]

    def check_for(self, k8s_version: tuple[int, int]) -> Any:
        if not self.versions:
            return self.check
        usable = [v for v in self.versions if v <= k8s_version]
        return self.versions[max(usable)] if usable else self.check

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


def rule(
    id: str,
    title: str,
    severity: Severity,
    scope: Scope,
    check: Any,
    *,
    doc: str | None,
    kinds: frozenset[str] | set[str] = frozenset(),
    level: Level | None = None,
    versions: Mapping[tuple[int, int], Any] | None = None,
    params: Mapping[str, Any] | None = None,
) -> Rule:
    """Build a Rule; ``doc`` is the module docstring (pass ``__doc__``)."""
    return Rule(
        id=id,
        title=title,
        severity=severity,
        scope=scope,
        check=check,
        kinds=frozenset(kinds),
        level=level,
        versions=dict(versions or {}),
        params=dict(params or {}),
        doc=doc or "",
    )

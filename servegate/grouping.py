"""Findings grouped by the source line to fix: one group per rule, file and line.

One defect in a base, a runtime or a shared patch is found once per object that carries it: in
every overlay, for every InferenceService a runtime serves. Reports show each such line once,
with the objects it affects; the JSON report keeps one finding per object and names its group.

The group key is ``<rule>@<file>:<line>`` (the file relative to the repo root, POSIX
separators): the same on every run and machine for the same source, and different as soon as the
line to fix moves. It is not a fingerprint for baselines (``servegate.baseline``), which must
survive lines moving.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from servegate.model import Finding, Severity
from servegate.resource import ResourceRef


def group_key(finding: Finding) -> str:
    """``rule@file:line``: which source line a finding asks to change, and under which rule."""
    return f"{finding.rule}@{finding.file}:{finding.line}"


@dataclass(frozen=True, slots=True)
class FindingGroup:
    """The findings of one rule at one source line."""

    key: str
    rule: str
    file: str
    line: int
    findings: tuple[Finding, ...]

    @property
    def severity(self) -> Severity:
        """The most severe of its findings."""
        return min((f.severity for f in self.findings), key=lambda s: s.rank)

    @property
    def message(self) -> str:
        """The message of its most severe finding (the first, as they are sorted)."""
        return self.findings[0].message

    @property
    def resources(self) -> list[ResourceRef]:
        """The distinct objects it affects, in report order."""
        seen: dict[ResourceRef, None] = {}
        for f in self.findings:
            if f.resource is not None:
                seen.setdefault(f.resource)
        return list(seen)

    def weaker(self) -> dict[ResourceRef, Severity]:
        """The objects whose findings here are all less severe than the group (one unit's
        policy lowered the rule: a dev overlay's warning beside prod's error), with their
        most severe; reports name that severity beside them."""
        strongest: dict[ResourceRef, Severity] = {}
        for f in self.findings:
            if f.resource is not None:
                known = strongest.get(f.resource)
                if known is None or f.severity.rank < known.rank:
                    strongest[f.resource] = f.severity
        top = self.severity
        return {ref: s for ref, s in strongest.items() if s is not top}

    @property
    def uniform(self) -> bool:
        """Whether every finding says the same thing (then one message is shown)."""
        return len({f.message for f in self.findings}) == 1


def groups(findings: Iterable[Finding]) -> list[FindingGroup]:
    """``findings`` grouped by rule, file and line, in the order each group first appears (the
    report's order: file, line, rule); findings in a group by severity, object and message."""
    by_key: dict[str, list[Finding]] = {}
    for f in findings:
        by_key.setdefault(group_key(f), []).append(f)
    out = []
    for key, members in by_key.items():
        members.sort(key=lambda f: (f.severity.rank, str(f.resource or ""), f.message))
        first = members[0]
        out.append(FindingGroup(key, first.rule, first.file, first.line, tuple(members)))
    return out

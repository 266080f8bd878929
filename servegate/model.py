"""What every stage of a check and every report reads: units, findings, the report.

The flow is one-way: ``servegate.engine`` builds a ``Report`` from ``CheckOptions``
(``servegate.options``); the
report formats (``servegate.report``) and the commands read it. None of them imports the
engine, and nothing here imports a stage.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from servegate.resource import Resource, ResourceRef


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"

    @property
    def rank(self) -> int:
        """0 for the most severe: sorts errors first."""
        return _RANK[self]


_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.NOTE: 2}


@dataclass(frozen=True, slots=True)
class Finding:
    """One defect, where to fix it, and the unit whose check found it.

    ``severity`` is the rule's default until the unit's plan is applied
    (``servegate.exemptions``); ``unit`` is the ``Unit.id`` it came from, empty for findings
    about the repo itself (discovery, configuration) which belong to no one unit.
    """

    rule: str
    severity: Severity
    message: str
    file: str
    line: int
    resource: ResourceRef | None = None
    path: str | None = None
    suppressed: str | None = None
    """The exemption's reason when an exemption covers this finding."""
    unit: str = field(default="", compare=False)
    """Not part of equality: one source line found through several units is one finding."""
    at_most: Severity | None = None
    """The most severe this finding may be, whatever its rule's severity: a violation that
    admission only warns about (a Namespace's Pod Security ``warn``/``audit`` level)."""
    unless: str | None = field(default=None, compare=False)
    """A fact about the cluster that voids this finding when another unit of the same
    environment deploys it (``servegate.clusterfacts``: a STRICT mesh-wide PeerAuthentication);
    settled across the check before the plan is applied."""

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.file, self.line, self.rule, self.message)


@dataclass(slots=True)
class Unit:
    """What is checked together and deployed together: one rendered kustomize root, or the
    plain manifests of one folder in one environment."""

    id: str
    """``root:<dir>`` or ``plain:<folder>:<environment>``: its name in the result memo."""
    label: str
    """The root's or folder's path relative to the repo root."""
    environment: str | None
    resources: list[Resource] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    """Findings of loading it (a failed render)."""
    files: set[str] = field(default_factory=set)
    """Source files it read."""
    reusable: bool = True
    """False when its findings hold a transient failure (a kustomize timeout)."""

    @property
    def is_root(self) -> bool:
        return self.id.startswith("root:")

    @staticmethod
    def root_id(kdir: str) -> str:
        return f"root:{kdir}"

    @staticmethod
    def plain_id(folder: str, environment: str | None) -> str:
        return f"plain:{folder}:{environment or ''}"


@dataclass(slots=True)
class UnitResult:
    """What checking one unit produced, before its plan is applied: what the result memo
    keeps, so that a unit whose inputs and plan are unchanged is not checked again."""

    findings: list[Finding] = field(default_factory=list)
    """Each with its unit, at its rule's default severity; ``suppressed`` set where an
    exemption annotation on the object covers it."""
    resources: int = 0
    files: list[str] = field(default_factory=list)
    """Source files (repo-relative) the unit read: counted in ``summary.files``."""
    facts: list[str] = field(default_factory=list)
    """What the unit deploys that other units' findings depend on
    (``servegate.clusterfacts.facts_of``)."""
    runtimes: list[dict[str, Any]] = field(default_factory=list)
    """The KServe runtimes and the Namespaces it holds (``servegate.crossunit``), as the API
    server stores them: other units' objects may depend on them."""
    asks: list[str] = field(default_factory=list)
    """The namespaces of its InferenceServices (``""``: none): where other units' runtimes
    matter to it."""
    uses: list[str] = field(default_factory=list)
    """The namespaces its objects live in whose Namespace it does not hold: another unit's
    Namespace of that name decides their Pod Security and mesh injection."""
    depends: str = ""
    """The digest of the other units' runtimes it was judged with (``crossunit.digest``)."""


@dataclass(frozen=True, slots=True)
class BaselineUse:
    """What a baseline file given with ``check --baseline`` did to a report."""

    name: str
    """The file as the operator named it."""
    location: str
    """The file relative to the repo root (as named, when it is outside the repo)."""
    reason: str
    """The suppression reason of the findings it accepted."""
    fingerprints: frozenset[str]
    """Every entry's fingerprint (``servegate.baseline.fingerprint``)."""
    matched: int
    """Entries a current finding matched."""
    unmatched: tuple[tuple[str, str, int], ...] = ()
    """(rule, message, line in the file) of each entry that matched nothing in a run over the
    whole repo."""


@dataclass(slots=True)
class Report:
    root: Path
    findings: list[Finding] = field(default_factory=list)
    suppressed: list[Finding] = field(default_factory=list)
    files: int = 0
    resources: int = 0
    units: list[Unit] = field(default_factory=list)
    """The units checked in this run with their resources (units whose findings were reused
    from the memo are not loaded, and not listed)."""
    shard: tuple[int, int, str] | None = None
    """``Discovery.shard``: which shard of which check this report is (``--shard``)."""
    baseline: BaselineUse | None = None
    """What ``check --baseline`` matched and did not (``servegate.baseline.Matcher``)."""

    @property
    def errors(self) -> int:
        return sum(f.severity is Severity.ERROR for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity is Severity.WARNING for f in self.findings)

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0

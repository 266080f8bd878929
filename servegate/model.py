"""What every stage of a check and every report reads: options, units, findings, the report.

The flow is one-way: ``servegate.engine`` builds a ``Report`` from ``CheckOptions``; the
report formats (``servegate.report``) and the commands read it. None of them imports the
engine, and nothing here imports a stage.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from servegate.resource import Resource, ResourceRef

if TYPE_CHECKING:
    from servegate.baseline import Baseline


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


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """What the operator asked for: the command line, or the Argo CD plugin's parameters."""

    paths: Sequence[Path] = (Path("."),)
    config: Path | None = None
    env: str | None = None
    crds: Sequence[Path] = ()
    k8s_version: str | None = None
    kserve_version: str | None = None
    """``--kserve-version``: the KServe release whose CRD schemas apply."""
    pss_level: str | None = None
    select: Sequence[str] = ()
    ignore: Sequence[str] = ()
    policies: Path | None = None
    """The operator's folder of policy sets (``<name>.yaml``), looked up before the bundled ones."""
    workers: int | None = None
    progress: Callable[[int, int], None] | None = None
    base: str | None = None
    """Diff-aware mode: only roots changed since this git ref, plus the change rules."""
    changed: Sequence[Path] | None = None
    """Only the roots and plain files these paths touch (pre-commit's file list)."""
    root: Path | None = None
    """The repo root, when the caller knows it better than the nearest .git (Argo CD)."""
    cache: bool = True
    """Reuse what earlier runs computed (``servegate.memo``); False: read and write nothing."""
    shard: tuple[int, int] | None = None
    """(I, N): check only the roots of shard I of N (servegate.shard), for fan-out CI."""
    applications: bool = True
    """Check what the repo's Argo CD Applications deploy as well, as Argo CD renders it
    (``servegate.deployed``). The plugin sets False: it prints the manifests of the one app
    Argo CD runs it for (where ``spec.source.kustomize`` does not apply); the Applications
    among them are rendered by their own sources."""
    reuse_results: bool = False
    """Reuse the findings of units whose inputs and plan are unchanged (the result memo).
    Their resources are then not loaded: only for callers that need findings alone."""
    baseline: Baseline | None = None
    """``check --baseline FILE``: findings it accepts are suppressed (``exemptions.finish``).
    Only the operator's command line sets it; a repo's own baseline file is never read."""
    operator_config: Path | None = None
    """The operator's configuration file (``--operator-config``, else the environment's
    ``SERVEGATE_OPERATOR_CONFIG``; ``servegate.operatorconfig``)."""
    allow_repo_weakening: bool = False
    """The checked repo's configuration may relax the operator's policy (``servegate.trust``)."""
    requested_env: str | None = None
    """The environment an Application's plugin env asks for (``SERVEGATE_ENV``): repo
    content, so applied only where it is no weaker than the mapping's."""
    allow_plugin_env: bool = False
    """An Application's plugin env may choose the environment, rules and level."""
    honor_excludes: bool = False
    """The repo's ``exclude:`` globs hide folders (each hidden file is listed)."""


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

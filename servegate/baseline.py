"""A findings baseline: adopt servegate on a repo that has findings today, fail only on new ones.

``servegate baseline`` writes one entry per current finding to ``.servegate-baseline.json``;
``servegate check --baseline FILE`` then moves every finding an entry matches to the report's
suppressed findings (each listed, with a reason naming the file), so only new findings fail
the check, and reports each entry that matches nothing any more (a note at its line in the
file) so the file shrinks as findings are fixed; ``servegate baseline --prune`` rewrites it
with the entries that still match.

An entry matches by its ``fingerprint``: a digest of the rule, the object's identity (API
group, kind, namespace, name; the file for findings about no object) and the field path (the
message for findings without one). Lines are left out, so editing a file above a finding, or
moving a patch, keeps the entry matching; the ``group`` key of a report (rule, file, line) is
the other way round.

The baseline lives in the checked repo, and the repo does not get to relax its own check: a
baseline applies only when the operator names it with ``--baseline`` on the command line,
never because the file is there.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from servegate.model import BaselineUse, Finding
from servegate.resource import ResourceRef
from servegate.rules.repo.baseline_unmatched import RULE as UNMATCHED

DEFAULT_FILE = ".servegate-baseline.json"
VERSION = 1
MAX_BYTES = 64 * 1024 * 1024
_COMMENT = (
    "Findings accepted when servegate was adopted. `servegate check --baseline FILE` does not "
    "fail on these and lists them as suppressed; fix them and run `servegate baseline --prune` "
    "to shrink this file. Entries match on rule, object and field, not on lines."
)


class BaselineError(ValueError):
    """A baseline file that cannot be used (the operator's input: exit code 2)."""


def fingerprint(finding: Finding) -> str:
    """A digest of what is wrong where: rule, object (API group, kind, namespace, name) or file,
    and field path (or message). 32 hex digits, stable across runs, machines and line moves."""
    parts = [finding.rule]
    ref = finding.resource
    if ref is not None:
        group = ref.api_version.rpartition("/")[0]
        parts += ["object", group, ref.kind, ref.namespace or "", ref.name]
    else:
        parts += ["file", finding.file]
    parts += ["path", finding.path] if finding.path else ["message", finding.message]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Entry:
    """One accepted finding, as the baseline file records it."""

    fingerprint: str
    rule: str
    file: str
    line: int
    message: str
    resource: ResourceRef | None = None
    path: str | None = None
    severity: str = "error"

    @classmethod
    def of(cls, finding: Finding) -> Entry:
        return cls(
            fingerprint(finding),
            finding.rule,
            finding.file,
            finding.line,
            finding.message,
            finding.resource,
            finding.path,
            finding.severity.value,
        )

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"fingerprint": self.fingerprint, "rule": self.rule}
        if self.resource is not None:
            out["resource"] = self.resource.as_dict()
        if self.path:
            out["path"] = self.path
        out.update(
            {
                "severity": self.severity,
                "message": self.message,
                "file": self.file,
                "line": self.line,
            }
        )
        return out

    @property
    def what(self) -> str:
        """``rule on object at path`` for messages."""
        where = f" on {self.resource}" if self.resource is not None else f" in {self.file}"
        return f"{self.rule}{where}" + (f" at {self.path}" if self.path else "")


@dataclass(slots=True)
class Baseline:
    """A loaded baseline file."""

    name: str
    """The file as the operator named it (shown in reasons and notes)."""
    entries: dict[str, Entry]
    text: str = ""

    def line_of(self, entry: Entry) -> int:
        """The line of ``entry``'s fingerprint in the file (1 when not found)."""
        needle = f'"{entry.fingerprint}"'
        for number, line in enumerate(self.text.splitlines(), 1):
            if needle in line:
                return number
        return 1

    @property
    def reason(self) -> str:
        return f"in the baseline {self.name}"


def acceptable(finding: Finding) -> bool:
    """Whether a baseline may accept ``finding``: never one that means part of the repo was not
    checked at all (the rules reporting unreadable input: YAML that cannot be read, a root
    kustomize cannot build, remote content, invalid or expired exemptions, for a baseline is
    no exemption; a pod spec or a CEL rule that cannot be judged), nor its own notes."""
    from servegate.rules import all_rules
    from servegate.rules.base import ReportedRule
    from servegate.rules.pods.unreadable_spec import RULE as UNREADABLE_SPEC
    from servegate.rules.schema.cel_not_evaluated import RULE as CEL_NOT_EVALUATED

    rule = all_rules().get(finding.rule)
    if isinstance(rule, ReportedRule) and rule.input_problem:
        return False
    return finding.rule not in (UNREADABLE_SPEC.id, CEL_NOT_EVALUATED.id, UNMATCHED.id)


def entry_order(entry: Entry) -> tuple[str, str, str, str, str]:
    """Rule, object, file, path: a rewritten file differs only where findings changed."""
    return (entry.rule, str(entry.resource or ""), entry.file, entry.path or "", entry.fingerprint)


def entries(findings: Iterable[Finding]) -> list[Entry]:
    """One entry per distinct fingerprint, in ``entry_order``."""
    by_fp: dict[str, Entry] = {}
    for f in findings:
        entry = Entry.of(f)
        by_fp.setdefault(entry.fingerprint, entry)
    return sorted(by_fp.values(), key=entry_order)


def dumps(items: Iterable[Entry]) -> str:
    document = {
        "version": VERSION,
        "comment": _COMMENT,
        "entries": [e.as_dict() for e in items],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write(path: Path, items: Iterable[Entry]) -> None:
    """Write the baseline atomically (a temporary file beside it, then a rename)."""
    text = dumps(items)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise BaselineError(f"cannot write {path}: {err.strerror}") from None


def load(path: Path, name: str | None = None) -> Baseline:
    """Read a baseline file; BaselineError (one line) when it cannot be read or is not one."""
    shown = name or str(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise BaselineError(f"baseline {shown} is over {MAX_BYTES // 1048576} MiB")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BaselineError(
            f"baseline {shown} does not exist (write one with `servegate baseline`)"
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) else "not UTF-8"
        raise BaselineError(f"cannot read baseline {shown}: {reason}") from None
    try:
        data = json.loads(text)
    except ValueError as err:
        raise BaselineError(f"baseline {shown} is not JSON: {err}") from None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise BaselineError(f"{shown} is not a servegate baseline (version {VERSION})")
    raw = data.get("entries")
    if not isinstance(raw, list):
        raise BaselineError(f"baseline {shown} has no 'entries' list")
    found: dict[str, Entry] = {}
    for n, item in enumerate(raw, 1):
        entry = _entry(item)
        if entry is None:
            raise BaselineError(f"baseline {shown}: entry {n} has no valid fingerprint and rule")
        found.setdefault(entry.fingerprint, entry)
    return Baseline(shown, found, text)


def _entry(item: Any) -> Entry | None:
    if not isinstance(item, dict):
        return None
    fp, rule = item.get("fingerprint"), item.get("rule")
    if not (isinstance(fp, str) and fp and isinstance(rule, str) and rule):
        return None
    ref = None
    resource = item.get("resource")
    if isinstance(resource, dict):
        namespace = resource.get("namespace")
        ref = ResourceRef(
            str(resource.get("apiVersion") or ""),
            str(resource.get("kind") or ""),
            str(namespace) if namespace else None,
            str(resource.get("name") or ""),
        )
    line = item.get("line")
    path = item.get("path")
    return Entry(
        fp,
        rule,
        str(item.get("file") or ""),
        line if isinstance(line, int) else 0,
        str(item.get("message") or ""),
        ref,
        path if isinstance(path, str) else None,
        str(item.get("severity") or "error"),
    )


class Matcher:
    """One check's use of a baseline. ``exemptions.finish``, the one place a check suppresses
    findings, asks it about each finding after the plan and the exemptions (``saw``), then
    adds its ``notes``; ``use`` is what the report says about it."""

    def __init__(self, baseline: Baseline, root: Path, whole_repo: bool) -> None:
        """``whole_repo``: this run checked the whole repo, so an entry that matches nothing
        is stale; a narrowed run (``--changed-files``, ``--base``, ``--shard``, a sub-folder)
        cannot tell a fixed finding from one it did not look at."""
        self.baseline = baseline
        self.location = _inside(Path(baseline.name), root) or baseline.name
        self.whole_repo = whole_repo
        self.matched: set[str] = set()
        self._notes: list[tuple[Finding, Entry]] | None = None

    def saw(self, finding: Finding) -> str | None:
        """Record that ``finding`` exists (reported, exempted or not selected: its entry is
        not stale); the suppression reason when the baseline accepts it."""
        fp = fingerprint(finding)
        if fp not in self.baseline.entries:
            return None
        self.matched.add(fp)
        return self.baseline.reason if acceptable(finding) else None

    def notes(self) -> list[Finding]:
        """A ``repo.baseline-unmatched`` note at each entry no finding matched (a run over the
        whole repo only); call after every finding was ``saw``."""
        if self._notes is None:
            stale = [
                e
                for fp, e in self.baseline.entries.items()
                if fp not in self.matched and self.whole_repo
            ]
            self._notes = [
                (
                    UNMATCHED.finding(
                        f"baseline entry matches no finding any more ({entry.what}): it was "
                        "fixed or the object is gone; remove it, or rewrite the file with "
                        "`servegate baseline --prune`",
                        self.location,
                        self.baseline.line_of(entry),
                    ),
                    entry,
                )
                for entry in stale
            ]
        return [note for note, _ in self._notes]

    def use(self) -> BaselineUse:
        """What the baseline did in this run (``Report.baseline``)."""
        notes = self._notes or []
        return BaselineUse(
            self.baseline.name,
            self.location,
            self.baseline.reason,
            frozenset(self.baseline.entries),
            len(self.matched),
            tuple((entry.rule, entry.message, note.line) for note, entry in notes),
        )


def _inside(path: Path, root: Path) -> str | None:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None

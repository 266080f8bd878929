"""The SARIF 2.1.0 report, for GitHub code scanning and other SARIF viewers.

Every registered rule is described in ``tool.driver.rules`` (title, summary, full docs, help
URI), so viewers explain a finding without servegate installed. One result per rule and source
line: the objects that share it are named in the message and as logical locations. Findings
covered by an exemption are kept as results with an ``external`` suppression carrying the
exemption's reason. With ``--baseline`` every result has a ``baselineState``: ``new`` when any
of its findings is new, ``unchanged`` when all are in the baseline (then it is suppressed), and
each baseline entry that matches nothing any more is an ``absent`` result at its line in the
baseline file.

Written as plain dicts: the SARIF object model packages (``sarif-om``) are untyped attrs classes
that need a hand-written serializer, and the schema test is what keeps this output honest.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from servegate import __version__
from servegate.baseline import fingerprint
from servegate.grouping import FindingGroup, groups
from servegate.model import BaselineUse, Finding, Report, Severity
from servegate.resource import ResourceRef
from servegate.rules import all_rules
from servegate.rules.base import Rule
from servegate.rules.repo.baseline_unmatched import RULE as UNMATCHED

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "SRCROOT"
INFORMATION_URI = "https://github.com/servegate/servegate"
_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}
#: GitHub code scanning ranks security alerts by this property (CVSS-like, 0.0-10.0).
_SECURITY_SEVERITY = {Severity.ERROR: "8.0", Severity.WARNING: "5.0", Severity.NOTE: "2.0"}


def _pascal(rule_id: str) -> str:
    return "".join(part.capitalize() for part in rule_id.replace(".", "-").split("-"))


def rule_descriptor(rule: Rule) -> dict[str, Any]:
    from servegate.rules.docs import help_uri, rule_text

    return {
        "id": rule.id,
        "name": _pascal(rule.id),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.summary},
        "help": {"text": rule_text(rule), "markdown": rule.doc.strip() or rule.title},
        "helpUri": help_uri(rule),
        "defaultConfiguration": {"level": _LEVELS[rule.severity]},
        "properties": {
            "tags": ["security", rule.family],
            "security-severity": _SECURITY_SEVERITY[rule.severity],
        },
    }


def _unknown_descriptor(rule_id: str) -> dict[str, Any]:
    return {
        "id": rule_id,
        "name": _pascal(rule_id),
        "shortDescription": {"text": rule_id},
        "properties": {"tags": [rule_id.partition(".")[0]]},
    }


def _partial_fingerprint(group: FindingGroup) -> str:
    # Stable across line moves: the rule, the file, and what is wrong in each object.
    whats = sorted({f"{f.resource or ''}\0{f.path or f.message}" for f in group.findings})
    key = "\0".join([group.rule, group.file, *whats])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _qualified(ref: ResourceRef) -> str:
    return "/".join(p for p in (ref.kind, ref.namespace, ref.name) if p)


def _result(group: FindingGroup, index: int, used: BaselineUse | None) -> dict[str, Any]:
    """One result per rule and source line: its objects in the message and as logical
    locations; new or unchanged against the baseline (new when any of its findings is new)."""
    lead = next((f for f in group.findings if f.suppressed is None), group.findings[0])
    weaker = group.weaker()
    objects = [f"{r} ({weaker[r].value})" if r in weaker else str(r) for r in group.resources]
    text = lead.message
    if len(objects) == 1:
        text += f" [{objects[0]}]"
    elif objects:
        text += f" [{len(objects)} objects: {', '.join(objects)}]"
    others = sorted({f.message for f in group.findings} - {lead.message})
    if others:
        text += " Also: " + "; ".join(others)
    location: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": {"uri": group.file, "uriBaseId": SRCROOT},
            "region": {"startLine": max(group.line, 1)},
        }
    }
    if group.resources:
        location["logicalLocations"] = [
            {"name": r.name, "fullyQualifiedName": _qualified(r), "kind": "resource"}
            for r in group.resources
        ]
    result: dict[str, Any] = {
        "ruleId": group.rule,
        "ruleIndex": index,
        "level": _LEVELS[min((f.severity for f in group.findings), key=lambda s: s.rank)],
        "message": {"text": text},
        "locations": [location],
        "partialFingerprints": {"servegate/v2": _partial_fingerprint(group)},
        "properties": {"group": group.key},
    }
    paths = sorted({f.path for f in group.findings if f.path})
    if paths:
        result["properties"]["paths"] = paths
    reasons = sorted({f.suppressed for f in group.findings if f.suppressed is not None})
    if all(f.suppressed is not None for f in group.findings):
        result["suppressions"] = [
            {"kind": "external", "justification": reason} for reason in reasons
        ]
    if used is not None:
        new = any(fingerprint(f) not in used.fingerprints for f in group.findings)
        result["baselineState"] = "new" if new else "unchanged"
    return result


def _baselined(f: Finding, used: BaselineUse | None) -> bool:
    return used is not None and f.suppressed == used.reason


def _absent(rule: str, message: str, index: int, name: str, line: int) -> dict[str, Any]:
    """A baseline entry no current finding matches (SARIF ``baselineState: absent``)."""
    return {
        "ruleId": rule,
        "ruleIndex": index,
        "level": "note",
        "message": {"text": f"fixed since the baseline: {message}"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": name, "uriBaseId": SRCROOT},
                    "region": {"startLine": max(line, 1)},
                }
            }
        ],
        "baselineState": "absent",
    }


def _groups(report: Report) -> list[FindingGroup]:
    """Findings and the suppressed ones grouped by rule and line; baselined findings join the
    active ones of their line (a result is new when any of its findings is new), findings an
    exemption hides make results of their own, marked suppressed."""
    used = report.baseline
    together = [f for f in report.suppressed if _baselined(f, used)]
    exempt = [f for f in report.suppressed if not _baselined(f, used)]
    found = report.findings
    if used is not None:  # its unmatched entries are `absent` results instead
        found = [f for f in found if f.rule != UNMATCHED.id]
    return [*groups([*found, *together]), *groups(exempt)]


def as_dict(report: Report) -> dict[str, Any]:
    descriptors = [rule_descriptor(r) for r in all_rules().values()]
    index = {d["id"]: i for i, d in enumerate(descriptors)}
    results = []
    used = report.baseline
    for group in _groups(report):
        if group.rule not in index:
            index[group.rule] = len(descriptors)
            descriptors.append(_unknown_descriptor(group.rule))
        results.append(_result(group, index[group.rule], used))
    if used is not None:
        for rule, message, line in used.unmatched:
            if rule not in index:
                index[rule] = len(descriptors)
                descriptors.append(_unknown_descriptor(rule))
            results.append(_absent(rule, message, index[rule], used.location, line))
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "servegate",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": descriptors,
                    }
                },
                "originalUriBaseIds": {SRCROOT: {"uri": report.root.resolve().as_uri() + "/"}},
                "invocations": [{"executionSuccessful": True}],
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def render(report: Report, color: bool = False) -> str:
    return json.dumps(as_dict(report), indent=2) + "\n"

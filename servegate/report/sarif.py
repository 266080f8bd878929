"""The SARIF 2.1.0 report, for GitHub code scanning and other SARIF viewers.

Every registered rule is described in ``tool.driver.rules`` (title, summary, full docs, help
URI), so viewers explain a finding without servegate installed. Findings covered by an exemption
are kept as results with an ``external`` suppression carrying the exemption's reason.

Written as plain dicts: the SARIF object model packages (``sarif-om``) are untyped attrs classes
that need a hand-written serializer, and the schema test is what keeps this output honest.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from servegate import __version__
from servegate.model import Finding, Report, Severity
from servegate.rules import all_rules
from servegate.rules.base import Rule

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


def _fingerprint(f: Finding) -> str:
    # Stable across line moves: what is wrong and where in which object, not the line number.
    key = "\0".join([f.rule, f.file, str(f.resource or ""), f.path or "", f.message])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _result(f: Finding, index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": index,
        "level": _LEVELS[f.severity],
        "message": {"text": f.message + (f" [{f.resource}]" if f.resource else "")},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": f.file, "uriBaseId": SRCROOT},
                    "region": {"startLine": max(f.line, 1)},
                }
            }
        ],
        "partialFingerprints": {"servegate/v1": _fingerprint(f)},
    }
    if f.resource is not None:
        r = f.resource
        qualified = "/".join(p for p in (r.kind, r.namespace, r.name) if p)
        result["locations"][0]["logicalLocations"] = [
            {"name": r.name, "fullyQualifiedName": qualified, "kind": "resource"}
        ]
    if f.path:
        result["properties"] = {"path": f.path}
    if f.suppressed is not None:
        result["suppressions"] = [{"kind": "external", "justification": f.suppressed}]
    return result


def as_dict(report: Report) -> dict[str, Any]:
    descriptors = [rule_descriptor(r) for r in all_rules().values()]
    index = {d["id"]: i for i, d in enumerate(descriptors)}
    results = []
    for f in [*report.findings, *report.suppressed]:
        if f.rule not in index:
            index[f.rule] = len(descriptors)
            descriptors.append(_unknown_descriptor(f.rule))
        results.append(_result(f, index[f.rule]))
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

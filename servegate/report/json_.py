"""The JSON report: servegate's stable, versioned machine contract (see ARCHITECTURE.md).

One entry per finding and object, as the contract says, each with two keys for tools:
``group`` (``rule@file:line``: findings with the same group are one source line to fix; see
``servegate.grouping``) and ``fingerprint`` (rule, object and field, stable when lines move:
what a baseline matches, ``servegate.baseline``). A suppressed finding carries
``suppression: {reason, kind}``, ``kind`` being ``exemption`` or ``baseline``; with
``--baseline`` the summary says what the baseline matched and which entries matched nothing.
"""

from __future__ import annotations

import json
from typing import Any

from servegate.baseline import fingerprint
from servegate.grouping import group_key
from servegate.model import BaselineUse, Finding, Report
from servegate.rules.repo.excluded import RULE as EXCLUDED

VERSION = 1


def finding_dict(f: Finding, used: BaselineUse | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rule": f.rule,
        "severity": f.severity.value,
        "message": f.message,
        "file": f.file,
        "line": f.line,
    }
    if f.resource is not None:
        out["resource"] = f.resource.as_dict()
    if f.path:
        out["path"] = f.path
    out["group"] = group_key(f)
    out["fingerprint"] = fingerprint(f)
    if f.suppressed is not None:
        baselined = used is not None and f.suppressed == used.reason
        out["suppression"] = {
            "reason": f.suppressed,
            "kind": "baseline"
            if baselined
            else ("exclude" if f.rule == EXCLUDED.id else "exemption"),
        }
    return out


def as_dict(report: Report) -> dict[str, Any]:
    shard = {}
    if report.shard is not None:  # what `servegate merge` checks: every shard, once
        index, count, scope = report.shard
        shard = {"shard": {"index": index, "count": count, "scope": scope}}
    used = report.baseline
    summary: dict[str, Any] = {
        "files": report.files,
        "resources": report.resources,
        "errors": report.errors,
        "warnings": report.warnings,
        "suppressed": len(report.suppressed),
    }
    if used is not None:
        summary["baseline"] = {
            "file": used.name,
            "entries": len(used.fingerprints),
            "matched": used.matched,
            "unmatched": len(used.unmatched),
        }
    return {
        "version": VERSION,
        **shard,
        "summary": summary,
        "findings": [finding_dict(f, used) for f in report.findings],
        "suppressed": [finding_dict(f, used) for f in report.suppressed],
    }


def render(report: Report, color: bool = False) -> str:
    return json.dumps(as_dict(report), indent=2) + "\n"

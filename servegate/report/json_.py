"""The JSON report: servegate's stable, versioned machine contract (see ARCHITECTURE.md)."""

from __future__ import annotations

import json
from typing import Any

from servegate.model import Finding, Report

VERSION = 1


def finding_dict(f: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rule": f.rule,
        "severity": f.severity.value,
        "message": f.message,
        "file": f.file,
        "line": f.line,
    }
    if f.resource is not None:
        r = f.resource
        out["resource"] = {
            "apiVersion": r.api_version,
            "kind": r.kind,
            "namespace": r.namespace,
            "name": r.name,
        }
    if f.path:
        out["path"] = f.path
    if f.suppressed is not None:
        out["suppression"] = {"reason": f.suppressed}
    return out


def as_dict(report: Report) -> dict[str, Any]:
    shard = {}
    if report.shard is not None:  # what `servegate merge` checks: every shard, once
        index, count, scope = report.shard
        shard = {"shard": {"index": index, "count": count, "scope": scope}}
    return {
        "version": VERSION,
        **shard,
        "summary": {
            "files": report.files,
            "resources": report.resources,
            "errors": report.errors,
            "warnings": report.warnings,
            "suppressed": len(report.suppressed),
        },
        "findings": [finding_dict(f) for f in report.findings],
        "suppressed": [finding_dict(f) for f in report.suppressed],
    }


def render(report: Report, color: bool = False) -> str:
    return json.dumps(as_dict(report), indent=2) + "\n"

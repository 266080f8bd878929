"""``servegate merge``: combine the JSON reports of ``check --shard I/N`` runs into one.

Only a complete set is merged: each report records its shard (``"shard": {"index", "count",
"scope"}``), and merge refuses (exit 2) a set in which a shard is missing, appears twice, or
belongs to another split or another check (``scope``). A fan-out CI job merges whatever reports
were uploaded; if one job failed before uploading, its roots were never checked, and a merge
that cannot tell would report them clean.

The result has the same JSON contract as one ``check --format json`` of the whole repo:
findings that several shards report (a base file read by overlays of different shards) appear
once, sorted as ``check`` sorts them, and the summary is recomputed from them. ``resources`` is
the sum over shards (each root belongs to one shard); ``files`` is the sum too, so it counts a
file read by several shards once per shard.

``--format`` writes the merged report in any of check's formats, so a fan-out run feeds code
scanning (``sarif``), test views (``junit``), annotations (``github``) or a job summary
(``text``) like one check does. JUnit then has one suite of the files with findings: the
shards' JSON reports list findings, not every resource checked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from servegate.model import Finding, Report, Severity
from servegate.report import FORMATS
from servegate.resource import ResourceRef

#: The JSON report version this command reads and writes.
VERSION = 1


class MergeError(Exception):
    """A report that cannot be merged (exit code 2)."""


def _key(finding: dict[str, Any]) -> str:
    return json.dumps(finding, sort_keys=True)


def _sort_key(finding: dict[str, Any]) -> tuple[str, int, str, str]:
    return (
        str(finding.get("file", "")),
        int(finding.get("line", 0)),
        str(finding.get("rule", "")),
        str(finding.get("message", "")),
    )


def _check_shards(reports: list[dict[str, Any]]) -> None:
    """MergeError unless ``reports`` are every shard of one check, each once."""
    seen: dict[int, int] = {}
    counts: set[int] = set()
    scopes: set[str] = set()
    for n, report in enumerate(reports, 1):
        shard = report.get("shard")
        index = shard.get("index") if isinstance(shard, dict) else None
        count = shard.get("count") if isinstance(shard, dict) else None
        scope = shard.get("scope") if isinstance(shard, dict) else None
        if (
            not (type(index) is int and type(count) is int and isinstance(scope, str))
            or not 1 <= index <= count
        ):
            raise MergeError(
                f"report {n} does not say which shard it is: merge combines the reports of "
                "`servegate check --shard I/N --format json`"
            )
        if index in seen:
            raise MergeError(
                f"shard {index}/{count} is given twice (reports {seen[index]} and {n})"
            )
        seen[index] = n
        counts.add(count)
        scopes.add(scope)
    if len(counts) > 1:
        split = " and ".join(str(c) for c in sorted(counts))
        raise MergeError(f"the reports come from different splits (N = {split})")
    if len(scopes) > 1:
        raise MergeError("the reports are shards of different checks (another repo or path)")
    count = counts.pop()
    missing = [i for i in range(1, count + 1) if i not in seen]
    if missing:
        names = ", ".join(f"{i}/{count}" for i in missing)
        raise MergeError(
            f"shard {names} missing: every shard's report is needed, or the roots of the "
            "missing ones would count as checked"
        )


def _finding(item: dict[str, Any]) -> Finding:
    """A finding of a JSON report (``report/json_.py``'s ``finding_dict``) as a Finding."""
    raw = item.get("resource")
    resource = None
    if isinstance(raw, dict):
        resource = ResourceRef(
            api_version=str(raw.get("apiVersion", "")),
            kind=str(raw.get("kind", "")),
            namespace=raw.get("namespace") if isinstance(raw.get("namespace"), str) else None,
            name=str(raw.get("name", "")),
        )
    suppression = item.get("suppression")
    try:
        severity = Severity(item.get("severity"))
    except ValueError:
        raise MergeError(f"a finding has an unknown severity {item.get('severity')!r}") from None
    return Finding(
        rule=str(item.get("rule", "")),
        severity=severity,
        message=str(item.get("message", "")),
        file=str(item.get("file", "")),
        line=int(item.get("line", 0)),
        resource=resource,
        path=str(item["path"]) if item.get("path") else None,
        suppressed=str(suppression.get("reason", "")) if isinstance(suppression, dict) else None,
    )


def as_report(merged: dict[str, Any], root: Path) -> Report:
    """The merged JSON report as a Report, for the other formats (``root``: the checkout the
    findings' paths are relative to)."""
    summary = merged["summary"]
    return Report(
        root=root,
        findings=[_finding(f) for f in merged["findings"]],
        suppressed=[_finding(f) for f in merged["suppressed"]],
        files=int(summary["files"]),
        resources=int(summary["resources"]),
    )


def merge_reports(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """One report from every shard of a check; MergeError when one is not a version-1 JSON
    report, or a shard is missing, repeated or of another check."""
    for n, report in enumerate(reports, 1):
        if not isinstance(report, dict) or report.get("version") != VERSION:
            raise MergeError(f"report {n} is not a servegate JSON report (version {VERSION})")
    _check_shards(reports)
    findings: dict[str, dict[str, Any]] = {}
    suppressed: dict[str, dict[str, Any]] = {}
    files = resources = 0
    for n, report in enumerate(reports, 1):
        if not isinstance(report, dict) or report.get("version") != VERSION:
            raise MergeError(f"report {n} is not a servegate JSON report (version {VERSION})")
        summary = report.get("summary")
        found = report.get("findings")
        quiet = report.get("suppressed", [])
        if not isinstance(summary, dict) or not isinstance(found, list):
            raise MergeError(f"report {n} has no summary or findings")
        if not isinstance(quiet, list):
            raise MergeError(f"report {n}: 'suppressed' is not a list")
        files += int(summary.get("files", 0))
        resources += int(summary.get("resources", 0))
        for item in found:
            if not isinstance(item, dict):
                raise MergeError(f"report {n}: a finding is not an object")
            findings.setdefault(_key(item), item)
        for item in quiet:
            if not isinstance(item, dict):
                raise MergeError(f"report {n}: a suppressed finding is not an object")
            suppressed.setdefault(_key(item), item)
    merged = sorted(findings.values(), key=_sort_key)
    quieted = sorted(suppressed.values(), key=_sort_key)
    return {
        "version": VERSION,
        "summary": {
            "files": files,
            "resources": resources,
            "errors": sum(f.get("severity") == "error" for f in merged),
            "warnings": sum(f.get("severity") == "warning" for f in merged),
            "suppressed": len(quieted),
        },
        "findings": merged,
        "suppressed": quieted,
    }


@click.command()
@click.argument("reports", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(list(FORMATS)),
    default="json",
    show_default=True,
    help="Format of the merged report.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=str),
    help="Write the merged report to FILE instead of stdout.",
)
def merge(reports: tuple[str, ...], fmt: str, output: str | None) -> int:
    """Merge the JSON reports of `servegate check --shard I/N --format json` into one report
    (JSON by default, or any format of check); every shard 1..N must be given once. Exit
    codes: 0 no error-level finding, 1 error-level findings, 2 a report cannot be read, or a
    shard is missing or given twice.
    """
    from servegate.console import fail, use_color
    from servegate.report import formatter

    loaded: list[dict[str, Any]] = []
    for name in reports:
        try:
            loaded.append(json.loads(Path(name).read_text(encoding="utf-8")))
        except OSError as err:
            return fail(f"cannot read {name}: {err.strerror}")
        except (ValueError, UnicodeDecodeError) as err:
            return fail(f"{name} is not JSON: {err}")
    try:
        merged = merge_reports(loaded)
        text = (
            json.dumps(merged, indent=2) + "\n"
            if fmt == "json"
            else formatter(fmt)(as_report(merged, Path.cwd()), use_color(output))
        )
    except (MergeError, TypeError, ValueError) as err:
        return fail(str(err))
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as err:
            return fail(f"cannot write {output}: {err.strerror}")
    else:
        click.echo(text, nl=False, color=use_color(output))
    return 1 if merged["summary"]["errors"] else 0

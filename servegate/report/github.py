"""GitHub Actions workflow commands: one ``::error``/``::warning``/``::notice`` per source line.

GitHub turns each into an annotation on the pull request's diff; findings of one rule at one
line (a base seen through several overlays) make one annotation that names every affected
object. Values are escaped as the runner expects (``%25``, ``%0D``, ``%0A``; property values
also ``%3A`` and ``%2C``).
"""

from __future__ import annotations

from servegate.grouping import FindingGroup, groups
from servegate.model import Report, Severity

_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(group: FindingGroup) -> str:
    props = ",".join(
        f"{key}={escape_property(value)}"
        for key, value in (
            ("file", group.file),
            ("line", str(max(group.line, 1))),
            ("title", group.rule),
        )
    )
    objects = [str(r) for r in group.resources]
    message = group.message
    if not group.uniform:
        message = "; ".join(dict.fromkeys(f.message for f in group.findings))
    where = f" [{', '.join(objects)}]" if objects else ""
    return f"::{_COMMANDS[group.severity]} {props}::{escape_data(message + where)}"


def render(report: Report, color: bool = False) -> str:
    found = groups(report.findings)
    lines = [annotation(g) for g in found]
    lines.append(
        f"servegate: {report.errors} error(s), {report.warnings} warning(s) in "
        f"{report.resources} resource(s) at {len(found)} source line(s); "
        f"{len(report.suppressed)} suppressed"
        + (
            f" (baseline {report.baseline.name})"
            if report.baseline is not None
            else " by exemptions"
        )
    )
    return "\n".join(lines) + "\n"

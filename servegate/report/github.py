"""GitHub Actions workflow commands: one ``::error``/``::warning``/``::notice`` per finding.

GitHub turns each into an annotation on the pull request's diff. Values are escaped as the
runner expects (``%25``, ``%0D``, ``%0A``; property values also ``%3A`` and ``%2C``).
"""

from __future__ import annotations

from servegate.model import Finding, Report, Severity

_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(f: Finding) -> str:
    props = ",".join(
        f"{key}={escape_property(value)}"
        for key, value in (("file", f.file), ("line", str(max(f.line, 1))), ("title", f.rule))
    )
    where = f" [{f.resource}]" if f.resource is not None else ""
    return f"::{_COMMANDS[f.severity]} {props}::{escape_data(f.message + where)}"


def render(report: Report, color: bool = False) -> str:
    lines = [annotation(f) for f in report.findings]
    lines.append(
        f"servegate: {report.errors} error(s), {report.warnings} warning(s) in "
        f"{report.resources} resource(s); {len(report.suppressed)} suppressed by exemptions"
    )
    return "\n".join(lines) + "\n"

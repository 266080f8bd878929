"""The human report: ``file:line: severity rule message``, grouped by file, colour on a TTY."""

from __future__ import annotations

from servegate.model import Report, Severity

_COLORS = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.NOTE: "36"}


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def render(report: Report, color: bool = False) -> str:
    lines: list[str] = []
    current = None
    for f in report.findings:
        if f.file != current:
            if current is not None:
                lines.append("")
            current = f.file
        severity = _paint(f.severity.value, _COLORS[f.severity], color)
        where = f" [{f.resource}]" if f.resource is not None else ""
        lines.append(
            f"{f.file}:{f.line}: {severity} {_paint(f.rule, '1', color)} {f.message}{where}"
        )
    if lines:
        lines.append("")
    summary = (
        f"{report.errors} error(s), {report.warnings} warning(s) in {report.resources} "
        f"resource(s) from {report.files} file(s)"
    )
    if report.suppressed:
        summary += f"; {len(report.suppressed)} suppressed by exemptions"
    status = "FAIL" if report.errors else "OK"
    lines.append(_paint(status, "31" if report.errors else "32", color) + f": {summary}")
    return "\n".join(lines) + "\n"

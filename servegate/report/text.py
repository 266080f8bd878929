"""The human report: one entry per source line to fix, with the objects it affects.

``file:line: severity rule message [Kind namespace/name]``; when several objects share the line
(a base seen through every overlay, a runtime serving several InferenceServices), the line is
shown once and the objects follow, one per line. Findings that an exemption or the baseline
hides are listed after them, one line per source line, with the reason: nothing is hidden
silently. Colour on a TTY.
"""

from __future__ import annotations

from servegate.grouping import FindingGroup, groups
from servegate.model import Report, Severity

_COLORS = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.NOTE: "36"}


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def _entry(group: FindingGroup, color: bool) -> list[str]:
    severity = _paint(group.severity.value, _COLORS[group.severity], color)
    head = f"{group.file}:{group.line}: {severity} {_paint(group.rule, '1', color)} {group.message}"
    first = group.findings[0]
    if len(group.findings) == 1:
        return [head + (f" [{first.resource}]" if first.resource is not None else "")]
    lines = [head + f" [{_count(group)}]"]
    weaker = group.weaker()
    for f in group.findings:
        what = str(f.resource) if f.resource is not None else ""
        if f.resource in weaker:
            what += f" ({f.severity.value})"
        if f.message != group.message or not what:
            what = f"{what}: {f.message}" if what else f.message
        lines.append(f"    {what}")
    return lines


def _count(group: FindingGroup) -> str:
    n = len(group.findings)
    return f"{n} objects" if len(group.resources) == n else f"{n} findings"


def render(report: Report, color: bool = False) -> str:
    lines: list[str] = []
    current = None
    found = groups(report.findings)
    for group in found:
        if group.file != current:
            if current is not None:
                lines.append("")
            current = group.file
        lines.extend(_entry(group, color))
    if lines:
        lines.append("")
    hidden = groups(report.suppressed)
    if hidden:
        lines.append(f"suppressed ({len(report.suppressed)}):")
        for group in hidden:
            reasons = sorted({f.suppressed or "" for f in group.findings})
            first = group.findings[0]
            objects = f" [{_count(group)}]" if len(group.findings) > 1 else ""
            if len(group.findings) == 1 and first.resource is not None:
                objects = f" [{first.resource}]"
            lines.append(
                f"  {group.file}:{group.line}: {group.rule}{objects}: {'; '.join(reasons)}"
            )
        lines.append("")
    summary = (
        f"{report.errors} error(s), {report.warnings} warning(s) in {report.resources} "
        f"resource(s) from {report.files} file(s)"
    )
    if found:
        summary += f", at {len(found)} source line(s)"
    if report.suppressed:
        summary += f"; {_suppressed(report)}"
    status = "FAIL" if report.errors else "OK"
    lines.append(_paint(status, "31" if report.errors else "32", color) + f": {summary}")
    return "\n".join(lines) + "\n"


def _suppressed(report: Report) -> str:
    """How many findings were suppressed, by what: the operator's baseline, the repo's
    ``exclude:`` globs (``repo.excluded`` notes), exemptions (as the JSON report's
    ``suppression.kind`` says)."""
    from servegate.rules.repo.excluded import RULE as EXCLUDED

    used = report.baseline
    baseline = sum(used is not None and f.suppressed == used.reason for f in report.suppressed)
    excluded = sum(f.rule == EXCLUDED.id for f in report.suppressed)
    exempted = len(report.suppressed) - baseline - excluded
    parts = []
    if used is not None:
        parts.append(f"{baseline} by the baseline {used.name}")
    if excluded:
        parts.append(f"{excluded} by excludes")
    if exempted:
        parts.append(f"{exempted} by exemptions")
    if used is None and len(parts) == 1:
        return f"{len(report.suppressed)} suppressed {parts[0].split(' ', 1)[1]}"
    return f"{len(report.suppressed)} suppressed ({', '.join(parts)})"

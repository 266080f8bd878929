"""The last step of a check: each unit's plan and the exemptions, applied to the findings.

``finish`` takes every finding of a run and, for each one, the plans that apply to it
(``Planner.plans_for``: its unit's; for a finding about a file of the repo, the plans of the
units that read the file). A finding is kept when one of those plans selects its rule, at the
most severe of their severities, but never above its ``at_most`` (a violation a Namespace's
Pod Security ``warn``/``audit`` label finds, which admission admits, stays a warning). An
exemption then moves it to the suppressed list with its reason: an annotation
``servegate.io/exempt.<rule or family>: <reason>`` on the very object the finding is about
(read by ``inline``, applied by ``marked`` when its unit is checked, so it covers that object
in that unit only), or an entry of ``servegate.yaml`` naming the rule and the resource. A
finding reached through several units (a base in several overlays) is reported once:
unsuppressed when any unit reports it so, at the most severe severity. Last, the baseline the
operator named with ``check --baseline`` suppresses the findings it accepts
(``servegate.baseline.Matcher``) and notes its entries that match nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from servegate.config import EXEMPT_ANNOTATION_PREFIX, Exemption
from servegate.model import Finding, Severity
from servegate.resource import Resource
from servegate.rules import get_rule, matches, unknown_ids
from servegate.rules.repo.exemption_invalid import RULE as EXEMPTION_INVALID

if TYPE_CHECKING:
    from servegate.baseline import Matcher
    from servegate.plan import Plan


def inline(resource: Resource, unit: str) -> tuple[dict[str, str], list[Finding]]:
    """The object's exemption annotations (rule id or family -> reason), and a finding for
    each one without a reason."""
    found: dict[str, str] = {}
    invalid: list[Finding] = []
    for key, value in resource.annotations.items():
        if not str(key).startswith(EXEMPT_ANNOTATION_PREFIX):
            continue
        rule_id = str(key)[len(EXEMPT_ANNOTATION_PREFIX) :]
        reason = str(value or "").strip()
        unknown = unknown_ids([rule_id])
        if reason and not unknown:
            found[rule_id] = reason
            continue
        file, line = resource.locate(("metadata", "annotations", key))
        message = (
            f"inline exemption not applied: {unknown[0]}"
            if unknown
            else f"inline exemption for {rule_id} has no reason"
        )
        invalid.append(EXEMPTION_INVALID.finding(message, file, line, resource.ref, unit=unit))
    return found, invalid


def marked(finding: Finding, exempt: Mapping[str, str]) -> Finding:
    """``finding`` suppressed when its object's annotations exempt its rule."""
    for rule_id, reason in exempt.items():
        if matches(finding.rule, (rule_id,)):
            return replace(finding, suppressed=reason)
    return finding


def finish(
    raw: Iterable[Finding],
    plans_for: Callable[[Finding], Sequence[Plan]],
    exemptions: Sequence[Exemption],
    baseline: Matcher | None = None,
) -> tuple[list[Finding], list[Finding]]:
    """(reported findings, suppressed findings), each sorted by file and line. ``baseline``
    (only from ``check --baseline FILE``) suppresses, last, what the plans and exemptions kept
    and it accepts, then adds its notes, which the plans select like any finding."""
    kept: dict[Finding, Finding] = {}

    def judge(finding: Finding) -> None:
        rule = get_rule(finding.rule)
        if rule is None:
            return  # not a rule of this servegate (a damaged memo entry)
        severities = [plan.severity(rule) for plan in plans_for(finding) if plan.selects(rule)]
        if not severities:
            if baseline is not None:
                baseline.saw(finding)  # it still exists: its entry is not stale
            return
        severity = min(severities, key=lambda s: s.rank)
        if finding.at_most is not None and severity.rank < finding.at_most.rank:
            severity = finding.at_most  # what admission only warns about stays a warning
        reason = finding.suppressed or _configured(finding, exemptions)
        out = replace(finding, severity=severity, suppressed=reason)
        key = replace(out, severity=Severity.ERROR, suppressed=None)
        known = kept.get(key)
        kept[key] = out if known is None else _stronger(known, out)

    for finding in raw:
        judge(finding)
    if baseline is not None:
        for key, out in kept.items():
            reason = baseline.saw(out)
            if reason is not None and out.suppressed is None:
                kept[key] = replace(out, suppressed=reason)
        for note in baseline.notes():
            judge(note)
    findings = sorted((f for f in kept.values() if f.suppressed is None), key=Finding.sort_key)
    suppressed = sorted((f for f in kept.values() if f.suppressed), key=Finding.sort_key)
    return findings, suppressed


def _stronger(a: Finding, b: Finding) -> Finding:
    """Of one finding reached through two units: the unsuppressed, else the more severe."""
    if (a.suppressed is None) != (b.suppressed is None):
        return a if a.suppressed is None else b
    return a if a.severity.rank <= b.severity.rank else b


def _configured(finding: Finding, exemptions: Sequence[Exemption]) -> str | None:
    ref = finding.resource
    if ref is None:
        return None
    for exemption in exemptions:
        if exemption.covers(finding.rule, ref.kind, ref.name, ref.namespace):
            return exemption.reason
    return None

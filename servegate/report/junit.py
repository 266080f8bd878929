"""The JUnit XML report, for GitLab, Jenkins and other CI test-report views.

One test suite per checked group (a kustomize root, or the plain files); one test case per
resource and rule family (``pss``, ``schema``, ...) that applies to it; one ``<failure>`` per
error-level finding. Warnings, notes and exempted findings go to the case's ``system-out``, so
they are visible without failing the build. Written with ``junitparser`` (typed, maintained,
no dependencies).
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from servegate.model import Finding, Report, Severity
from servegate.resource import Resource, ResourceRef
from servegate.rules import all_rules
from servegate.rules.base import Scope

if TYPE_CHECKING:
    from junitparser import TestCase


def _families_for(resource: Resource) -> set[str]:
    """Rule families that examine ``resource``: its kind's rules, pod rules when it has pods."""
    from servegate.podspecs import pod_specs

    has_pods = any(True for _ in pod_specs(resource))
    families = {"schema"}
    for rule in all_rules().values():
        if (rule.scope is Scope.POD and has_pods) or (
            rule.scope is Scope.OBJECT and (not rule.kinds or resource.kind in rule.kinds)
        ):
            families.add(rule.family)
    return families


def _line(f: Finding) -> str:
    where = f" [{f.resource}]" if f.resource is not None else ""
    reason = f" (exempt: {f.suppressed})" if f.suppressed is not None else ""
    return f"{f.file}:{f.line}: {f.severity.value} {f.rule} {f.message}{where}{reason}"


def render(report: Report, color: bool = False) -> str:
    from junitparser import JUnitXml, TestSuite

    by_ref: dict[ResourceRef | None, list[Finding]] = defaultdict(list)
    for f in [*report.findings, *report.suppressed]:
        by_ref[f.resource].append(f)
    claimed: set[ResourceRef] = set()
    xml = JUnitXml("servegate")
    for group in report.units:
        suite = TestSuite(group.label)
        for resource in group.resources:
            ref = resource.ref
            # A resource seen in two groups reports its findings once, in the first.
            findings = [] if ref in claimed else by_ref.get(ref, [])
            claimed.add(ref)
            families = _families_for(resource) | {f.rule.partition(".")[0] for f in findings}
            for family in sorted(families):
                mine = [f for f in findings if f.rule.partition(".")[0] == family]
                suite.add_testcase(_case(family, _classname(group.label, ref), mine))
        xml.add_testsuite(suite)
    loose = [f for ref, fs in by_ref.items() if ref is None or ref not in claimed for f in fs]
    if loose:
        suite = TestSuite("files")
        cases: dict[tuple[str, str], list[Finding]] = defaultdict(list)
        for f in loose:
            cases[(f.file, f.rule.partition(".")[0])].append(f)
        for (file, family), mine in sorted(cases.items()):
            suite.add_testcase(_case(family, file.replace("/", ".").replace(".", "_"), mine))
        xml.add_testsuite(suite)
    for suite in xml:
        suite.update_statistics()  # type: ignore[no-untyped-call]
    xml.update_statistics()  # type: ignore[no-untyped-call]
    raw: bytes = xml.tostring()  # type: ignore[no-untyped-call]
    return raw.decode("utf-8") + "\n"


def _classname(group: str, ref: ResourceRef) -> str:
    parts = [group, ref.kind, ref.namespace or "_", ref.name]
    return ".".join(p.replace(".", "_") for p in parts)


def _case(name: str, classname: str, findings: list[Finding]) -> TestCase:
    from junitparser import Failure, TestCase
    from junitparser.junitparser import FinalResult

    case = TestCase(name, classname, 0.0)
    failures: list[FinalResult] = []
    for f in findings:
        if f.severity is Severity.ERROR and f.suppressed is None:
            failure = Failure(f"{f.rule}: {f.message}", f.rule)
            failure.text = _line(f)
            failures.append(failure)
    case.result = failures
    others = [_line(f) for f in findings if f.severity is not Severity.ERROR or f.suppressed]
    if others:
        case.system_out = "\n".join(others)
    return case

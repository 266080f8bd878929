"""One rule dispatch for every scope: the engine, the change rules and the tests run rules here.

``evaluate_unit`` checks one unit as its plan says: each object against its schema, then the
plan's rules, each finding marked suppressed where an exemption annotation on its own object
covers it (``servegate.exemptions.marked``).

``evaluate`` runs rules over the resources of one unit, each with its context (the unit's
plan, ``servegate.plan``): POD rules over every pod-like spec the pod-spec layer finds (the
Pod Security rules also over pod specs it infers by shape in unknown kinds), OBJECT
rules over the objects of their kinds, UNIT rules once over all of them, and, given the objects
as they were at the ``--base`` revision, CHANGE rules over every object. Each violation comes
back as a ``Hit`` that knows where it is located and becomes a finding of its unit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from servegate.exemptions import inline, marked
from servegate.model import Finding, Unit, UnitResult
from servegate.podspecs import pod_specs
from servegate.resource import Resource, dotted
from servegate.rules.base import (
    ChangeRule,
    Context,
    ObjectRule,
    PodRule,
    Rule,
    UnitRule,
    Violation,
)
from servegate.rules.schema.cel import RULE as SCHEMA_CEL
from servegate.rules.schema.cel_not_evaluated import RULE as CEL_NOT_EVALUATED
from servegate.rules.schema.invalid import RULE as SCHEMA_INVALID
from servegate.rules.schema.unknown_kind import RULE as UNKNOWN_KIND

#: The rules of a schema check: it is skipped when a unit's plan selects none of them.
SCHEMA_RULES = (SCHEMA_INVALID, UNKNOWN_KIND, SCHEMA_CEL, CEL_NOT_EVALUATED)

if TYPE_CHECKING:
    from servegate.plan import Plan
    from servegate.schema.validate import SchemaSet

#: A rule's context in the unit being checked.
ContextOf = Callable[[Rule], Context]
#: The object as it was at the base revision (None: it is new), for CHANGE rules.
BeforeOf = Callable[[Resource], Resource | None]


@dataclass(frozen=True, slots=True)
class Hit:
    """One violation of one rule, with the resource whose source locates it."""

    rule: Rule
    resource: Resource
    violation: Violation

    def finding(self, unit: str = "") -> Finding:
        file, line = self.resource.locate(self.violation.path)
        path = dotted(self.violation.path) or None
        return self.rule.finding(self.violation.message, file, line, self.resource.ref, path, unit)


def evaluate(
    rules: Iterable[Rule],
    resources: Sequence[Resource],
    context: Context | ContextOf,
    before: BeforeOf | None = None,
) -> Iterator[Hit]:
    """Run ``rules`` over ``resources`` (one unit), each with its ``context`` (one Context for
    all, or a function of the rule); CHANGE rules run only with ``before``. Rules the pipeline
    reports itself (REPORTED) have nothing to run."""
    if isinstance(context, Context):
        context = _always(context)
    pods: list[tuple[PodRule, Context]] = []
    objects: list[tuple[ObjectRule, Context]] = []
    units: list[tuple[UnitRule, Context]] = []
    changes: list[tuple[ChangeRule, Context]] = []
    for rule in rules:
        if isinstance(rule, PodRule):
            pods.append((rule, context(rule)))
        elif isinstance(rule, ObjectRule):
            objects.append((rule, context(rule)))
        elif isinstance(rule, UnitRule):
            units.append((rule, context(rule)))
        elif isinstance(rule, ChangeRule) and before is not None:
            changes.append((rule, context(rule)))
    pod_checks = [(r, r.check_for(ctx.k8s_version), ctx) for r, ctx in pods]
    object_checks = [(r, r.check_for(ctx.k8s_version), ctx) for r, ctx in objects]
    change_checks = [(r, r.check_for(ctx.k8s_version), ctx) for r, ctx in changes]
    for resource in resources:
        if pod_checks:
            for pod in pod_specs(resource, inferred=True):
                for pod_rule, pod_check, ctx in pod_checks:
                    # a pod spec found by its shape in an unknown kind: Pod Security rules only
                    if not pod.inferred or pod_rule.level is not None:
                        yield from _hits(pod_rule, resource, pod_check(pod, ctx))
        for object_rule, object_check, ctx in object_checks:
            if not object_rule.kinds or resource.kind in object_rule.kinds:
                yield from _hits(object_rule, resource, object_check(resource, ctx))
        if change_checks and before is not None:
            then = before(resource)
            for change_rule, change_check, ctx in change_checks:
                if not change_rule.kinds or resource.kind in change_rule.kinds:
                    yield from _hits(change_rule, resource, change_check(then, resource, ctx))
    for unit_rule, ctx in units:
        check = unit_rule.check_for(ctx.k8s_version)
        for violation in check(resources, ctx):
            if violation.resource is not None:  # a unit check names the object it blames
                yield Hit(unit_rule, violation.resource, violation)


def _always(context: Context) -> ContextOf:
    return lambda _rule: context


def _hits(rule: Rule, resource: Resource, violations: Iterable[Violation]) -> Iterator[Hit]:
    for violation in violations:
        yield Hit(rule, violation.resource or resource, violation)


def evaluate_unit(unit: Unit, plan: Plan, schemas: SchemaSet) -> UnitResult:
    """Schema and rules over one unit, with its plan: what the result memo keeps."""
    findings = list(unit.findings)
    validate = any(
        plan.selects(r) for r in (SCHEMA_INVALID, UNKNOWN_KIND, SCHEMA_CEL, CEL_NOT_EVALUATED)
    )
    exempt: dict[int, dict[str, str]] = {}
    for resource in unit.resources:
        covered, invalid = inline(resource, unit.id)
        findings.extend(invalid)
        if covered:
            exempt[id(resource)] = covered
        if validate:
            found = schema_findings(resource, schemas, unit.id)
            findings.extend(marked(f, covered) if covered else f for f in found)
    for hit in evaluate(plan.rules, unit.resources, plan.context):
        finding = hit.finding(unit.id)
        covered = exempt.get(id(hit.resource), {})
        findings.append(marked(finding, covered) if covered else finding)
    return UnitResult(findings, len(unit.resources), sorted(unit.files))


def schema_findings(resource: Resource, schemas: SchemaSet, unit: str = "") -> Iterator[Finding]:
    """The object against its kind's schema (``servegate.schema.validate``)."""
    verdict = schemas.check(resource.body)
    if verdict is None:
        file, line = resource.locate(())
        message = (
            f"no schema for {resource.api_version} {resource.kind}: not validated "
            "(add its CRD with --crds)"
        )
        yield UNKNOWN_KIND.finding(message, file, line, resource.ref, unit=unit)
        return
    for rule, errors in (
        (SCHEMA_INVALID, verdict.errors),
        (SCHEMA_CEL, verdict.rules),
        (CEL_NOT_EVALUATED, verdict.unsupported),
    ):
        for path, message in errors:
            file, line = resource.locate(tuple(path))
            where = dotted(tuple(path)) or None
            yield rule.finding(message, file, line, resource.ref, where, unit)

"""One rule dispatch for every scope: the engine, the change rules and the tests run rules here.

``evaluate_unit`` checks one unit as its plan says: each object against its schema, then the
plan's rules, each finding marked suppressed where an exemption annotation on its own object
covers it (``servegate.exemptions.marked``).

``evaluate`` runs rules over the resources of one unit, each with its context (the unit's
plan, ``servegate.plan``): POD rules over every pod the cluster will run for them
(``servegate.podspecs.unit``: KServe's runtime and storage-initializer merged in, Istio's
containers added; the Pod Security rules also over pod specs inferred by shape in unknown
kinds), OBJECT rules over the objects of their kinds, UNIT rules once over all of them, and,
given the objects as they were at the ``--base`` revision, CHANGE rules over every object. Each
violation comes back as a ``Hit`` that knows where it is located and becomes a finding of its
unit.

Pod Security rules judge each pod at the level and version ``servegate.podsecurity`` decides
for it from its Namespace (when the unit holds it) and the unit's requirement; what only a
stricter ``warn``/``audit`` label of the Namespace finds is reported as a warning. Other pod
rules do not see containers a mesh injects.

A violation in a part of an effective pod written elsewhere (a ServingRuntime's container, a
ClusterStorageContainer, the Namespace label that turns on injection) is located there, once
per affected object, and its message names every object of the unit it affects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

from servegate import clusterfacts, crossunit, podsecurity
from servegate.exemptions import inline, marked
from servegate.model import Finding, Severity, Unit, UnitResult
from servegate.podspecs.unit import UnitPods, UnitSettings
from servegate.podspecs.views import PodSpecView, Source
from servegate.resource import FieldPath, Resource, ResourceRef, dotted
from servegate.rules.base import (
    ChangeCheck,
    ChangeRule,
    Context,
    Level,
    ObjectCheck,
    ObjectRule,
    PodCheck,
    PodRule,
    Rule,
    UnitCheck,
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
    from servegate.schema.validate import SchemaSet, Verdict

#: A rule's context in the unit being checked.
ContextOf = Callable[[Rule], Context]
#: The object as it was at the base revision (None: it is new), for CHANGE rules.
BeforeOf = Callable[[Resource], Resource | None]


@dataclass(frozen=True, slots=True)
class Hit:
    """One violation of one rule, with the resource it is about and where it is located."""

    rule: Rule
    resource: Resource
    violation: Violation
    located: Resource | None = None
    """The object whose text holds the part to change, when not ``resource``."""
    path: FieldPath | None = None
    """Its path there (default: the violation's)."""
    subject: str = ""
    """What the message names instead of the violation's detail (the runtime's container)."""
    note: str = ""
    """Appended to the message."""
    affected: tuple[ResourceRef, ...] = ()
    """Every object of the unit a shared source's violation affects (named in the message when
    there are several)."""
    at_most: Severity | None = None

    @property
    def message(self) -> str:
        v = self.violation
        text = f"{self.subject}: {v.reason}" if self.subject else v.message
        if self.note:
            text += f"; {self.note}"
        if len(self.affected) > 1:
            text += f" ({_names(self.affected)})"
        return text

    def finding(self, unit: str = "") -> Finding:
        path = self.violation.path if self.path is None else self.path
        file, line = (self.located or self.resource).locate(path)
        if self.violation.alternatives and self.located in (None, self.resource):
            file, line = _removal(self.resource, path, self.violation.alternatives) or (file, line)
        shown = dotted(path) or None
        found = self.rule.finding(self.message, file, line, self.resource.ref, shown, unit)
        if self.violation.unless is not None:
            found = replace(found, unless=self.violation.unless)
        return found if self.at_most is None else replace(found, at_most=self.at_most)


def _removal(
    resource: Resource, path: FieldPath, alternatives: tuple[FieldPath, ...]
) -> tuple[str, int] | None:
    """The patch that removed one of ``alternatives`` when ``path`` itself was not removed:
    where a violation that either field would fix belongs."""
    if resource.removed(path) is not None:
        return None
    for alternative in alternatives:
        found = resource.removed(alternative)
        if found is not None:
            return found
    return None


class Dispatch:
    """``rules`` sorted by scope, each with its context and its check for that context's
    Kubernetes version, and the objects rules of each kind: what every unit of one plan runs,
    built once (``Plan.dispatch``). CHANGE rules are kept only with ``changes``."""

    def __init__(
        self, rules: Iterable[Rule], context: Context | ContextOf, changes: bool = False
    ) -> None:
        if isinstance(context, Context):
            context = _always(context)
        self.pods: list[tuple[PodRule, Context]] = []
        self.objects: list[tuple[ObjectRule, ObjectCheck, Context]] = []
        self.units: list[tuple[UnitRule, UnitCheck, Context]] = []
        self.changes: list[tuple[ChangeRule, ChangeCheck, Context]] = []
        for rule in rules:
            if isinstance(rule, PodRule):
                self.pods.append((rule, context(rule)))
            elif isinstance(rule, ObjectRule):
                ctx = context(rule)
                self.objects.append((rule, rule.check_for(ctx.k8s_version), ctx))
            elif isinstance(rule, UnitRule):
                ctx = context(rule)
                self.units.append((rule, rule.check_for(ctx.k8s_version), ctx))
            elif isinstance(rule, ChangeRule) and changes:
                ctx = context(rule)
                self.changes.append((rule, rule.check_for(ctx.k8s_version), ctx))
        self._objects_of: dict[str, list[tuple[ObjectRule, ObjectCheck, Context]]] = {}
        self._changes_of: dict[str, list[tuple[ChangeRule, ChangeCheck, Context]]] = {}
        self._pod_security: _PodSecurityChecks | None = None

    def objects_of(self, kind: str) -> list[tuple[ObjectRule, ObjectCheck, Context]]:
        """The OBJECT rules that check objects of ``kind``, in rule order."""
        return _of_kind(self.objects, self._objects_of, kind)

    def changes_of(self, kind: str) -> list[tuple[ChangeRule, ChangeCheck, Context]]:
        """The CHANGE rules that check objects of ``kind``, in rule order."""
        return _of_kind(self.changes, self._changes_of, kind)

    @property
    def pod_security(self) -> _PodSecurityChecks:
        """The POD rules' plan-wide part (only when there are POD rules)."""
        if self._pod_security is None:
            self._pod_security = _PodSecurityChecks(self.pods)
        return self._pod_security


def dispatch_of(plan: Plan) -> Dispatch:
    """``plan``'s rules sorted for ``evaluate``, each with its context and check: built once,
    shared by the plan's units, never by a copy of the plan (``Plan.dispatched``)."""
    for owner, found in plan.dispatched:
        if owner is plan and isinstance(found, Dispatch):
            return found
    built = Dispatch(plan.rules, plan.context)
    plan.dispatched[:] = [(plan, built)]
    return built


_Checks = TypeVar("_Checks", bound=tuple[Rule, Any, Context])


def _of_kind(checks: list[_Checks], known: dict[str, list[_Checks]], kind: str) -> list[_Checks]:
    """``checks`` of rules that apply to ``kind`` (all kinds when a rule names none), kept in
    ``known`` by kind."""
    found = known.get(kind)
    if found is None:
        found = known[kind] = [c for c in checks if not c[0].kinds or kind in c[0].kinds]
    return found


def evaluate(
    rules: Iterable[Rule],
    resources: Sequence[Resource],
    context: Context | ContextOf,
    before: BeforeOf | None = None,
    *,
    pods: UnitPods | None = None,
    dispatch: Dispatch | None = None,
    foreign: Sequence[Resource] = (),
) -> Iterator[Hit]:
    """Run ``rules`` over ``resources`` (one unit), each with its ``context`` (one Context for
    all, or a function of the rule); CHANGE rules run only with ``before``. ``pods``: the unit's
    effective pods, when the caller built them (else built here, once). ``dispatch``: the same
    rules and contexts already sorted (``Plan.dispatch``; then ``rules`` and ``context`` are not
    read again). ``foreign``: other units' runtimes this unit's InferenceServices can see
    (``servegate.crossunit``). Rules the pipeline reports itself (REPORTED) have nothing to
    run."""
    if dispatch is None:
        dispatch = Dispatch(rules, context, changes=before is not None)
    judge = _PodJudge(dispatch.pod_security, resources, pods, foreign) if dispatch.pods else None
    for resource in resources:
        if judge is not None:
            yield from judge.resource(resource)
        kind = resource.kind
        for object_rule, object_check, ctx in dispatch.objects_of(kind):
            for violation in object_check(resource, ctx):
                yield Hit(object_rule, violation.resource or resource, violation)
        if dispatch.changes and before is not None:
            then = before(resource)
            for change_rule, change_check, ctx in dispatch.changes_of(kind):
                for violation in change_check(then, resource, ctx):
                    yield Hit(change_rule, violation.resource or resource, violation)
    if judge is not None:
        yield from judge.shared()
    for unit_rule, check, ctx in dispatch.units:
        for violation in check(resources, ctx):
            if violation.resource is not None:  # a unit check names the object it blames
                yield Hit(unit_rule, violation.resource, violation)


class _PodSecurityChecks:
    """What the POD rules of one plan need once for all its units: the requirement, the
    cluster version, and each rule's check and context at each Pod Security level and version
    a pod is judged at."""

    def __init__(self, rules: list[tuple[PodRule, Context]]) -> None:
        self.rules = rules
        first = rules[0][1]
        self.settings = UnitSettings.of(first.params)
        self.required = podsecurity.requirement(first)
        self.cluster = first.k8s_version
        self.oldest = _oldest_version()
        self.plain = [(r, r.check_for(ctx.k8s_version), ctx) for r, ctx in rules if r.level is None]
        self._at: dict[tuple[Level, tuple[int, int]], list[tuple[PodRule, PodCheck, Context]]] = {}

    def at(self, level: Level, version: tuple[int, int]) -> list[tuple[PodRule, PodCheck, Context]]:
        """The Pod Security rules that judge a pod at ``level`` and ``version``, each with its
        check for that version and its context there."""
        found = self._at.get((level, version))
        if found is None:
            found = [
                (
                    rule,
                    rule.check_for(version),
                    replace(ctx, pss_level=level, pss_version=version),
                )
                for rule, ctx in self.rules
                if rule.level is not None
                and (rule.level is not Level.RESTRICTED or level is Level.RESTRICTED)
            ]
            self._at[(level, version)] = found
        return found


class _PodJudge:
    """The POD rules of one unit: each pod judged at its own Pod Security level and version,
    shared sources' hits held back until every object they affect is known."""

    def __init__(
        self,
        checks: _PodSecurityChecks,
        resources: Sequence[Resource],
        pods: UnitPods | None,
        foreign: Sequence[Resource] = (),
    ) -> None:
        self.checks = checks
        self.pods = pods or UnitPods(resources, checks.settings, foreign)
        self.judged: dict[str | None, podsecurity.PodSecurity] = {}
        self.held: list[Hit] = []

    def security(self, resource: Resource) -> podsecurity.PodSecurity:
        namespace = self.pods.namespace(resource)
        key = namespace.name if namespace is not None else None
        found = self.judged.get(key)
        if found is None:
            checks = self.checks
            found = podsecurity.judge(namespace, checks.required, checks.cluster, checks.oldest)
            self.judged[key] = found
        return found

    def resource(self, resource: Resource) -> Iterator[Hit]:
        views = self.pods.pods(resource, inferred=True)
        if not views:
            return
        security = self.security(resource)
        enforced = self.checks.at(security.level, security.version)
        advisories = [(a, self.checks.at(a.level, a.version)) for a in security.advisories]
        for pod in views:
            written = pod.written()
            seen: set[tuple[str, FieldPath, str]] = set()
            injected = (
                [c.path for c in pod.containers if c.injected] if security.mesh_exempt else []
            )
            for rule, check, ctx in enforced:
                for v in check(pod, ctx):
                    seen.add((rule.id, v.path, v.reason))
                    if any(v.path[: len(at)] == at for at in injected):
                        continue  # admitted: the operator allows a privileged namespace for it
                    yield from self.hit(rule, resource, pod, v)
            for advisory, checks in advisories:
                note = (
                    f"admitted, but the namespace's pod-security.kubernetes.io/{advisory.mode} "
                    f"level {advisory.level.value}:{podsecurity.show(advisory.version)} "
                    + ("warns about it" if advisory.mode == "warn" else "audits it")
                )
                for rule, check, ctx in checks:
                    for v in check(pod, ctx):
                        if (rule.id, v.path, v.reason) not in seen:
                            seen.add((rule.id, v.path, v.reason))
                            yield from self.hit(rule, resource, pod, v, note, Severity.WARNING)
            if pod.inferred:
                continue  # found by shape in an unknown kind: Pod Security rules only
            for rule, check, ctx in self.checks.plain:
                for v in check(written, ctx):
                    yield from self.hit(rule, resource, pod, v)

    def hit(
        self,
        rule: Rule,
        resource: Resource,
        pod: PodSpecView,
        v: Violation,
        note: str = "",
        at_most: Severity | None = None,
    ) -> Iterator[Hit]:
        if v.resource is not None and v.resource is not resource:
            yield Hit(rule, v.resource, v, note=note, at_most=at_most)
            return
        source, path = pod.source_of(v.path)
        if source is None:
            yield Hit(rule, resource, v, note=note, at_most=at_most)
            return
        hit = _located(rule, resource, v, source, path, note, at_most)
        if source.resource is resource:
            yield hit
        else:
            self.held.append(hit)

    def shared(self) -> Iterator[Hit]:
        """The held hits, each naming every object of the unit its source's violation affects."""
        affected: dict[tuple[str, int, FieldPath, str], list[ResourceRef]] = {}
        for hit in self.held:
            refs = affected.setdefault(_shared_key(hit), [])
            if hit.resource.ref not in refs:
                refs.append(hit.resource.ref)
        done: set[tuple[tuple[str, int, FieldPath, str], ResourceRef]] = set()
        for hit in self.held:
            key = _shared_key(hit)
            if (key, hit.resource.ref) in done:
                continue  # one object with the violation in two pods (predictor and canary)
            done.add((key, hit.resource.ref))
            yield replace(hit, affected=tuple(affected[key]))


def _located(
    rule: Rule,
    resource: Resource,
    v: Violation,
    source: Source,
    path: FieldPath,
    note: str,
    at_most: Severity | None,
) -> Hit:
    why = "; ".join(t for t in (source.why, note) if t)
    return Hit(
        rule,
        resource,
        v,
        located=source.resource,
        path=path,
        subject=source.label,
        note=why,
        at_most=at_most,
    )


def _shared_key(hit: Hit) -> tuple[str, int, FieldPath, str]:
    located = hit.located or hit.resource
    return (
        hit.rule.id,
        id(located),
        hit.path or (),
        f"{hit.subject}\0{hit.violation.reason}\0{hit.note}",
    )


def _names(refs: Sequence[ResourceRef]) -> str:
    """``InferenceServices a, b`` (namespaces shown when they differ)."""
    by_kind: dict[str, list[ResourceRef]] = {}
    for ref in refs:
        by_kind.setdefault(ref.kind, []).append(ref)
    spaces = {ref.namespace for ref in refs}
    parts = []
    for kind, items in by_kind.items():
        names = [
            f"{r.namespace}/{r.name}" if len(spaces) > 1 and r.namespace else r.name for r in items
        ]
        parts.append(f"{kind}{'s' if len(items) > 1 else ''} {', '.join(names)}")
    return "; ".join(parts)


def _oldest_version() -> tuple[int, int]:
    from servegate.schema.validate import supported_versions

    return supported_versions()[0]


def _always(context: Context) -> ContextOf:
    return lambda _rule: context


def evaluate_unit(
    unit: Unit, plan: Plan, schemas: SchemaSet, foreign: Sequence[Resource] = ()
) -> UnitResult:
    """Schema and rules over one unit, with its plan: what the result memo keeps.
    ``foreign``: the runtimes of the check's other units its InferenceServices can see
    (``servegate.crossunit``; the engine evaluates a unit again with them)."""
    findings = list(unit.findings)
    validate = any(
        plan.selects(r) for r in (SCHEMA_INVALID, UNKNOWN_KIND, SCHEMA_CEL, CEL_NOT_EVALUATED)
    )
    exempt: dict[int, dict[str, str]] = {}
    judged: list[Resource] = []
    for resource in unit.resources:
        covered, invalid = inline(resource, unit.id)
        findings.extend(invalid)
        if validate:
            verdict = schemas.check(resource.body)
            found = schema_findings(resource, verdict, unit.id)
            findings.extend(marked(f, covered) if covered else f for f in found)
            stored = verdict.stored if verdict is not None else None
        else:
            stored = schemas.stored(resource.body)
        if stored is not None:
            # the rules judge what the API server stores (nulls pruned and defaulted)
            resource = replace(resource, body=stored)
        judged.append(resource)
        if covered:
            exempt[id(resource)] = covered
    hits = evaluate(plan.rules, judged, plan.context, dispatch=dispatch_of(plan), foreign=foreign)
    for hit in hits:
        finding = hit.finding(unit.id)
        covered = exempt.get(id(hit.resource), {})
        findings.append(marked(finding, covered) if covered else finding)
    return UnitResult(
        findings,
        len(unit.resources),
        sorted(unit.files),
        clusterfacts.facts_of(unit.resources),
        runtimes=[r.body for r in judged if crossunit.provides(r)],
        asks=crossunit.asks(judged),
        uses=crossunit.uses(judged),
    )


def schema_findings(
    resource: Resource, verdict: Verdict | None, unit: str = ""
) -> Iterator[Finding]:
    """The findings of ``verdict``, the object's check against its kind's schema
    (``SchemaSet.check``; None: no schema known for its kind)."""
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

"""The one rule dispatch (servegate/evaluate.py): every scope, with each rule's context."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from helpers import resources_of

from servegate.config import Config
from servegate.evaluate import evaluate, evaluate_unit
from servegate.model import Severity, Unit
from servegate.plan import Operator, Planner
from servegate.podspecs import PodSpecView
from servegate.resource import Resource
from servegate.rules.base import Context, Rule, Scope, Violation, rule
from servegate.rules.yaml.syntax import RULE as YAML_SYNTAX
from servegate.schema.validate import SchemaSet

CTX = Context((1, 37))
OBJECTS = """
apiVersion: v1
kind: Pod
metadata: {name: a, annotations: {servegate.io/exempt.x.pod: reviewed}}
spec: {containers: [{name: c, image: busybox}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: b}
spec: {template: {spec: {containers: [{name: c, image: busybox}, {name: d, image: nginx}]}}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
"""


def resources(text: str = OBJECTS) -> list[Resource]:
    return resources_of(text)


def pod_check(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    for container in pod.containers:
        yield Violation(container.at("image"), f"k8s {ctx.k8s_version}", container.name)


def object_check(resource: Resource, ctx: Context) -> Iterator[Violation]:
    yield Violation(("metadata", "name"), str(ctx.param("n")))


def unit_check(objects: Sequence[Resource], ctx: Context) -> Iterator[Violation]:
    yield Violation(("kind",), f"{len(objects)} objects", resource=objects[-1])
    yield Violation(("kind",), "names no object: dropped")


def change_check(before: Resource | None, after: Resource, ctx: Context) -> Iterator[Violation]:
    yield Violation(("metadata",), "new" if before is None else f"was {before.name}")


POD = rule("x.pod", "t", Severity.ERROR, Scope.POD, pod_check, doc=None)
OBJECT = rule("x.object", "t", Severity.ERROR, Scope.OBJECT, object_check, doc=None, kinds={"Pod"})
UNIT = rule("x.unit", "t", Severity.ERROR, Scope.UNIT, unit_check, doc=None)
CHANGE = rule("x.change", "t", Severity.ERROR, Scope.CHANGE, change_check, doc=None)


def test_each_scope_sees_what_it_should() -> None:
    objects = resources()
    hits = list(evaluate([POD, OBJECT, UNIT, CHANGE, YAML_SYNTAX], objects, CTX))
    seen = sorted((h.rule.id, h.resource.name, h.violation.message) for h in hits)
    assert seen == [
        ("x.object", "a", "None"),
        ("x.pod", "a", "c: k8s (1, 37)"),
        ("x.pod", "b", "c: k8s (1, 37)"),
        ("x.pod", "b", "d: k8s (1, 37)"),
        ("x.unit", "c", "3 objects"),
    ]


def test_change_rules_run_with_the_base_objects() -> None:
    objects = resources()
    old = {"b": objects[0]}
    hits = list(evaluate([CHANGE, POD], objects, CTX, lambda r: old.get(r.name)))
    changes = sorted((h.resource.name, h.violation.message) for h in hits if h.rule is CHANGE)
    assert changes == [("a", "new"), ("b", "was a"), ("c", "new")]


def test_each_rule_gets_its_own_context() -> None:
    contexts = {OBJECT.id: Context((1, 30), params={"n": 7})}

    def context(r: Rule) -> Context:
        return contexts.get(r.id, CTX)

    hits = list(evaluate([OBJECT, POD], resources(), context))
    assert {h.violation.message for h in hits if h.rule is OBJECT} == {"7"}


def test_a_hit_becomes_a_finding_of_its_unit() -> None:
    hit = next(iter(evaluate([OBJECT], resources(), CTX)))
    finding = hit.finding("root:overlays/prod")
    assert (finding.rule, finding.file, finding.line, finding.unit) == (
        "x.object",
        "x.yaml",
        4,
        "root:overlays/prod",
    )
    assert finding.resource == hit.resource.ref and finding.path == "metadata.name"


def test_evaluate_unit_runs_schema_and_plan_and_marks_annotations(tmp_path: Path) -> None:
    plan = Planner(tmp_path, Operator(select=("pss", "schema")), Config()).plan(None)
    unit = Unit("plain:.:", ".", None, resources(OBJECTS.replace("x.pod", "pss")))
    result = evaluate_unit(unit, plan, SchemaSet((1, 37), []))
    assert result.resources == 3
    rules = {(f.rule, f.resource.name if f.resource else "", f.suppressed) for f in result.findings}
    assert ("pss.run-as-non-root", "a", "reviewed") in rules, "the annotation on Pod a"
    assert ("pss.run-as-non-root", "b", None) in rules
    assert all(f.unit == "plain:.:" for f in result.findings)
    assert not any(f.rule.startswith(("image.", "kserve.")) for f in result.findings)

"""CRD validation rules (``servegate.schema.cel``): every rule of the shipped CRDs against its
accepted and rejected inputs (tests/fixtures/cel/rules.yaml), the documented transition rules,
the API server's semantics (scope, escaping, defaults, nulls, messages, fieldPath, reason,
optionalOldSelf, blocking errors), the Kubernetes library functions, Istio's own fixtures, and
the findings through the CLI."""

from __future__ import annotations

import json
import re
import textwrap
import time
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import Run, upstream_dir

from servegate.datafiles import data_dir
from servegate.schema import cel
from servegate.schema.build import attach_shared
from servegate.schema.structural import Node, escape, tree
from servegate.schema.validate import SchemaSet, newest_version

HERE = Path(__file__).parent
INPUTS = HERE / "fixtures" / "cel" / "rules.yaml"
DOC = HERE.parent / "docs" / "cel.md"

Obj = dict[str, Any]


@cache
def _shipped() -> dict[str, Node]:
    folder = data_dir("schemas") / "crds"
    index = json.loads((folder / "index.json").read_text())
    return {
        key: tree(attach_shared(json.loads((folder / name).read_text()), folder))
        for key, name in index.items()
    }


def _occurrences() -> Iterator[tuple[str, str, Node, Obj]]:
    """(kind key, schema path, node, rule) for every rule of every shipped schema."""
    for key, root in sorted(_shipped().items()):
        yield from _walk(key, root, "", set())


def _walk(key: str, node: Node, path: str, seen: set[int]) -> Iterator[tuple[str, str, Node, Obj]]:
    if not node.has_rules or id(node) in seen:
        return
    seen.add(id(node))
    for rule in node.rules:
        yield key, path or ".", node, rule
    for name, child in sorted((node.props or {}).items()):
        yield from _walk(key, child, f"{path}.{name}", seen)
    if node.additional is not None:
        yield from _walk(key, node.additional, f"{path}[*]", seen)
    if node.items is not None:
        yield from _walk(key, node.items, f"{path}[]", seen)


@cache
def _inputs() -> dict[str, Obj]:
    entries = yaml.safe_load(INPUTS.read_text())
    return {entry["rule"]: entry for entry in entries}


def test_every_shipped_rule_has_an_accepted_and_a_rejected_input() -> None:
    inputs = _inputs()
    missing, judged, used = [], 0, set()
    for key, path, node, rule in _occurrences():
        text = rule["rule"]
        if cel.uses_old_self(text) and rule.get("optionalOldSelf") is not True:
            continue  # listed in docs/cel.md instead (next test)
        entry = inputs.get(text)
        if entry is None:
            missing.append(f"{key} {path}: {text!r}")
            continue
        used.add(text)
        assert entry["accept"] and (entry.get("reject") or entry.get("defaulted_away")), text
        for value in entry["accept"]:
            failure = cel.judge(rule, value, node, strict=True)
            assert failure is None, f"{key} {path}: {value!r} rejected: {failure}"
        for value in entry.get("defaulted_away", []):
            assert entry.get("why"), text
            assert cel.judge(rule, value, node, strict=True) is None, f"{key} {path}: {value!r}"
            assert cel.evaluate(text, value) == (False, ""), f"{text!r} holds on raw {value!r}"
        for value in entry.get("reject", []):
            failure = cel.judge(rule, value, node, strict=True)
            assert failure is not None, f"{key} {path}: {text!r} accepted {value!r}"
            assert not failure.unsupported, failure
            expected = rule.get("message") or "failed rule"
            assert expected in failure.message or "evaluating rule" in failure.message
        judged += 1
    assert not missing, "rules without inputs in tests/fixtures/cel/rules.yaml:\n" + "\n".join(
        missing
    )
    assert not set(inputs) - used, f"inputs for rules no shipped CRD has: {set(inputs) - used}"
    assert judged >= 200  # the rules are really there (Istio repeats its rules per version)


def _transition_table() -> str:
    rows = []
    for key, path, _node, rule in _occurrences():
        if cel.uses_old_self(rule["rule"]) and rule.get("optionalOldSelf") is not True:
            text = rule["rule"].replace("|", "\\|")
            rows.append(f"| {key} | `{path}` | `{text}` | {rule.get('message', '')} |")
    return "\n".join(["| kind | field | rule | message |", "| --- | --- | --- | --- |", *rows])


def test_docs_list_exactly_the_transition_rules_servegate_skips() -> None:
    text = DOC.read_text()
    found = re.search(
        r"<!-- transition-rules:begin -->\n(.*?)\n<!-- transition-rules:end -->", text, re.S
    )
    assert found is not None
    assert found[1] == _transition_table(), "docs/cel.md is stale; put in:\n" + _transition_table()


def test_transition_rules_are_never_judged() -> None:
    rollout = _shipped()["argoproj.io/v1alpha1/Rollout"]
    assert [r["rule"] for _, r in cel.transition_rules(rollout)] == ["self == oldSelf"]
    body = {"spec": {"selector": {"matchLabels": {"app": "a"}}, "template": {}}}
    assert cel.check(body, rollout) == []


def test_every_shipped_rule_compiles() -> None:
    broken = []
    for key, path, _node, rule in _occurrences():
        try:
            cel.program(rule["rule"], rule.get("optionalOldSelf") is True)
        except cel.Unsupported as err:
            broken.append(f"{key} {path}: {err}")
    assert not broken, broken


# ---- semantics, on a CRD of our own ----

WIDGET = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-validations:
        - rule: "self.metadata.name.startsWith('w-')"
          message: name must start with w-
        properties:
          spec:
            type: object
            x-kubernetes-validations:
            - rule: "self.minReplicas <= self.maxReplicas"
              messageExpression: "'minReplicas ' + string(self.minReplicas) + ' exceeds ' + string(self.maxReplicas)"
              fieldPath: .minReplicas
            - rule: "!has(self.mode) || self.mode != 'legacy'"
              message: legacy mode is gone
              reason: FieldValueForbidden
            - rule: "self.__namespace__ == 'ml' && self.dash__dash__key == 1"
              message: escaped names
            - rule: "self.ratio / 2.0 < 1.0"
              message: ratio is a double
            - rule: "self.timeout >= duration('1s')"
              message: timeout is a duration
            - rule: "!has(self.note)"
              message: a null nullable field reads as absent
            - rule: "oldSelf.hasValue() ? self.maxReplicas >= oldSelf.value().maxReplicas : self.maxReplicas < 100"
              optionalOldSelf: true
              message: on create, at most 99
            - rule: "self.maxReplicas >= oldSelf.maxReplicas"
              message: never evaluated on a create
            - rule: "self.port == 'http' || self.port > 0"
              message: int-or-string
            properties:
              minReplicas: {type: integer, default: 1}
              maxReplicas: {type: integer, default: 3}
              mode: {type: string}
              namespace: {type: string, default: ml}
              dash-key: {type: integer, default: 1}
              ratio: {type: number, default: 1}
              timeout: {type: string, format: duration, default: 5s}
              note: {type: string, nullable: true}
              port:
                x-kubernetes-int-or-string: true
                anyOf: [{type: integer}, {type: string}]
                default: http
              items:
                type: array
                maxItems: 3
                items:
                  type: object
                  x-kubernetes-validations:
                  - rule: "self.weight <= 100"
                    message: weight at most 100
                  properties:
                    weight: {type: integer}
              labels:
                type: object
                additionalProperties:
                  type: string
                  x-kubernetes-validations:
                  - rule: "self.size() < 5"
                    message: short values
              unsupported:
                type: string
                x-kubernetes-validations:
                - rule: "isSemver(self)"
                  message: a semantic version
"""


@pytest.fixture(scope="module")
def widgets(tmp_path_factory: pytest.TempPathFactory) -> SchemaSet:
    folder = tmp_path_factory.mktemp("crds")
    (folder / "widget.yaml").write_text(textwrap.dedent(WIDGET))
    return SchemaSet(newest_version(), [folder])


def _widget(spec: Obj, name: str = "w-1") -> Obj:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": name},
        "spec": spec,
    }


def test_a_valid_widget_with_defaults_passes(widgets: SchemaSet) -> None:
    verdict = widgets.check(_widget({}))
    assert verdict is not None and verdict.errors == [] and verdict.rules == []


def test_message_expression_field_path_and_reason(widgets: SchemaSet) -> None:
    verdict = widgets.check(_widget({"minReplicas": 5, "maxReplicas": 2, "mode": "legacy"}))
    assert verdict is not None
    assert verdict.rules == [
        (("spec", "minReplicas"), "minReplicas 5 exceeds 2"),
        (("spec",), "Forbidden: legacy mode is gone"),
    ]


def test_root_rule_sees_metadata_name(widgets: SchemaSet) -> None:
    verdict = widgets.check(_widget({}, name="x"))
    assert verdict is not None and verdict.rules == [((), "name must start with w-")]


def test_escaped_names_doubles_durations_and_int_or_string(widgets: SchemaSet) -> None:
    def rules(spec: Obj) -> list[str]:
        verdict = widgets.check(_widget(spec))
        assert verdict is not None
        return [m for _, m in verdict.rules]

    assert rules({"namespace": "other"}) == ["escaped names"]
    assert rules({"ratio": 1}) == []  # 1 is 1.0: 0.5 < 1.0
    assert rules({"ratio": 3}) == ["ratio is a double"]
    assert rules({"timeout": "500ms"}) == ["timeout is a duration"]
    assert rules({"timeout": "1m30s"}) == []
    assert rules({"port": 0}) == ["int-or-string"]
    assert rules({"port": 8080}) == []


def test_nulls_are_pruned_or_read_as_absent(widgets: SchemaSet) -> None:
    verdict = widgets.check(_widget({"note": None, "mode": None, "minReplicas": None}))
    assert verdict is not None and verdict.errors == [] and verdict.rules == []


def test_optional_old_self_is_judged_as_a_create(widgets: SchemaSet) -> None:
    verdict = widgets.check(_widget({"maxReplicas": 200}))
    assert verdict is not None and [m for _, m in verdict.rules] == ["on create, at most 99"]


def test_rules_run_per_list_item_and_map_value(widgets: SchemaSet) -> None:
    spec = {"items": [{"weight": 5}, {"weight": 500}], "labels": {"a": "ok", "b": "too long"}}
    verdict = widgets.check(_widget(spec))
    assert verdict is not None
    assert verdict.rules == [
        (("spec", "items", 1), "weight at most 100"),
        (("spec", "labels", "b"), "short values"),
    ]


def test_a_blocking_schema_error_stops_the_rules(widgets: SchemaSet) -> None:
    spec = {"minReplicas": 5, "maxReplicas": 2, "items": [{}, {}, {}, {}]}  # maxItems 3
    verdict = widgets.check(_widget(spec))
    assert verdict is not None and verdict.errors and verdict.rules == []
    # a pattern-like, non-blocking error does not
    verdict = widgets.check(_widget({"minReplicas": 5, "maxReplicas": 2, "extra": 1}))
    assert verdict is not None and verdict.errors and verdict.rules


def test_a_function_servegate_lacks_is_reported_not_passed(widgets: SchemaSet) -> None:
    verdict = widgets.check(_widget({"unsupported": "1.2.3"}))
    assert verdict is not None and verdict.rules == []
    assert [p for p, _ in verdict.unsupported] == [("spec", "unsupported")]
    assert "isSemver" in verdict.unsupported[0][1]


def test_evaluation_errors_fail_the_rule() -> None:
    node = tree({"type": "object", "properties": {"a": {"type": "integer"}}})
    failure = cel.judge({"rule": "self.b == 1", "message": "m"}, {"a": 1}, node)
    assert failure is not None and "evaluating rule" in failure.message
    assert cel.judge({"rule": "false || self.b == 1 || true"}, {"a": 1}, node) is None


def test_a_regular_expression_cannot_stall_the_check() -> None:
    """find/findAll run on RE2 (linear time), as Go's regexp does: Python's backtracking re
    took minutes on (a+)+$ against 32 characters."""
    node = tree({"type": "object", "properties": {"s": {"type": "string"}}})
    started = time.perf_counter()
    rule = {"rule": "self.s.find('(a+)+$') == '' && self.s.findAll('(x+x+)+y').size() == 0"}
    assert cel.judge(rule, {"s": "a" * 50_000 + "b"}, node) is None
    assert cel.judge(rule, {"s": "x" * 50_000}, node) is None
    assert time.perf_counter() - started < 2


def test_a_rule_beyond_the_evaluators_budget_is_reported_not_a_crash() -> None:
    """cel-expr-python stops a comprehension past its iteration budget with a RuntimeError
    (an internal error, exit 2, before): the rule is one servegate cannot evaluate."""
    node = tree({"type": "object", "properties": {"l": {"type": "array", "items": {}}}})
    nested = "self.l.all(a, self.l.all(b, self.l.all(c, a + b + c >= 0)))"
    failure = cel.judge({"rule": nested, "messageExpression": nested}, {"l": [1] * 300}, node)
    assert failure is not None and failure.unsupported
    assert "evaluation stopped" in failure.message


def test_outcomes_are_remembered_by_exact_content(monkeypatch: pytest.MonkeyPatch) -> None:
    """One run's ``Outcomes``: a rule runs once per distinct value; values that differ only in
    type (1, 1.0, True, "1") are different values; the failures are those of a run without
    them (an unsupported function's too)."""
    node = tree(
        {
            "type": "object",
            "x-kubernetes-validations": [
                {"rule": "self.a == 1", "message": "a is not 1"},
                {"rule": "!has(self.b) || self.b != 'x'", "messageExpression": "'b is ' + self.b"},
                {"rule": "self.c.isSemver()"},
            ],
            "properties": {
                "a": {"x-kubernetes-preserve-unknown-fields": True},
                "b": {"type": "string"},
                "c": {"type": "string"},
            },
        }
    )
    calls: list[str] = []
    real = cel.evaluate

    def evaluate(expression: str, *args: Any) -> tuple[bool, str]:
        calls.append(expression)
        return real(expression, *args)

    monkeypatch.setattr(cel, "evaluate", evaluate)
    bodies: list[Obj] = [
        {"a": 1, "b": "x", "c": "1.0.0"},
        {"a": 1.0, "b": "x", "c": "1.0.0"},
        {"a": True, "b": "x", "c": "1.0.0"},
        {"a": "1", "b": "x", "c": "1.0.0"},
        {"a": 1, "b": "y", "c": "1.0.0"},
    ]
    outcomes: cel.Outcomes = {}
    for body in bodies:
        alone = cel.check(body, node)
        calls.clear()
        first = cel.check(body, node, outcomes)
        assert first == alone and len(calls) == 3, body
        calls.clear()
        assert cel.check(dict(body), node, outcomes) == alone and calls == [], body
    assert len(outcomes) == 3 * len(bodies)


def test_escape_follows_kubernetes() -> None:
    assert escape("namespace") == "__namespace__"
    assert escape("a-b.c/d") == "a__dash__b__dot__c__slash__d"
    assert escape("x__y") == "x__underscores__y"
    assert escape("1abc") is None and escape("a b") is None


def test_uses_old_self_ignores_string_literals() -> None:
    assert cel.uses_old_self("self == oldSelf")
    assert not cel.uses_old_self("self.name != 'oldSelf'")
    assert not cel.uses_old_self("self.oldSelf == 1")


# ---- the Kubernetes libraries ----

LIBRARY = [
    ("quantity('1Gi').isGreaterThan(quantity('1000Mi'))", True),
    ("quantity('1') == quantity('1000m')", True),
    ("quantity('1.5').isInteger()", False),
    ("quantity('2k').asInteger() == 2000", True),
    ("isQuantity('1Gx')", False),
    ("quantity('1').add(quantity('500m')).compareTo(quantity('1500m')) == 0", True),
    ("isURL('https://example.com/a?b=c') && !isURL('example.com')", True),
    ("url('https://example.com:8443/a').getPort() == '8443'", True),
    ("url('https://[::1]:80/').getHostname() == '::1'", True),
    ("url('https://h/p?x=1&x=2').getQuery()['x'] == ['1', '2']", True),
    ("isIP('10.0.0.1') && !isIP('10.0.0.01') && !isIP('::ffff:1.2.3.4')", True),
    ("ip('fe80::1').isLinkLocalUnicast() && ip('10.0.0.1').isGlobalUnicast()", True),
    ("ip.isCanonical('2001:db8::1') && !ip.isCanonical('2001:DB8::1')", True),
    (
        "cidr('10.0.0.0/8').containsIP('10.1.2.3') && !cidr('10.0.0.0/8').containsIP('11.0.0.1')",
        True,
    ),
    (
        "cidr('10.1.2.3/8').masked() == cidr('10.0.0.0/8') && cidr('10.0.0.0/8').prefixLength() == 8",
        True,
    ),
    ("cidr('10.0.0.0/8').containsCIDR('10.1.0.0/16') && !isCIDR('10.0.0.0/33')", True),
    ("'abcdefgh'.substring(7, 8) == 'h' && 'abc'.charAt(3) == ''", True),
    ("'a,b,c'.split(',', 2) == ['a', 'b,c'] && ['a', 'b'].join('-') == 'a-b'", True),
    (
        "'Hello'.lowerAscii() == 'hello' && 'hello'.indexOf('l') == 2 && 'hello'.lastIndexOf('l') == 3",
        True,
    ),
    ("'%s has %d replicas'.format(['web', 3]) == 'web has 3 replicas'", True),
    ("[1, 2, 3].isSorted() && [3, 1].sum() == 4 && [3, 1].min() == 1 && [2, 5].max() == 5", True),
    ("[1, 2, 3].indexOf(2) == 1 && [1, 2, 2].lastIndexOf(2) == 2", True),
    ("'abc123def45'.findAll('[0-9]+') == ['123', '45'] && 'abc'.find('z') == ''", True),
    (
        "sets.contains([1, 2, 3], [2]) && sets.intersects([1], [1, 4]) && sets.equivalent([1, 1], [1])",
        True,
    ),
    ("self.?missing.orValue('d') == 'd'", True),
    # Go's FindAllString: an empty match right after the previous one is skipped; RE2 syntax
    ("'baaa'.findAll('a*') == ['', 'aaa'] && 'axxb'.findAll('x*') == ['', 'xx', '']", True),
    ("'abab'.findAll('ab', 1) == ['ab'] && 'héllo1'.find('\\\\pL+') == 'héllo'", True),
]


@pytest.mark.parametrize(("expression", "expected"), LIBRARY)
def test_library_functions(expression: str, expected: bool) -> None:
    node = tree({"type": "object", "properties": {"a": {"type": "string"}}})
    failure = cel.judge({"rule": expression}, {"a": "x"}, node)
    assert (failure is None) is expected, failure


# ---- Istio's own fixtures: the rules reject what Istio's tests say they reject ----


@pytest.mark.upstream
def test_istio_fixtures_with_a_cel_error_are_rejected_with_its_message() -> None:
    schemas = SchemaSet(newest_version())
    folder = upstream_dir() / "examples/istio/validation-crds"
    matched = 0
    for file in sorted(folder.glob("*.yaml")):
        for n, doc in enumerate(yaml.safe_load_all(file.read_text())):
            if not isinstance(doc, dict):
                continue
            expected = doc.pop("_err", None)
            verdict = schemas.check(json.loads(json.dumps(doc)))
            assert verdict is not None, f"{file.name}#{n}"
            if file.name.endswith("-valid.yaml"):
                assert verdict.rules == [] and verdict.unsupported == [], f"{file.name}#{n}"
                continue
            messages = [m for _, m in verdict.rules]
            if isinstance(expected, str) and any(
                m.split(" evaluating rule")[0] in expected or m in expected for m in messages
            ):
                matched += 1
    print(f"istio invalid fixtures rejected by a CEL rule with Istio's message: {matched}")
    assert matched >= 25


# ---- through the CLI ----


def test_cel_findings_point_at_the_field(tmp_path: Path, cli: Callable[..., Run]) -> None:
    (tmp_path / "authz.yaml").write_text(
        textwrap.dedent(
            """\
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata:
              name: fraud
              namespace: ml
            spec:
              selector:
                matchLabels:
                  app: fraud*
              targetRefs:
              - kind: Service
                name: fraud
            """
        )
    )
    run = cli("check", tmp_path, "--format", "json")
    found = {
        (f["rule"], f["line"], f["message"])
        for f in json.loads(run.out)["findings"]
        if f["rule"].startswith("schema.")
    }
    assert ("schema.cel", 6, "only one of targetRefs or selector can be set") in found
    assert ("schema.cel", 9, "wildcard not allowed in label value match") in found
    assert run.code == 1

"""CRD validation rules (``x-kubernetes-validations``), evaluated as the API server evaluates
them on a create.

Semantics, after kubernetes/apiextensions-apiserver ``pkg/apiserver/schema/cel/validation.go``
and kubernetes/apiserver ``pkg/cel/common/values.go``:

- a rule is evaluated at its schema node, once per value there (each list item, each map value),
  with ``self`` bound to that value after defaulting (``default`` of absent fields, also inside
  defaults), null-pruning (:mod:`servegate.schema.structural`) and the CEL typing of
  ``values.go``: objects with properties expose only their properties, under escaped names
  (``namespace`` -> ``__namespace__``, ``a-b`` -> ``a__dash__b``: ``pkg/cel/escaping.go``), a
  null field is absent, maps keep their keys, ``number`` is a double, ``int-or-string`` either,
  strings with ``format: duration``, ``date``/``date-time`` and ``byte`` are durations,
  timestamps and bytes, and the root's and embedded resources' ``metadata`` show ``name`` and
  ``generateName`` only;
- the rule fails when it evaluates to anything but ``true``, or errors (no such key, a failed
  conversion...): the API server reports both;
- the finding's path is the node's, plus ``fieldPath`` when given; its message is the value of
  ``messageExpression`` when that evaluates to a non-empty one-line string, else ``message``,
  else ``failed rule: <rule>``; a ``reason`` other than ``FieldValueInvalid`` prefixes it;
- a transition rule (one that reads ``oldSelf``) compares with the stored object, which a file
  does not have: without ``optionalOldSelf`` the API server does not evaluate it on a create, so
  servegate never judges it (:func:`transition_rules` lists them); with ``optionalOldSelf:
  true`` it is evaluated as on a create, ``oldSelf`` being ``optional.none()``;
- no rule runs on an object with a blocking schema error (type, required, enum, maximum length
  or items): kubernetes/apiextensions-apiserver ``pkg/registry/customresource/strategy.go``
  (``hasBlockingErr``).

Programs are compiled once per process per expression (cel-expr-python, the CEL C++
implementation; the Kubernetes libraries in :mod:`servegate.schema.cel_library`), and only kinds
whose schema holds rules are walked, only along the paths that lead to one.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from servegate.schema.structural import NO_DEFAULT, Node, escape, has_null

FieldPath = tuple[str | int, ...]
_MAX_MESSAGE = 200
_STRING_LITERAL = re.compile(
    r"""[rRbB]{0,2}(?:'''.*?'''|\"\"\".*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*")""",
    re.S,
)
_OLD_SELF = re.compile(r"(?<![\w.])oldSelf\b")
_REASONS = {
    "FieldValueRequired": "Required value",
    "FieldValueForbidden": "Forbidden",
    "FieldValueDuplicate": "Duplicate value",
}


class Unsupported(Exception):
    """A rule servegate cannot compile: a function it does not provide, or a broken rule."""


@dataclass(frozen=True, slots=True)
class Failure:
    path: FieldPath
    message: str
    unsupported: bool = False
    """The rule could not be evaluated at all (``message`` says why)."""


@cache
def uses_old_self(expression: str) -> bool:
    """Whether a rule reads ``oldSelf`` (outside string literals)."""
    return _OLD_SELF.search(_STRING_LITERAL.sub('""', expression)) is not None


@cache
def _env() -> Any:
    from cel_expr_python import cel
    from cel_expr_python.ext import ext_bindings, ext_optional

    from servegate.schema.cel_library import extension

    return cel, cel.NewEnv(
        variables={"self": cel.Type.DYN, "oldSelf": cel.Type.DYN},  # oldSelf: never bound
        extensions=[ext_optional.ExtOptional(), ext_bindings.ExtBindings(), extension(cel)],
    )


@cache
def program(expression: str, optional_old_self: bool = False) -> Any:
    """The compiled program of one expression (cached for the process); raises
    :class:`Unsupported` with the compiler's one-line message."""
    _, env = _env()
    source = expression
    if optional_old_self:
        source = f"cel.bind(oldSelf, optional.none(), {expression})"
    try:
        return env.compile(source)
    except Exception as err:  # cel-expr-python raises plain RuntimeError/ValueError
        raise Unsupported(_one_line(str(err))) from None


def evaluate(
    expression: str, value: Any, optional_old_self: bool = False, bound: Any = None
) -> tuple[bool, str]:
    """(passed, error text) of one rule on one CEL value (or on ``bound``, an activation made
    by :func:`bind`, shared by the rules of one node); an evaluation error fails."""
    prog = program(expression, optional_old_self)
    try:
        result = prog.eval(bound) if bound is not None else prog.eval(data={"self": value})
    except Exception as err:  # cel-expr-python: RuntimeError, e.g. its iteration budget
        raise Unsupported(f"its evaluation stopped: {_one_line(str(err))}") from None
    if result.type() == _error_type():
        return False, _one_line(str(result.value()))
    return result.value() is True, ""


def bind(value: Any) -> Any:
    """``self`` converted into CEL once, for several rules."""
    _, env = _env()
    return env.Activation({"self": value})


@cache
def _error_type() -> Any:
    cel, _ = _env()
    return cel.Type.ERROR


def transition_rules(root: Node) -> list[tuple[str, dict[str, Any]]]:
    """(schema path, rule) of every transition rule servegate never judges, in schema order."""
    out: list[tuple[str, dict[str, Any]]] = []
    seen: set[int] = set()

    def walk(node: Node, path: str) -> None:
        if not node.has_rules or id(node) in seen:
            return
        seen.add(id(node))
        out.extend(
            (path or ".", rule)
            for rule in node.rules
            if uses_old_self(rule["rule"]) and rule.get("optionalOldSelf") is not True
        )
        for name, child in sorted((node.props or {}).items()):
            walk(child, f"{path}.{name}")
        if node.additional is not None:
            walk(node.additional, f"{path}[*]")
        if node.items is not None:
            walk(node.items, f"{path}[]")

    walk(root, "")
    return out


def compile_all(root: Node) -> None:
    """Compile every rule of a kind ahead of use (errors are reported when a rule is used)."""
    seen: set[int] = set()

    def walk(node: Node) -> None:
        if not node.has_rules or id(node) in seen:
            return
        seen.add(id(node))
        for rule in node.rules:
            optional = rule.get("optionalOldSelf") is True
            if optional or not uses_old_self(rule["rule"]):
                for text in (rule["rule"], rule.get("messageExpression")):
                    if isinstance(text, str) and text.strip():
                        with contextlib.suppress(Unsupported):
                            program(text, optional)
        for child in (*(node.props or {}).values(), node.additional, node.items):
            if child is not None:
                walk(child)

    walk(root)


#: What a rule gave on a value, by (rule, ``optionalOldSelf``, the value's exact content as
#: ``marshal`` writes it): (passed, error text), or the reason it cannot be evaluated.
Outcomes = dict[tuple[str, bool, bytes], "tuple[bool, str] | str"]

#: Values larger than this (marshalled) are evaluated every time rather than remembered.
_MAX_REMEMBERED = 64 * 1024


def check(body: dict[str, Any], root: Node, outcomes: Outcomes | None = None) -> list[Failure]:
    """Every failed rule of one custom resource (already null-pruned), in document order.
    ``outcomes``: what rules gave on values seen before, filled as it goes (one per run: the
    overlays of a monorepo repeat their bases' values)."""
    if not root.has_rules:
        return []
    failures: list[Failure] = []
    memo: dict[tuple[int, int], tuple[Any, Any]] = {}
    _walk(body, root, (), True, failures, memo, outcomes)
    return failures


def _walk(
    value: Any,
    node: Node,
    path: FieldPath,
    root: bool,
    failures: list[Failure],
    memo: dict[tuple[int, int], tuple[Any, Any]],
    outcomes: Outcomes | None = None,
) -> None:
    if node.rules:
        try:
            converted = _convert(value, node, root, memo)
        except _Mismatch:
            return  # the schema validation reports it (and it blocks CEL upstream)
        failures.extend(_run(node, converted, path, outcomes))
    if isinstance(value, dict):
        if node.props is not None:
            for name, child in node.rule_props:
                item = value.get(name)
                if item is None and child.default is not NO_DEFAULT:
                    item = copy.deepcopy(child.default)
                if item is not None:
                    _walk(item, child, (*path, name), False, failures, memo, outcomes)
        elif node.additional is not None and node.additional.has_rules:
            for key, item in value.items():
                if item is not None:
                    _walk(item, node.additional, (*path, key), False, failures, memo, outcomes)
    elif isinstance(value, list) and node.items is not None and node.items.has_rules:
        for n, item in enumerate(value):
            if item is not None:
                _walk(item, node.items, (*path, n), False, failures, memo, outcomes)


def _run(
    node: Node, value: Any, path: FieldPath, outcomes: Outcomes | None = None
) -> Iterator[Failure]:
    content = _content(value) if outcomes is not None else None
    bound = None
    for rule in node.rules:
        expression = rule["rule"]
        optional = rule.get("optionalOldSelf") is True
        if uses_old_self(expression) and not optional:
            continue  # a transition rule: not evaluated on a create
        key = (expression, optional, content) if content is not None else None
        outcome = outcomes.get(key) if outcomes is not None and key is not None else None
        if outcome is None:
            if bound is None and len(node.rules) > 1:
                bound = bind(value)  # ``self`` converted into CEL once for the node's rules
            outcome = _outcome(expression, value, optional, bound)
            if outcomes is not None and key is not None:
                outcomes[key] = outcome
        failure = _failure(rule, value, path, optional, outcome)
        if failure is not None:
            yield failure


def _content(value: Any) -> bytes | None:
    """``value`` exactly, as bytes (``marshal``: types, order and all), for ``Outcomes``; None
    when marshal cannot hold it (a duration, a timestamp) or it is large."""
    import marshal

    try:
        data = marshal.dumps(value)
    except ValueError:
        return None
    return data if len(data) <= _MAX_REMEMBERED else None


def judge(
    rule: dict[str, Any], value: Any, node: Node, path: FieldPath = (), *, strict: bool = False
) -> Failure | None:
    """One rule of ``node`` on one raw value there: its failure, or None when it holds (or is a
    transition rule, never judged, or the value does not have the node's type)."""
    try:
        converted = _convert(value, node, False, {})
    except _Mismatch:
        if strict:
            raise ValueError(f"{value!r} does not have the type of its schema node") from None
        return None
    return _judge(rule, converted, path)


def _judge(rule: dict[str, Any], value: Any, path: FieldPath) -> Failure | None:
    expression = rule["rule"]
    optional = rule.get("optionalOldSelf") is True
    if uses_old_self(expression) and not optional:
        return None  # a transition rule: not evaluated on a create
    return _failure(rule, value, path, optional, _outcome(expression, value, optional))


def _outcome(
    expression: str, value: Any, optional: bool, bound: Any = None
) -> tuple[bool, str] | str:
    """(passed, error text) of one rule on ``value``, or why it cannot be evaluated."""
    try:
        return evaluate(expression, value, optional, bound)
    except Unsupported as err:
        return str(err)


def _failure(
    rule: dict[str, Any],
    value: Any,
    path: FieldPath,
    optional: bool,
    outcome: tuple[bool, str] | str,
) -> Failure | None:
    expression = rule["rule"]
    where = (*path, *_field_path(rule.get("fieldPath")))
    if isinstance(outcome, str):
        message = f"rule {_one_line(expression)!r} cannot be evaluated by servegate: {outcome}"
        return Failure(where, _one_line(message), unsupported=True)
    passed, error = outcome
    if passed:
        return None
    if error:
        message = f"{error} evaluating rule: {_one_line(expression)}"
    else:
        message = _message(rule, value, optional)
    reason = _REASONS.get(str(rule.get("reason")))
    return Failure(where, _one_line(f"{reason}: {message}" if reason else message))


def _message(rule: dict[str, Any], value: Any, optional: bool) -> str:
    expression = rule.get("messageExpression")
    if isinstance(expression, str) and expression.strip():
        cel, _ = _env()
        try:
            result = program(expression, optional).eval(data={"self": value})
        except Exception:  # Unsupported, or cel-expr-python's RuntimeError (a budget)
            result = None
        if result is not None and result.type() == cel.Type.STRING:
            text = result.value()
            if isinstance(text, str) and text.strip() and "\n" not in text:
                return text
    message = rule.get("message")
    if isinstance(message, str) and message.strip():
        return message.strip()
    return f"failed rule: {rule['rule'].strip()}"


_FIELD_PATH = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\['((?:[^'\\]|\\.)*)'\]|\[(\d+)\]")


def _field_path(text: object) -> FieldPath:
    return _parse_field_path(text) if isinstance(text, str) and text else ()


@cache
def _parse_field_path(text: str) -> FieldPath:
    """``.spec.ports['http']`` -> ("spec", "ports", "http"); anything unparseable -> ()."""
    if not isinstance(text, str) or not text:
        return ()
    out: list[str | int] = []
    pos = 0
    while pos < len(text):
        match = _FIELD_PATH.match(text, pos)
        if match is None:
            return ()
        name, key, index = match.groups()
        out.append(int(index) if index is not None else name if name is not None else key)
        pos = match.end()
    return tuple(out)


class _Mismatch(Exception):
    """A value whose type is not its schema's: CEL does not run there."""


def _convert(
    value: Any, node: Node, root: bool, memo: dict[tuple[int, int], tuple[Any, Any]]
) -> Any:
    if node.plain and _shape_ok(value, node) and not has_null(value):
        return value  # reads in CEL as parsed: no copy
    key = (id(value), id(node))
    found = memo.get(key)
    if found is not None:
        return found[1]
    out = _convert_uncached(value, node, root, memo)
    memo[key] = (value, out)  # holding the value keeps its id from being reused meanwhile
    return out


def _shape_ok(value: Any, node: Node) -> bool:
    """The top-level type matches (deeper types do: CEL runs only without type errors)."""
    if node.int_or_string:
        return isinstance(value, str | int) and not isinstance(value, bool)
    if node.is_object:
        return isinstance(value, dict)
    types = node.types
    if not types:
        return True
    if "array" in types:
        return isinstance(value, list)
    if "string" in types:
        return isinstance(value, str)
    if "integer" in types:
        return isinstance(value, int) and not isinstance(value, bool)
    if "boolean" in types:
        return isinstance(value, bool)
    return False


def _convert_uncached(
    value: Any, node: Node, root: bool, memo: dict[tuple[int, int], tuple[Any, Any]]
) -> Any:
    if value is None:
        if node.nullable:
            return None
        raise _Mismatch
    if node.int_or_string:
        if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        raise _Mismatch
    types = node.types
    if node.is_object:
        if not isinstance(value, dict):
            raise _Mismatch
        return _object(value, node, root, memo)
    if "array" in types:
        if not isinstance(value, list):
            raise _Mismatch
        items = node.items
        if items is None:
            return [_plain(v) for v in value]
        return [_convert(v, items, False, memo) for v in value]
    if "string" in types:
        if not isinstance(value, str):
            raise _Mismatch
        return _string(value, node.format)
    if "number" in types:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Mismatch
        return float(value)
    if "integer" in types:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Mismatch
        return value
    if "boolean" in types:
        if not isinstance(value, bool):
            raise _Mismatch
        return value
    return _plain(value)  # untyped, preserved: compared by value only upstream


def _object(
    value: dict[str, Any], node: Node, root: bool, memo: dict[tuple[int, int], tuple[Any, Any]]
) -> dict[Any, Any]:
    props = node.props
    if props is not None:
        out: dict[Any, Any] = {}
        for name, child in props.items():
            item = value.get(name)
            if item is None and (name not in value or not child.nullable):
                if child.default is NO_DEFAULT:
                    continue
                item = copy.deepcopy(child.default)
            if item is None:
                continue  # a null nullable field reads as absent
            cel_name = escape(name)
            if cel_name is None:
                continue
            if name == "metadata" and _is_object_meta(child, props):
                if not isinstance(item, dict):
                    raise _Mismatch
                names = ("name", "generateName")
                out[cel_name] = {k: item[k] for k in names if isinstance(item.get(k), str)}
                continue
            out[cel_name] = _convert(item, child, False, memo)
        return out
    if node.additional is not None:
        result: dict[Any, Any] = {}
        for k, item in value.items():
            if item is None and not node.additional.nullable:
                if node.additional.default is NO_DEFAULT:
                    continue
                item = copy.deepcopy(node.additional.default)
            result[k] = _convert(item, node.additional, False, memo)
        return result
    return {}  # preserve-unknown-fields without properties: an empty object upstream


def _is_object_meta(child: Node, props: dict[str, Node]) -> bool:
    """The envelope's metadata (root or embedded resource): ``type: object`` without
    properties next to ``apiVersion`` and ``kind``."""
    return child.props is None and child.additional is None and "kind" in props


def _string(value: str, fmt: str | None) -> Any:
    """A string as CEL sees it: durations and timestamps travel as protobuf well-known types,
    the only form cel-expr-python accepts inside a ``dyn`` value."""
    if fmt == "duration":
        from google.protobuf import duration_pb2

        seconds = _duration(value)
        whole = int(seconds // 1)
        return duration_pb2.Duration(seconds=whole, nanos=round((seconds - whole) * 1e9))
    if fmt in ("date", "date-time"):
        from google.protobuf import timestamp_pb2

        try:
            if fmt == "date":
                parsed = datetime.datetime.strptime(value, "%Y-%m-%d")
            else:
                parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise _Mismatch from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=datetime.UTC)
        stamp = timestamp_pb2.Timestamp()
        stamp.FromDatetime(parsed)
        return stamp
    if fmt == "byte":
        from servegate.schema.cel_library import decode_bytes

        try:
            return decode_bytes(value)
        except ValueError:
            raise _Mismatch from None
    return value


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d|w)")
_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86400,
    "w": 604800,
}


def _duration(text: str) -> float:
    """A ``format: duration`` string (kube-openapi ``strfmt.ParseDuration``: Go durations plus
    days and weeks)."""
    body = text.strip()
    sign = -1 if body.startswith("-") else 1
    body = body.lstrip("+-")
    if body == "0":
        return 0.0
    pos, total = 0, 0.0
    while pos < len(body):
        match = _DURATION_PART.match(body, pos)
        if match is None:
            raise _Mismatch
        total += float(match[1]) * _UNIT_SECONDS[match[2]]
        pos = match.end()
    if pos == 0:
        raise _Mismatch
    return sign * total


def _plain(value: Any) -> Any:
    """A preserved value as plain CEL data (JSON-like; YAML-only types as strings)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _MAX_MESSAGE else line[: _MAX_MESSAGE - 3] + "..."

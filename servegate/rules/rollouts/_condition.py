"""Argo Rollouts analysis conditions: the expr-lang subset they use, type-checked and evaluated.

Argo Rollouts (argoproj/argo-rollouts ``utils/evaluate/evaluate.go``, ``EvalCondition``)
compiles each ``successCondition``/``failureCondition`` with github.com/expr-lang/expr against
an environment where ``result`` is the provider's value (float64 or []float64 for Prometheus,
see ``_promql_type``) and ``isNaN``, ``isInf``, ``asInt``, ``asFloat``, ``isNil`` and
``default`` are functions. expr-lang type-checks at compile time, so ``result >= 0.95`` with a
[]float64 ``result`` fails to compile whatever the data, while ``result[0]`` on an empty list
fails only when run. This module parses the part of expr-lang conditions use (literals,
``result``, ``#`` in predicates, arithmetic, comparisons, ``&&``/``and``, ``||``/``or``,
``!``/``not``, ``?:``, ``in``, indexing, calls of the functions above and of expr-lang's
``len``, ``all``, ``any``, ``none``, ``one``, ``filter``, ``map``, ``count``, ``sum``,
``mean``, ``max``, ``min``, ``first``, ``last``, ``abs``, ``ceil``, ``floor``, ``round``,
with ``{...}`` predicates), checks its types and evaluates it on probe values. Anything else
raises :class:`Unsupported`, and callers then make no claim.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

NUMBER, BOOL, STRING, LIST, NIL, ANY = "float64", "bool", "string", "[]float64", "nil", "any"


class Unsupported(Exception):
    """The condition uses expr-lang beyond this subset."""


class CompileError(Exception):
    """expr-lang would refuse to compile the condition (a type mismatch)."""


class RunError(Exception):
    """expr-lang would fail while running the condition (an index out of range...)."""


_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+\.\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|\d+(?:[eE][-+]?\d+)?)"
    r"|(?P<str>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>&&|\|\||==|!=|<=|>=|\*\*|\?\?|[-+*/%<>!?:(),\[\]{}#.^]))"
)

_BINARY = {
    "||": 1, "or": 1, "&&": 2, "and": 2,
    "==": 3, "!=": 3, "<": 3, ">": 3, "<=": 3, ">=": 3, "in": 3,
    "+": 4, "-": 4, "*": 5, "/": 5, "%": 5, "**": 6, "^": 6,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Node:
    op: str
    args: tuple[Any, ...] = ()


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise Unsupported(f"unexpected {text[pos : pos + 10]!r}")
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.i >= len(self.tokens):
            raise Unsupported("unexpected end")
        token = self.tokens[self.i]
        if expected is not None and token[1] != expected:
            raise Unsupported(f"expected {expected!r}, got {token[1]!r}")
        self.i += 1
        return token

    def parse(self) -> Node:
        node = self.expr(0)
        if self.i != len(self.tokens):
            raise Unsupported(f"unexpected {self.peek()!r}")
        return node

    def expr(self, floor: int) -> Node:
        left = self.unary()
        while True:
            op = self.peek()
            if op == "?" and floor == 0:
                self.take()
                yes = self.expr(0)
                self.take(":")
                left = Node("?:", (left, yes, self.expr(0)))
                continue
            if op == "not" and self.i + 1 < len(self.tokens) and self.tokens[self.i + 1][1] == "in":
                self.take()
                op = "not in"
            if op not in _BINARY and op != "not in":
                return left
            prec = _BINARY.get(op or "", 3)
            if prec <= floor - 1 or prec < floor:
                return left
            if op != "not in":
                self.take()
            else:
                self.take("in")
            right = self.expr(prec + (0 if op in ("**", "^") else 1))
            left = Node(op or "", (left, right))

    def unary(self) -> Node:
        op = self.peek()
        if op in ("!", "not", "-", "+"):
            self.take()
            return Node("u" + ("!" if op == "not" else op or ""), (self.unary(),))
        return self.postfix(self.primary())

    def postfix(self, node: Node) -> Node:
        while self.peek() in ("[", "(", "."):
            if self.peek() == "[":
                self.take()
                index = self.expr(0)
                self.take("]")
                node = Node("index", (node, index))
            elif self.peek() == "(":
                if node.op != "name":
                    raise Unsupported("call of an expression")
                self.take()
                args: list[Node] = []
                while self.peek() != ")":
                    args.append(self.closure() if self.peek() == "{" else self.expr(0))
                    if self.peek() == ",":
                        self.take()
                self.take(")")
                node = Node("call", (node.args[0], tuple(args)))
            else:
                raise Unsupported("member access")
        return node

    def closure(self) -> Node:
        self.take("{")
        body = self.expr(0)
        self.take("}")
        return Node("closure", (body,))

    def primary(self) -> Node:
        kind, text = self.take()
        if kind == "num":
            return Node("lit", (float(text),))
        if kind == "str":
            return Node("lit", (bytes(text[1:-1], "utf-8").decode("unicode_escape"),))
        if text == "(":
            node = self.expr(0)
            self.take(")")
            return node
        if text == "#":
            return Node("#")
        if kind == "name":
            if text in ("true", "false"):
                return Node("lit", (text == "true",))
            if text == "nil":
                return Node("lit", (None,))
            return Node("name", (text,))
        raise Unsupported(f"unexpected {text!r}")


def parse(condition: str) -> Node:
    """The condition's syntax tree; :class:`Unsupported` outside the subset."""
    return _Parser(condition).parse()


def _lit_type(value: Any) -> str:
    if value is None:
        return NIL
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, str):
        return STRING
    return NUMBER


_NUMERIC_FUNCS = frozenset({"abs", "ceil", "floor", "round"})
_LIST_REDUCERS = frozenset({"sum", "mean", "max", "min", "first", "last"})
_PREDICATES = frozenset({"all", "any", "none", "one"})


def check_types(node: Node, result: str, item: str = ANY) -> str:
    """The static type of ``node`` with ``result`` of type ``result``; :class:`CompileError`."""

    def t(n: Node) -> str:
        return check_types(n, result, item)

    op, args = node.op, node.args
    if op == "lit":
        return _lit_type(args[0])
    if op == "#":
        return item
    if op == "name":
        if args[0] == "result":
            return result
        raise Unsupported(f"unknown name {args[0]!r}")
    if op == "u!":
        inner = t(args[0])
        if inner not in (BOOL, ANY):
            raise CompileError(f"invalid operation: ! (mismatched type {inner})")
        return BOOL
    if op in ("u-", "u+"):
        inner = t(args[0])
        if inner not in (NUMBER, ANY):
            raise CompileError(f"invalid operation: {op[1]} (mismatched type {inner})")
        return NUMBER
    if op == "?:":
        t(args[0])
        yes, no = t(args[1]), t(args[2])
        return yes if yes == no else ANY
    if op == "index":
        base, index = t(args[0]), t(args[1])
        if base in (NUMBER, BOOL):
            raise CompileError(f"type {base} does not support indexing")
        if index not in (NUMBER, ANY):
            raise CompileError(f"non-integer index of type {index}")
        return NUMBER if base == LIST else ANY
    if op == "closure":
        return t(args[0])
    if op == "call":
        return _call_type(str(args[0]), args[1], result, item)
    left, right = t(args[0]), t(args[1])
    if op in ("&&", "and", "||", "or"):
        for side in (left, right):
            if side not in (BOOL, ANY):
                raise CompileError(f"invalid operation: {op} (mismatched types {left} and {right})")
        return BOOL
    if op in ("in", "not in"):
        if right not in (LIST, ANY, STRING):
            raise CompileError(f"invalid operation: in (mismatched types {left} and {right})")
        return BOOL
    if ANY in (left, right) or (NIL in (left, right) and op in ("==", "!=")):
        return BOOL if op in ("==", "!=", "<", ">", "<=", ">=") else ANY
    if left != right or (left not in (NUMBER, STRING) and op not in ("==", "!=")):
        raise CompileError(f"invalid operation: {op} (mismatched types {left} and {right})")
    if op in ("==", "!=", "<", ">", "<=", ">="):
        return BOOL
    if left == STRING and op != "+":
        raise CompileError(f"invalid operation: {op} (mismatched types {left} and {right})")
    return left


def _call_type(name: str, args: tuple[Node, ...], result: str, item: str) -> str:
    types = [check_types(a, result, item) for a in args if a.op != "closure"]
    if name in ("isNaN", "isInf"):
        if len(args) != 1:
            raise CompileError(f"{name} takes one argument")
        if types[0] not in (NUMBER, ANY):
            raise CompileError(f"cannot use {types[0]} as argument (type float64) to call {name}")
        return BOOL
    if name in ("asFloat", "asInt"):
        return NUMBER
    if name == "isNil":
        return BOOL
    if name == "default":
        return ANY
    if name == "len":
        if types and types[0] in (NUMBER, BOOL):
            raise CompileError(f"invalid argument for len (type {types[0]})")
        return NUMBER
    if name in _NUMERIC_FUNCS:
        if types and types[0] not in (NUMBER, ANY):
            raise CompileError(f"invalid argument for {name} (type {types[0]})")
        return NUMBER
    if name in _LIST_REDUCERS or name in _PREDICATES or name in ("filter", "map", "count"):
        if not args:
            raise CompileError(f"{name} needs an argument")
        base = check_types(args[0], result, item)
        if base in (NUMBER, BOOL) and name not in ("max", "min"):
            raise CompileError(f"builtin {name} takes only array (got {base})")
        if name in ("max", "min") and base == NUMBER:
            return NUMBER
        predicate = next((a for a in args[1:] if a.op == "closure"), None)
        if predicate is not None:
            check_types(predicate, result, NUMBER if base == LIST else ANY)
        if name in _PREDICATES:
            return BOOL
        if name == "filter":
            return base
        if name == "map":
            return ANY
        return NUMBER
    raise Unsupported(f"function {name!r}")


def evaluate(node: Node, result: Any, item: Any = None) -> Any:
    """Run ``node`` with ``result`` bound; :class:`RunError` where expr-lang fails at run time."""

    def ev(n: Node) -> Any:
        return evaluate(n, result, item)

    op, args = node.op, node.args
    if op == "lit":
        return args[0]
    if op == "#":
        return item
    if op == "name":
        return result
    if op == "u!":
        return not ev(args[0])
    if op == "u-":
        return -ev(args[0])
    if op == "u+":
        return ev(args[0])
    if op == "?:":
        return ev(args[1]) if ev(args[0]) else ev(args[2])
    if op == "index":
        base, index = ev(args[0]), ev(args[1])
        try:
            return base[int(index)]
        except (IndexError, TypeError, ValueError) as err:
            raise RunError(f"index out of range: {index} (array length is {len(base)})") from err
    if op == "call":
        return _call(str(args[0]), args[1], result, item)
    if op in ("&&", "and"):
        return bool(ev(args[0])) and bool(ev(args[1]))
    if op in ("||", "or"):
        return bool(ev(args[0])) or bool(ev(args[1]))
    left, right = ev(args[0]), ev(args[1])
    return _BINOPS[op](left, right)


def _div(a: float, b: float) -> float:
    if b == 0:
        return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a)
    return a / b


_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
    "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b,
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": _div,
    "%": lambda a, b: math.fmod(a, b) if b else math.nan,
    "**": lambda a, b: a**b,
    "^": lambda a, b: a**b,
}


def _call(name: str, args: tuple[Node, ...], result: Any, item: Any) -> Any:
    values = [evaluate(a, result, item) for a in args if a.op != "closure"]
    predicate = next((a.args[0] for a in args if a.op == "closure"), None)

    def each(x: Any) -> Any:
        if predicate is None:
            raise Unsupported(f"{name} without a predicate")
        return evaluate(predicate, result, x)

    if name == "isNaN":
        return isinstance(values[0], float) and math.isnan(values[0])
    if name == "isInf":
        return isinstance(values[0], float) and math.isinf(values[0])
    if name in ("asFloat", "asInt"):
        return float(values[0]) if name == "asFloat" else int(values[0])
    if name == "isNil":
        return result is None
    if name == "default":
        return values[1] if result is None else result
    if name == "len":
        return len(values[0])
    if name in _NUMERIC_FUNCS:
        numeric: dict[str, Callable[[Any], Any]] = {
            "abs": abs,
            "ceil": math.ceil,
            "floor": math.floor,
            "round": round,
        }
        return numeric[name](values[0])
    items = values[0] if isinstance(values[0], list) else values
    if name == "all":
        return all(each(x) for x in items)
    if name == "any":
        return any(each(x) for x in items)
    if name == "none":
        return not any(each(x) for x in items)
    if name == "one":
        return sum(1 for x in items if each(x)) == 1
    if name == "filter":
        return [x for x in items if each(x)]
    if name == "map":
        return [each(x) for x in items]
    if name == "count":
        return sum(1 for x in items if each(x))
    if name == "sum":
        return float(sum(items))
    if name in ("first", "last"):
        return (items[0] if name == "first" else items[-1]) if items else None
    if not items:
        raise RunError(f"{name} of an empty array")
    if name == "mean":
        return float(sum(items)) / len(items)
    return max(items) if name == "max" else min(items)


def run(node: Node, result: Any) -> Any:
    """:func:`evaluate`, with Python's own failures (a panic in expr-lang) as :class:`RunError`."""
    try:
        return evaluate(node, result)
    except (TypeError, ValueError, OverflowError, ZeroDivisionError, IndexError) as err:
        raise RunError(str(err)) from err

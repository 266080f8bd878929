"""expr-lang's compile-time type check of an Argo Rollouts condition, over the syntax tree of
``servegate.exprlang`` (which parses and evaluates conditions).

Argo Rollouts (argoproj/argo-rollouts ``utils/evaluate/evaluate.go``, ``EvalCondition``) calls
``expr.Compile(condition, expr.Env(env))`` with ``result`` typed by the provider's value
(float64 for a Prometheus scalar, []float64 for a vector or matrix). expr checks types at
compile time, on every branch: ``len(result) > 0 && result >= 0.95`` never compiles with a
[]float64 ``result``, however the ``&&`` would short-circuit at run time, and ``result[0]`` never
compiles with a float64 one. :func:`check_types` reports such mismatches as
:class:`CompileError`; a part it does not model types as ``any`` and is accepted, as expr
accepts interface values.
"""

from __future__ import annotations

from typing import Any

NUMBER, BOOL, STRING, LIST, NIL, ANY = "float64", "bool", "string", "[]float64", "nil", "any"

_NUMERIC = (NUMBER, ANY)


class CompileError(Exception):
    """expr-lang would refuse to compile the condition (a type mismatch)."""


def check_types(tree: Any, result: str) -> str:
    """The static type of ``tree`` (a ``servegate.exprlang`` tree) with ``result`` typed
    ``result`` (:data:`NUMBER` or :data:`LIST`); raises :class:`CompileError`."""
    return _Checker(result).type(tree, ANY)


def _mismatch(op: str, left: str, right: str) -> CompileError:
    return CompileError(f"invalid operation: {op} (mismatched types {left} and {right})")


class _Checker:
    def __init__(self, result: str) -> None:
        self.result = result

    def type(self, node: Any, item: str) -> str:
        data = getattr(node, "data", None)
        kids = [c for c in getattr(node, "children", ()) if c is not None]
        simple = {"number": NUMBER, "string": STRING, "true": BOOL, "false": BOOL, "nil": NIL}
        if data in simple:
            return simple[str(data)]
        if data == "name":
            return self.result
        if data == "pointer":
            return item
        if data in ("paren", "closure"):
            return self.type(kids[0], item)
        if data == "array":
            for kid in kids:
                self.type(kid, item)
            return ANY
        if data == "ternary":
            self.type(kids[0], item)
            yes, no = self.type(kids[1], item), self.type(kids[2], item)
            return yes if yes == no else ANY
        if data == "logic":
            left, right = self.type(kids[0], item), self.type(kids[2], item)
            if left not in (BOOL, ANY) or right not in (BOOL, ANY):
                raise _mismatch(str(kids[1]), left, right)
            return BOOL
        if data == "not_":
            inner = self.type(kids[1], item)
            if inner not in (BOOL, ANY):
                raise CompileError(f"invalid operation: ! (mismatched type {inner})")
            return BOOL
        if data == "sign":
            inner = self.type(kids[1], item)
            if inner not in _NUMERIC:
                raise CompileError(f"invalid operation: unary {kids[0]} (mismatched type {inner})")
            return NUMBER
        if data == "coalesce":
            self.type(kids[0], item)
            self.type(kids[1], item)
            return ANY
        if data == "index":
            base, index = self.type(kids[0], item), self.type(kids[1], item)
            if base in (NUMBER, BOOL, NIL):
                raise CompileError(f"type {base} does not support indexing")
            if index not in _NUMERIC:
                raise CompileError(f"non-integer index of type {index}")
            return NUMBER if base == LIST else ANY
        if data == "rel":
            left_node = kids[0].children[2] if getattr(kids[0], "data", None) == "rel" else kids[0]
            if left_node is not kids[0]:
                self.type(kids[0], item)
            left, right = self.type(left_node, item), self.type(kids[2], item)
            if ANY not in (left, right) and not (left == right and left in (NUMBER, STRING)):
                raise _mismatch(str(kids[1]), left, right)
            return BOOL
        if data == "binop":
            return self._binop(str(kids[1]), self.type(kids[0], item), self.type(kids[2], item))
        if data == "call":
            return self._call(str(kids[0]), kids[1:], item)
        return ANY

    def _binop(self, op: str, left: str, right: str) -> str:
        if op in ("==", "!="):
            if LIST in (left, right) and {left, right} & {NUMBER, BOOL, STRING}:
                raise _mismatch(op, left, right)
            return BOOL
        if op == "in":
            if right in (NUMBER, BOOL):
                raise _mismatch(op, left, right)
            return BOOL
        if ANY in (left, right):
            return ANY
        if op == "+" and left == right == STRING:
            return STRING
        if left != NUMBER or right != NUMBER:
            raise _mismatch(op, left, right)
        return NUMBER

    def _call(self, name: str, args: list[Any], item: str) -> str:
        if name in ("all", "any", "none", "one", "filter", "map", "count"):
            base = self.type(args[0], item)
            if base in (NUMBER, BOOL, NIL, STRING):
                raise CompileError(f"builtin {name} takes only array (got {base})")
            self.type(args[1], NUMBER if base == LIST else ANY)
            return {"filter": base, "map": ANY, "count": NUMBER}.get(name, BOOL)
        types = [self.type(a, item) for a in args]
        if name in ("isNaN", "isInf"):
            if types and types[0] not in _NUMERIC:
                raise CompileError(
                    f"cannot use {types[0]} as argument (type float64) to call {name}"
                )
            return BOOL
        if name == "len":
            if types and types[0] in (NUMBER, BOOL):
                raise CompileError(f"invalid argument for len (type {types[0]})")
            return NUMBER
        if name == "abs":
            if types and types[0] not in _NUMERIC:
                raise CompileError(f"invalid argument for abs (type {types[0]})")
            return NUMBER
        if name == "sum":
            if types and types[0] in (NUMBER, BOOL):
                raise CompileError(f"builtin sum takes only array (got {types[0]})")
            return NUMBER
        if name in ("asInt", "asFloat", "min", "max"):
            return NUMBER
        if name == "isNil":
            return BOOL
        return ANY

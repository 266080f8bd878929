"""Argo Rollouts analysis conditions: the part of the expr language (github.com/expr-lang/expr)
they are written in, parsed with a real grammar (lark) and evaluated with expr's semantics.

Argo Rollouts compiles ``successCondition``/``failureCondition`` with expr and runs them with
the environment of ``utils/evaluate/evaluate.go`` (``EvalCondition``): ``result`` (a
Prometheus vector or matrix is ``[]float64``, a scalar ``float64``), ``asInt``, ``asFloat``,
``isNaN``, ``isInf``, ``isNil`` and ``default``; the condition must produce a bool. Operator
precedence follows expr's table (``parser/operator/operator.go``): ``?:`` < ``or ||`` <
``and &&`` < comparisons and ``in`` < ``+ -`` < ``not !`` < ``* / %`` < unary ``-`` <
``** ^`` < ``??``; ``a < b < c`` chains as ``a < b && b < c`` (``parser.parseComparison``);
``&&`` and ``||`` short-circuit, so ``len(result) > 0 && result[0] < 1`` never indexes an
empty result. Numbers compare across int and float; ``/`` always divides as float64 (1/0 is
+Inf, as in Go); an index out of range or a type mismatch is an evaluation error (Argo marks
the measurement Error).

Supported: literals (numbers, strings, true/false/nil, arrays), ``result`` and the functions
above, ``len``, ``abs``, ``min``, ``max``, ``sum``, and the predicates ``all``, ``any``,
``none``, ``one``, ``filter``, ``map``, ``count`` with ``#`` (``all(result, {# < 0.05})`` or
``all(result, # < 0.05)``). Anything else (pipes, ``let``, ``matches``, member access, other
builtins) raises :class:`Unsupported` rather than being guessed at.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lark import Lark, Tree

GRAMMAR = r"""
?start: expr
?expr: or_expr
     | or_expr "?" expr ":" expr             -> ternary
?or_expr: and_expr
        | or_expr OR and_expr                -> logic
?and_expr: cmp_expr
         | and_expr AND cmp_expr             -> logic
?cmp_expr: add_expr
         | cmp_expr REL add_expr             -> rel
         | cmp_expr EQ add_expr              -> binop
         | cmp_expr IN add_expr              -> binop
?add_expr: not_expr
         | add_expr ADD not_expr             -> binop
?not_expr: mul_expr
         | NOT not_expr                      -> not_
?mul_expr: neg_expr
         | mul_expr MUL neg_expr             -> binop
?neg_expr: pow_expr
         | ADD neg_expr                      -> sign
?pow_expr: coal_expr
         | coal_expr POW neg_expr            -> binop
?coal_expr: postfix
          | coal_expr "??" postfix           -> coalesce
?postfix: atom
        | postfix "[" expr "]"               -> index
?atom: NUMBER                                -> number
     | STRING                                -> string
     | "true"                                -> true
     | "false"                               -> false
     | "nil"                                 -> nil
     | NAME                                  -> name
     | NAME "(" [expr ("," expr)*] ")"       -> call
     | "(" expr ")"                          -> paren
     | "[" [expr ("," expr)*] "]"            -> array
     | "#"                                   -> pointer
     | "{" expr "}"                          -> closure

OR: "||" | "or"
AND: "&&" | "and"
NOT: "!" | "not"
REL: "<=" | ">=" | "<" | ">"
EQ: "==" | "!="
IN: "in"
ADD: "+" | "-"
MUL: "*" | "/" | "%"
POW: "**" | "^"
NUMBER: /0[xX][0-9a-fA-F_]+/
      | /(\d[\d_]*)?\.\d[\d_]*([eE][-+]?\d+)?/
      | /\d[\d_]*(\.([eE][-+]?\d+)?|[eE][-+]?\d+)?/
STRING: /"(\\.|[^"\\])*"|'(\\.|[^'\\])*'/
NAME: /(?!(and|or|not|in|true|false|nil)\b)[A-Za-z_$][A-Za-z0-9_$]*/
%ignore /\s+/
"""

PREDICATES = frozenset({"all", "any", "none", "one", "filter", "map", "count"})
FUNCTIONS = frozenset(
    {"len", "abs", "min", "max", "sum", "isNaN", "isInf", "asInt", "asFloat", "isNil", "default"}
)


class Unsupported(ValueError):
    """A condition servegate cannot evaluate faithfully (not valid, or outside the subset)."""


class TooLarge(Unsupported):
    """A condition beyond servegate's bounds (``MAX_CONDITION_CHARS``, ``MAX_DEPTH``): not
    parsed or not judged, so that no condition can exhaust the stack or stall a check."""


MAX_CONDITION_CHARS = 16 * 1024
MAX_DEPTH = 128
"""Nesting of the syntax tree (brackets, calls, and each chained operator): the checks and the
evaluator recurse once per level, and no condition written for people comes near."""


class EvalError(ValueError):
    """Evaluation failed at run time, as expr's would: Argo marks the measurement Error."""


@dataclass(frozen=True, slots=True)
class Condition:
    """A parsed condition; :meth:`evaluate` runs it against one measurement's ``result``."""

    text: str
    tree: Tree[Any]

    def evaluate(self, result: Any) -> bool:
        """Evaluate with ``result`` (list of floats, a float, or None). Raises EvalError."""
        value = _Evaluator(result).eval(self.tree, None)
        if not isinstance(value, bool):
            raise EvalError(f"expected bool, but got {_type(value)}")
        return value


@cache
def _parser() -> Lark:
    from lark import Lark

    return Lark(GRAMMAR, parser="lalr", maybe_placeholders=False)


def parse(text: str) -> Condition:
    """Parse a condition; raises :class:`Unsupported` with the reason when it cannot. Both
    outcomes are remembered per text: a monorepo repeats the same conditions (and the same
    unparseable ``{{args.*}}`` templates) in every model."""
    parsed = _parse(text)
    if isinstance(parsed, Unsupported):
        raise type(parsed)(str(parsed))
    return parsed


@cache
def _parse(text: str) -> Condition | Unsupported:
    from lark.exceptions import LarkError

    if len(text) > MAX_CONDITION_CHARS:
        return TooLarge(
            f"the condition is {len(text) // 1024} KiB; servegate judges conditions up to "
            f"{MAX_CONDITION_CHARS // 1024} KiB"
        )
    brackets = _bracket_depth(text)
    if brackets > MAX_DEPTH:
        return TooLarge(_too_deep())
    try:
        tree = _parser().parse(text)
    except LarkError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return Unsupported(f"cannot parse condition {text[:200]!r}: {first}")
    except RecursionError:
        return TooLarge(_too_deep())
    depth = _tree_depth(tree)
    if depth > MAX_DEPTH:
        return TooLarge(_too_deep())
    try:
        _check(tree, in_predicate=False)
    except Unsupported as err:
        return err
    return Condition(text, tree)


def _too_deep() -> str:
    return (
        f"the condition nests deeper than {MAX_DEPTH} levels (brackets, calls and chained "
        "operators), which servegate does not judge"
    )


def _bracket_depth(text: str) -> int:
    """The deepest bracket nesting of ``text`` (brackets in strings count too: an upper
    bound, cheap enough to run before the parser)."""
    depth = deepest = 0
    for char in text:
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth = max(0, depth - 1)
    return deepest


def _tree_depth(tree: Tree[Any]) -> int:
    """The depth of a parsed tree, measured without recursion; stops past ``MAX_DEPTH``."""
    from lark import Tree

    deepest = 0
    stack: list[tuple[Any, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            break
        if isinstance(node, Tree):
            stack.extend((child, depth + 1) for child in node.children)
    return deepest


def _check(node: Any, *, in_predicate: bool) -> None:
    """Refuse names, functions and pointers the evaluation environment does not have."""
    from lark import Token, Tree

    if isinstance(node, Token) or not isinstance(node, Tree):
        return
    if node.data == "name" and str(node.children[0]) != "result":
        raise Unsupported(f"unknown name {node.children[0]!s} (Argo Rollouts provides `result`)")
    if node.data == "pointer" and not in_predicate:
        raise Unsupported("`#` outside a predicate (all, any, none, one, filter, map, count)")
    if node.data == "call":
        name = str(node.children[0])
        args = [c for c in node.children[1:] if c is not None]
        if name in PREDICATES:
            if len(args) != 2:
                raise Unsupported(f"{name}() takes an array and a predicate")
            _check(args[0], in_predicate=in_predicate)
            _check(args[1], in_predicate=True)
            return
        if name not in FUNCTIONS:
            raise Unsupported(f"function {name}() is not supported in conditions")
        for arg in args:
            _check(arg, in_predicate=in_predicate)
        return
    if node.data == "closure" and not in_predicate:
        raise Unsupported("a closure {...} outside a predicate")
    for child in node.children:
        _check(child, in_predicate=in_predicate)


def _type(value: Any) -> str:
    """expr's name for a value's type, for error messages."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    return type(value).__name__


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _float(value: Any, what: str) -> float:
    if not _number(value):
        raise EvalError(f"{what}: cannot use {_type(value)} as float64")
    return float(value)


def _as_int(value: Any) -> int:
    """Argo's asInt: numbers truncate toward zero, strings must parse as base-10 ints."""
    if _number(value):
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            return -(2**63)  # Go's int64(NaN/Inf) on amd64
        return int(value)
    if isinstance(value, str):
        try:
            return int(value, 10)
        except ValueError:
            raise EvalError(f'strconv.ParseInt: parsing "{value}": invalid syntax') from None
    raise EvalError(f"asInt() not supported on {_type(value)} {value}")


def _as_float(value: Any) -> float:
    if _number(value):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise EvalError(f'strconv.ParseFloat: parsing "{value}": invalid syntax') from None
    raise EvalError(f"asFloat() not supported on {_type(value)} {value}")


class _Evaluator:
    def __init__(self, result: Any) -> None:
        self.result = result

    def eval(self, node: Any, pointer: Any) -> Any:
        method: Callable[[Any, Any], Any] = getattr(self, "_" + node.data)
        return method(node, pointer)

    # --- atoms -----------------------------------------------------------------------------

    def _number(self, node: Any, pointer: Any) -> Any:
        text = str(node.children[0]).replace("_", "")
        if text.lower().startswith("0x"):
            return int(text, 16)
        if any(c in text for c in ".eE"):
            return float(text)
        return int(text)

    def _string(self, node: Any, pointer: Any) -> Any:
        import json

        raw = str(node.children[0])
        body = raw[1:-1]
        if raw[0] == "'":
            body = body.replace("\\'", "'").replace('"', '\\"')
        try:
            decoded: str = json.loads('"' + body + '"')
        except ValueError:
            raise EvalError(f"invalid string literal {raw}") from None
        return decoded

    def _true(self, node: Any, pointer: Any) -> Any:
        return True

    def _false(self, node: Any, pointer: Any) -> Any:
        return False

    def _nil(self, node: Any, pointer: Any) -> Any:
        return None

    def _name(self, node: Any, pointer: Any) -> Any:
        return self.result

    def _pointer(self, node: Any, pointer: Any) -> Any:
        return pointer

    def _paren(self, node: Any, pointer: Any) -> Any:
        return self.eval(node.children[0], pointer)

    def _closure(self, node: Any, pointer: Any) -> Any:
        return self.eval(node.children[0], pointer)

    def _array(self, node: Any, pointer: Any) -> Any:
        return [self.eval(c, pointer) for c in node.children if c is not None]

    # --- operators -------------------------------------------------------------------------

    def _ternary(self, node: Any, pointer: Any) -> Any:
        cond = self.eval(node.children[0], pointer)
        if not isinstance(cond, bool):
            raise EvalError(f"non-bool expression (type {_type(cond)}) used as condition")
        return self.eval(node.children[1] if cond else node.children[2], pointer)

    def _logic(self, node: Any, pointer: Any) -> Any:
        left_node, op, right_node = node.children
        left = self.eval(left_node, pointer)
        if not isinstance(left, bool):
            raise EvalError(f"invalid operation: {op} (mismatched types {_type(left)} and bool)")
        is_or = str(op) in ("||", "or")
        if left is is_or:  # short circuit: true || ..., false && ...
            return left
        right = self.eval(right_node, pointer)
        if not isinstance(right, bool):
            raise EvalError(f"invalid operation: {op} (mismatched types bool and {_type(right)})")
        return right

    def _not_(self, node: Any, pointer: Any) -> Any:
        value = self.eval(node.children[1], pointer)
        if not isinstance(value, bool):
            raise EvalError(f"invalid operation: ! (mismatched type {_type(value)})")
        return not value

    def _sign(self, node: Any, pointer: Any) -> Any:
        value = self.eval(node.children[1], pointer)
        if not _number(value):
            raise EvalError(f"invalid operation: unary {node.children[0]} on {_type(value)}")
        return -value if str(node.children[0]) == "-" else value

    def _coalesce(self, node: Any, pointer: Any) -> Any:
        left = self.eval(node.children[0], pointer)
        return left if left is not None else self.eval(node.children[1], pointer)

    def _rel(self, node: Any, pointer: Any) -> Any:
        """``a < b < c`` is ``a < b && b < c`` when written without parentheses."""
        chain: list[tuple[Any, str]] = []
        current = node
        while getattr(current, "data", None) == "rel":
            left, op, right = current.children
            chain.append((right, str(op)))
            current = left
        operands = [current, *(r for r, _ in reversed(chain))]
        ops = [op for _, op in reversed(chain)]
        left_value = self.eval(operands[0], pointer)
        for op, right_node in zip(ops, operands[1:], strict=True):
            right_value = self.eval(right_node, pointer)
            if not _compare(op, left_value, right_value):
                return False
            left_value = right_value
        return True

    def _binop(self, node: Any, pointer: Any) -> Any:
        left_node, op_token, right_node = node.children
        op = str(op_token)
        left = self.eval(left_node, pointer)
        right = self.eval(right_node, pointer)
        if op in ("==", "!="):
            return _equal(left, right) == (op == "==")
        if op == "in":
            if isinstance(right, list):
                return any(_equal(left, item) for item in right)
            raise EvalError(f"operator in not defined on {_type(right)}")
        return _arithmetic(op, left, right)

    def _index(self, node: Any, pointer: Any) -> Any:
        seq = self.eval(node.children[0], pointer)
        index = self.eval(node.children[1], pointer)
        if isinstance(seq, list | str):
            if not isinstance(index, int) or isinstance(index, bool):
                raise EvalError(f"cannot use {_type(index)} as index to {_type(seq)}")
            position = index + len(seq) if index < 0 else index
            if not 0 <= position < len(seq):
                raise EvalError(f"index out of range: {index} (array length is {len(seq)})")
            return seq[position]
        raise EvalError(f"cannot fetch {index} from {_type(seq)}")

    # --- calls -----------------------------------------------------------------------------

    def _call(self, node: Any, pointer: Any) -> Any:
        name = str(node.children[0])
        arg_nodes = [c for c in node.children[1:] if c is not None]
        if name in PREDICATES:
            return self._predicate(name, arg_nodes, pointer)
        args = [self.eval(a, pointer) for a in arg_nodes]
        return _call(name, args, self.result)

    def _predicate(self, name: str, arg_nodes: Sequence[Any], pointer: Any) -> Any:
        items = self.eval(arg_nodes[0], pointer)
        if not isinstance(items, list):
            raise EvalError(f"cannot iterate over {_type(items)}")
        predicate = arg_nodes[1]
        if name == "map":
            return [self.eval(predicate, item) for item in items]
        verdicts = []
        for item in items:
            verdict = self.eval(predicate, item)
            if not isinstance(verdict, bool):
                raise EvalError(f"predicate should return boolean (got {_type(verdict)})")
            verdicts.append(verdict)
        if name == "all":
            return all(verdicts)
        if name == "any":
            return any(verdicts)
        if name == "none":
            return not any(verdicts)
        if name == "one":
            return sum(verdicts) == 1
        if name == "count":
            return sum(verdicts)
        return [item for item, keep in zip(items, verdicts, strict=True) if keep]  # filter


def _compare(op: str, left: Any, right: Any) -> bool:
    if (_number(left) and _number(right)) or (isinstance(left, str) and isinstance(right, str)):
        if op == "<":
            return bool(left < right)
        if op == ">":
            return bool(left > right)
        if op == "<=":
            return bool(left <= right)
        return bool(left >= right)
    raise EvalError(f"invalid operation: {op} (mismatched types {_type(left)} and {_type(right)})")


def _equal(left: Any, right: Any) -> bool:
    if _number(left) and _number(right):
        return bool(left == right)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_equal, left, right))
    return type(left) is type(right) and bool(left == right)


def _arithmetic(op: str, left: Any, right: Any) -> Any:
    if op == "+" and isinstance(left, str) and isinstance(right, str):
        return left + right
    mismatch = f"invalid operation: {op} (mismatched types {_type(left)} and {_type(right)})"
    if not (_number(left) and _number(right)):
        raise EvalError(mismatch)
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if op == "/":
        a, b = float(left), float(right)
        if b == 0:  # Go float division: ±Inf, or NaN for 0/0
            return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a)
        return a / b
    if op == "%":
        if not (isinstance(left, int) and isinstance(right, int)):
            raise EvalError(mismatch)
        if right == 0:
            raise EvalError("integer divide by zero")
        return int(math.fmod(left, right))  # Go truncates toward zero
    try:
        return float(left) ** float(right)  # ** and ^ return float64
    except (OverflowError, ZeroDivisionError):
        return math.inf


def _call(name: str, args: list[Any], result: Any) -> Any:
    def arity(n: int) -> None:
        if len(args) != n:
            raise EvalError(f"too {'many' if len(args) > n else 'few'} arguments to call {name}")

    if name == "len":
        arity(1)
        if isinstance(args[0], list | str):
            return len(args[0])
        raise EvalError(f"invalid argument for len (type {_type(args[0])})")
    if name in ("isNaN", "isInf"):
        arity(1)
        value = _float(args[0], name)
        return math.isnan(value) if name == "isNaN" else math.isinf(value)
    if name == "asInt":
        arity(1)
        return _as_int(args[0])
    if name == "asFloat":
        arity(1)
        return _as_float(args[0])
    if name == "isNil":  # Argo's isNilFunc ignores its argument: is the *result* nil?
        arity(1)
        return result is None
    if name == "default":  # Argo's defaultFunc: the result unless it is nil
        arity(2)
        return args[1] if result is None else result
    if name == "abs":
        arity(1)
        if not _number(args[0]):
            raise EvalError(f"invalid argument for abs (type {_type(args[0])})")
        return abs(args[0])
    values = args[0] if len(args) == 1 and isinstance(args[0], list) else args
    if not values and name != "sum":
        raise EvalError(f"not enough arguments to call {name}")
    if not all(_number(v) for v in values):
        raise EvalError(f"invalid argument for {name}")
    if name == "sum":
        return sum(values)
    return min(values) if name == "min" else max(values)

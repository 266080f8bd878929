"""What Argo Rollouts' Prometheus provider hands a condition as ``result``.

The provider (argoproj/argo-rollouts ``metricproviders/prometheus/prometheus.go``,
``processResponse``) runs an instant query, or a range query when ``rangeQuery`` is set. A
``model.Scalar`` becomes a float64; a ``model.Vector`` (instant vector) or ``model.Matrix``
(range vector, subquery, any range query) becomes a []float64 of every sample's value; any other
type (a string) is an error. Which of these a query returns follows from its PromQL AST:
number literals, ``scalar()``/``time()``-like functions and arithmetic between scalars are
scalars; selectors, aggregations and vector functions are vectors; range selectors and
subqueries are matrices.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Literal

#: An Argo Rollouts argument placeholder (``{{args.window}}``) in a query or a condition.
PLACEHOLDER = re.compile(r"\{\{[^{}]*\}\}")

Kind = Literal["scalar", "list", "string"]

_DURATION_SLOT = re.compile(r"(\[\s*|offset\s+|:\s*)\{\{[^{}]*\}\}")
_MAX_DEPTH = 256


def _kind(node: Any, depth: int = 0) -> str | None:
    import promql_parser as p

    if depth > _MAX_DEPTH:
        return None
    if isinstance(node, p.NumberLiteral):
        return "scalar"
    if isinstance(node, p.StringLiteral):
        return "string"
    if isinstance(node, p.VectorSelector | p.AggregateExpr):
        return "vector"
    if isinstance(node, p.MatrixSelector | p.SubqueryExpr):
        return "matrix"
    if isinstance(node, p.Call):
        kind = node.func.return_type
        for value_type, name in (
            (p.ValueType.Scalar, "scalar"),
            (p.ValueType.Vector, "vector"),
            (p.ValueType.Matrix, "matrix"),
            (p.ValueType.String, "string"),
        ):
            if kind == value_type:
                return name
        return None
    if isinstance(node, p.ParenExpr | p.UnaryExpr):
        return _kind(node.expr, depth + 1)
    if isinstance(node, p.BinaryExpr):
        sides = (_kind(node.lhs, depth + 1), _kind(node.rhs, depth + 1))
        if None in sides:
            return None
        return "scalar" if sides == ("scalar", "scalar") else "vector"
    return None


@lru_cache(maxsize=1024)
def query_kind(query: str, range_query: bool = False) -> Kind | None:
    """``scalar``, ``list`` or ``string`` for the provider's ``result``; None when unknown.

    ``{{...}}`` placeholders are replaced by stand-ins first (a number, then a name), as
    ``rollouts.promql`` does; a query that does not parse either way is unknown.
    """
    from servegate import promql

    if range_query:
        return "list"
    query = _DURATION_SLOT.sub(lambda m: m[1] + "5m", query)
    for stand_in in ("1", "x1"):
        node = promql.parse(PLACEHOLDER.sub(stand_in, query))
        if node is None:
            continue
        kind = _kind(node)
        if kind is None:
            return None
        return "list" if kind in ("vector", "matrix") else kind  # type: ignore[return-value]
    return None


_KEEPS_ELEMENTS = frozenset({"+", "-", "*", "/", "%", "^", "atan2"})
"""Arithmetic between a vector and a scalar keeps every element of the vector."""


def _never_empty(node: Any, depth: int = 0) -> bool:
    import promql_parser as p

    if depth > _MAX_DEPTH:
        return False
    if isinstance(node, p.ParenExpr):
        return _never_empty(node.expr, depth + 1)
    if isinstance(node, p.Call):
        return str(node.func.name) == "vector"
    if isinstance(node, p.BinaryExpr):
        op = str(node.op)
        if op == "or":
            return _never_empty(node.lhs, depth + 1) or _never_empty(node.rhs, depth + 1)
        if op in _KEEPS_ELEMENTS:
            sides = ((node.lhs, node.rhs), (node.rhs, node.lhs))
            return any(
                _kind(scalar, depth + 1) == "scalar" and _never_empty(vector, depth + 1)
                for scalar, vector in sides
            )
    return False


@lru_cache(maxsize=1024)
def never_empty(query: str) -> bool:
    """Whether an instant query's vector always holds an element: ``... or vector(0)`` (the
    usual guard against no data; Prometheus ``or`` adds the right side's elements whose labels
    the left side lacks, so an empty left gives ``vector(0)``), or such a vector with scalar
    arithmetic. False when unsure."""
    from servegate import promql

    query = _DURATION_SLOT.sub(lambda m: m[1] + "5m", query)
    for stand_in in ("1", "x1"):
        node = promql.parse(PLACEHOLDER.sub(stand_in, query))
        if node is not None:
            return _never_empty(node)
    return False

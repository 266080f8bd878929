"""Argo Rollouts analysis metrics and their arguments, as the rollouts rules read them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from servegate.resource import FieldPath, Resource, as_dict
from servegate.rules.rollouts._promql_type import query_kind

ANALYSIS_KINDS = frozenset({"AnalysisTemplate", "ClusterAnalysisTemplate", "AnalysisRun"})
ARG_REF = re.compile(r"\{\{\s*args\.([A-Za-z0-9_.-]+?)\s*\}\}")


def metrics(r: Resource) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    found = r.spec.get("metrics")
    if not isinstance(found, list):
        return
    for i, metric in enumerate(found):
        if isinstance(metric, dict):
            yield ("spec", "metrics", i), metric


def provider(metric: dict[str, Any]) -> str | None:
    """The provider's key (prometheus, job, web...), or None."""
    providers = mapping(metric.get("provider"))
    return next(iter(providers), None)


def who(r: Resource, metric: dict[str, Any]) -> str:
    return f"{r.kind} {r.name!r} metric {metric.get('name', '?')!r}"


def strings(value: Any, path: FieldPath) -> Iterator[tuple[FieldPath, str]]:
    """Every string inside ``value`` with its path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, (*path, str(key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from strings(item, (*path, i))


mapping = as_dict


CONDITIONS = ("successCondition", "failureCondition")


def prometheus_result(metric: dict[str, Any]) -> str | None:
    """``scalar``, ``list`` or ``string``: what ``result`` is for a Prometheus metric; None
    for other providers or a query whose type is unknown (see ``_promql_type``)."""
    prom = mapping(metric.get("provider")).get("prometheus")
    if not isinstance(prom, dict):
        return None
    query = prom.get("query")
    if not isinstance(query, str) or not query.strip():
        return None
    return query_kind(query, range_query=isinstance(prom.get("rangeQuery"), dict))

"""Small accessors the argocd rules share."""

from __future__ import annotations

from servegate.resource import Resource, as_dict, as_list


def who(r: Resource) -> str:
    return f"{r.kind} {r.name!r}"


mapping = as_dict

items = as_list

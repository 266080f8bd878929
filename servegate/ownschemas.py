"""Validate servegate's own files (servegate.yaml, environment profiles) against schemas/.

jsonschema-rs, not jsonschema: it imports in milliseconds, which matters on the pre-commit
path where these files are read on every run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

from servegate.datafiles import data_dir


@cache
def _validator(name: str) -> Any:
    import jsonschema_rs

    schema = json.loads((data_dir("schemas") / name).read_text(encoding="utf-8"))
    return jsonschema_rs.validator_for(schema)


def first_error(
    name: str, data: Any, skip: Callable[[list[str | int]], bool] = lambda _: False
) -> tuple[str, str] | None:
    """(where, message) of the first error of ``data`` against ``schemas/<name>``, if any;
    errors whose path ``skip`` accepts are left to the caller."""
    errors = [e for e in _validator(name).iter_errors(data) if not skip(list(e.instance_path))]
    if not errors:
        return None
    error = min(errors, key=lambda e: [str(p) for p in e.instance_path])
    where = ".".join(str(p) for p in error.instance_path) or "(top level)"
    return where, str(error.message)


def errors(name: str, data: Any) -> list[tuple[list[str | int], str]]:
    """(path, message) of every error of ``data`` against ``schemas/<name>``, sorted by path;
    an unexpected key's path ends at that key (where a reader looks for the typo)."""
    found = []
    for error in _validator(name).iter_errors(data):
        path = list(error.instance_path)
        unexpected = getattr(error.kind, "unexpected", None)
        if isinstance(unexpected, list) and unexpected:
            path.append(str(unexpected[0]))
        found.append((path, str(error.message)))
    return sorted(found, key=lambda item: [str(p) for p in item[0]])

"""Locate servegate's data folders (schemas, policies, environments, generator, argo).

In a wheel they live in ``servegate/_data/<name>``; in a checkout (editable install, tests)
they are the top-level folders beside the package.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def data_dir(name: str) -> Path:
    """Return the folder holding servegate's data ``name`` (e.g. ``"schemas"``)."""
    bundled = _PACKAGE / "_data" / name
    if bundled.is_dir():
        return bundled
    checkout = _PACKAGE.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"servegate data folder {name!r} is missing from the installation")

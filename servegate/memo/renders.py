"""kustomize's output per root, so a root whose inputs are unchanged is not rendered again.

Key (``servegate.render.render_keys``, beside the code it describes): a sha256 over every
file kustomize may read for the root (the files discovery lists, plus every file under every
folder of its kustomization closure, since ``LoadRestrictionsRootOnly`` confines kustomize to
those), the kubectl/kustomize version, the flags, the absolute repo root and the wrapper layout.
A changed, added or removed input changes the key, so a stale entry is never read. Entry: the
output (or kustomize's cleaned error), the wrapper folder its origin paths are relative to,
and the output already parsed when marshal holds it exactly (no timestamps). A render that
did not depend on the hashed inputs alone (a timeout, content from outside the repo) is never
stored.
"""

from __future__ import annotations

import marshal
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from servegate.memo import Memo

#: The stage and its format version (2: one memo format for every stage).
STAGE, VERSION = "renders", 2


@dataclass(frozen=True, slots=True)
class Entry:
    """A remembered render: kustomize's stdout (or its cleaned error) and its wrapper."""

    output: str | None
    error: str | None
    wrapper: str
    objects: list[Any] | None = None
    """``output`` parsed, when marshal holds it exactly (read back about 20x faster than
    parsing the YAML again)."""


class RenderMemo:
    def __init__(self, memo: Memo) -> None:
        store = memo.store(STAGE, VERSION)
        assert store is not None, "only a memo that is on remembers renders"
        self._store = store

    @property
    def hits(self) -> int:
        return self._store.hits

    def has(self, key: str) -> bool:
        return self._store.has(key)

    def get(self, key: str) -> Entry | None:
        data = self._store.get(key)
        try:
            output, error, wrapper, objects = data
        except (TypeError, ValueError):
            return None
        if not isinstance(wrapper, str) or (output is None) == (error is None):
            return None
        return Entry(output, error, wrapper, objects if isinstance(objects, list) else None)

    def put(self, key: str, entry: Entry) -> None:
        objects = entry.objects if holds(entry.objects) else None
        self._store.put(key, (entry.output, entry.error, entry.wrapper, objects))


def holds(objects: list[Any] | None) -> bool:
    """Whether the memo keeps ``objects`` exactly (marshal holds only plain data)."""
    if objects is None:
        return False
    try:
        marshal.dumps(objects)
    except ValueError:
        return False
    return True


def parsed(output: str | None) -> list[Any] | None:
    """kustomize ``output`` parsed as the engine parses it, when the memo can keep it exactly;
    else None (the engine then parses the YAML text itself)."""
    if output is None:
        return None
    import yaml

    from servegate.yamlsafe import load_plain

    try:
        objects = load_plain(output)
    except (yaml.YAMLError, RecursionError, ValueError):
        return None
    return objects if holds(objects) else None

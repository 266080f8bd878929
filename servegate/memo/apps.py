"""The Argo CD Applications and ApplicationSets each file of a repo holds
(``servegate.argocd_apps.records``), so a warm check reads no file to find them.

One entry per repo (key: sha256 of its absolute path): a file's digest
(``servegate.memo.digests``) and the dialect it is decoded in -> the file's records. A record
is reused only for the digest it was made from, so a changed file is read again; with the
memo off every file is read.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from servegate.memo import Memo
    from servegate.memo.store import Store

#: The stage and its format version (bump when ``argocd_apps.records`` changes its output).
STAGE, VERSION = "apps", 3  # 3: a record keeps the line of templatePatch
#: Entries kept per repo before old ones are dropped.
LIMIT = 50_000


class AppsMemo:
    """The records of each file by its content digest, for one repo."""

    def __init__(self, memo: Memo, root: Path) -> None:
        self._store: Store | None = memo.store(STAGE, VERSION)
        self._key = hashlib.sha256(os.fsencode(str(root))).hexdigest()
        self._known: dict[bytes, list[dict[str, Any]]] = {}
        self._fresh: dict[bytes, list[dict[str, Any]]] = {}
        if self._store is not None:
            loaded = self._store.get(self._key)
            if isinstance(loaded, dict):
                self._known = loaded

    @property
    def enabled(self) -> bool:
        return self._store is not None

    def get(self, digest: bytes) -> list[dict[str, Any]] | None:
        found = self._known.get(digest)
        if isinstance(found, list):
            self._fresh[digest] = found
            return found
        return None

    def put(self, digest: bytes, found: list[dict[str, Any]]) -> None:
        self._fresh[digest] = found

    def save(self) -> None:
        if self._store is None or self._fresh == self._known:
            return
        merged = {**self._known, **self._fresh} if len(self._known) < LIMIT else self._fresh
        self._store.put(self._key, merged)

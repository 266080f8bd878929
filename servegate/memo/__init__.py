"""What earlier runs computed, reused when nothing it depends on changed: one layer.

``Memo`` is the one object a check passes down; ``store.py`` is the one on-disk format and
folder layout. One module per memoised stage says what it keeps and what its key covers:
``digests`` (file digests and their stat index), ``parses`` (strictly parsed files),
``renders`` (kustomize output per root; its key is ``servegate.render.render_keys``),
``results`` (a unit's findings; key: its inputs and its plan), ``paths`` (the paths each
kustomization names, for ``--changed-files``), ``apps`` (the Argo CD Applications each file
holds) and ``scopes`` (a whole repo's discovery and its roots' render keys, by the repo's tree
fingerprint). ``Memo.off()`` (``--no-cache``) computes no
key, reads nothing and writes nothing. ``servegate cache info|clear`` shows and resets it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from servegate.memo.store import Store, Writer, cache_dir

if TYPE_CHECKING:
    from servegate.memo.digests import InputHasher
    from servegate.memo.parses import ParseMemo


class Memo:
    """What earlier runs computed, for one check: the stores of its stages and the per-run
    memos in front of them (file digests, parsed files). ``Memo.off()`` has no folder."""

    def __init__(self, directory: Path | None, *, background: bool = False) -> None:
        self.directory = directory
        self._stores: dict[str, Store] = {}
        self._hashers: dict[str, InputHasher] = {}
        self._parses: ParseMemo | None = None
        self._writer = Writer() if background else None
        """With ``background``: writes every store's entries in a thread of its own (a cold
        check writes thousands); ``save`` waits for it."""
        self.trees: dict[str, str] = {}
        """The tree fingerprint of each repo root (by its path) this run computed
        (``servegate.memo.scopes``): stages whose key covers only the repo's files may use it."""
        self.render_keys: dict[str, dict[str, str]] = {}
        """The render keys ``servegate.memo.scopes`` read or remembered this run, by entry key:
        asked once per Application's settings too, read once."""

    @classmethod
    def off(cls) -> Memo:
        """No memo: no key is computed, nothing is read or written (``--no-cache``)."""
        return cls(None)

    @classmethod
    def default(cls) -> Memo:
        """The memo in ``cache_dir()``, written in the background until ``save``."""
        return cls(cache_dir(), background=True)

    @property
    def enabled(self) -> bool:
        return self.directory is not None

    def store(self, name: str, version: int) -> Store | None:
        """The store of stage ``name`` at format ``version``; None when the memo is off."""
        if self.directory is None:
            return None
        found = self._stores.get(name)
        if found is None:
            found = self._stores[name] = Store(self.directory, name, version, self._writer)
        return found

    def hasher(self, root: Path) -> InputHasher:
        """The file digests of the repo at ``root``, each computed once per run (and, with the
        memo on, remembered across runs by a stat index)."""
        from servegate.memo.digests import InputHasher

        found = self._hashers.get(str(root))
        if found is None:
            from servegate.memo.digests import STAGE, VERSION

            store = self.store(STAGE, VERSION)
            found = self._hashers[str(root)] = InputHasher(root, store)
        return found

    @property
    def parses(self) -> ParseMemo:
        """Strictly parsed files by content (``servegate.memo.parses``)."""
        from servegate.memo.parses import ParseMemo

        if self._parses is None:
            from servegate.memo.parses import STAGE, VERSION

            self._parses = ParseMemo(self.store(STAGE, VERSION))
        return self._parses

    def save(self) -> None:
        """Write what the per-run memos learnt (the digests' stat indexes), and wait until
        every entry of the run is written."""
        for hasher in self._hashers.values():
            hasher.save()
        if self._writer is not None:
            self._writer.flush()

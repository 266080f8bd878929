"""Where the fix belongs: which source line wrote each field of an object kustomize rendered.

kustomize records which file an object came from (``buildMetadata: [originAnnotations]``) and,
at most, which transformers touched it, never which field a patch or replacement set. So, for an
object with a finding (never for the others: this is lazy), the build is replayed on a located
copy of the source document: each transformation of each kustomization between the source file
and the rendered root, as kustomize applies it (:mod:`.builds`, :mod:`.steps`), writes its own
file and line into the fields it sets (:mod:`.smp`, :mod:`.jsonpatch`, :mod:`.replacements`) and
remembers the keys it removes. A finding's field path then resolves to the last writer of that
field, or of the deepest part of it that exists, or to the patch that removed it.

The replay is checked against the object kustomize actually produced: the name, namespace and
kind must agree, and so must every node along a finding's path (present or absent, mapping,
list of the same length, or scalar). Where it does not, something the replay does not model
changed the object, and the caller falls back to the source document's lines.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the replay's modules load with the first finding that asks (lazily)
    from servegate.provenance.builds import Layers
    from servegate.provenance.tree import FieldPath, Loc, Node
    from servegate.sources import SourceFiles
    from servegate.yamlsafe import Document

__all__ = ["Trace", "Tracer"]


def _give_up() -> tuple[type[BaseException], ...]:
    """What a replay of input kustomize would refuse can raise: such a replay is given up."""
    from servegate.provenance.jsonpatch import PatchFailed
    from servegate.provenance.select import LabelSelectorError

    return (
        PatchFailed,
        LabelSelectorError,
        KeyError,
        IndexError,
        TypeError,
        ValueError,
        RecursionError,
    )


class Tracer:
    """Replays, on demand, the build of the objects of one kustomize root."""

    def __init__(
        self, root: Path, kustomizations: dict[str, Any], sources: SourceFiles, kdir: str
    ) -> None:
        self.root = root
        self.kustomizations = kustomizations
        self.sources = sources
        self.kdir = kdir
        self._layers: Layers | None = None

    def trace(self, body: Any, file: str, document: Document, within: FieldPath) -> Trace:
        """The (not yet computed) trace of rendered ``body``, read from ``document`` of
        ``file`` at ``within`` (the item of a list)."""
        return Trace(self, body, file, document, within)

    def replay(self, body: Any, file: str, document: Document, within: FieldPath) -> Node | None:
        from servegate.provenance import tree
        from servegate.provenance.builds import Layers, sequences
        from servegate.provenance.select import ResId
        from servegate.provenance.steps import Tracked

        if self._layers is None:
            self._layers = Layers(self.root, self.kustomizations, self.sources)
        layer = self._layers.layer(self.kdir)
        if layer is None:
            return None
        data: Any = document.data
        for part in within:
            data = data[part]
        want = ResId.of(body)
        for steps in sequences(layer, file):
            root = tree.build(data, lambda p: (file, document.line_of((*within, *p))))
            obj = Tracked(root, body)
            for step in steps:
                step.apply(obj)
            got = obj.current()
            if (got.kind, got.name, got.namespace) == (want.kind, want.name, want.namespace):
                return obj.root
        return None


class Trace:
    """Where each field of one rendered object was written; computed on first use."""

    __slots__ = ("_body", "_document", "_done", "_file", "_root", "_tracer", "_within")

    def __init__(
        self, tracer: Tracer, body: Any, file: str, document: Document, within: FieldPath
    ) -> None:
        self._tracer = tracer
        self._body = body
        self._file = file
        self._document = document
        self._within = within
        self._root: Node | None = None
        self._done = False

    @property
    def within(self) -> FieldPath:
        return self._within

    def _replayed(self) -> Node | None:
        if not self._done:
            self._done = True
            try:
                self._root = self._tracer.replay(
                    self._body, self._file, self._document, self._within
                )
            except _give_up():
                self._root = None
        return self._root

    def locate(self, path: FieldPath) -> Loc | None:
        """File and line of the source that wrote ``path`` (a path in the source document,
        the object's ``within`` first); None when the replay cannot say."""
        from servegate.provenance import tree

        return self._ask(tree.locate, path)

    def removed(self, path: FieldPath) -> Loc | None:
        """File and line of the patch that removed the field at ``path`` (or a part of it);
        None when nothing removed it or the replay cannot say."""
        from servegate.provenance import tree

        return self._ask(tree.removed, path)

    def _ask(
        self, question: Callable[[Node, FieldPath, Any], Loc | None], path: FieldPath
    ) -> Loc | None:
        if path[: len(self._within)] != self._within:
            return None
        root = self._replayed()
        if root is None:
            return None
        return question(root, path[len(self._within) :], self._body)

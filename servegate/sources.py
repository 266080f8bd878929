"""The repo's source files, each read and strictly parsed at most once per run, and decoded
as the tool that consumes it decodes it.

A file the cluster receives as it is (a plain manifest applied by kubectl or an Argo CD
directory app) and a kustomization file (kustomize reads those with sigs.k8s.io/yaml,
``api/types/kustomization.go``: ``Unmarshal``) are decoded in the ``KUBERNETES`` dialect; a file
kustomize reads as a resource or patch in the ``KUSTOMIZE`` dialect (``servegate.yamlsafe``).
All files of one run share one ``Budget`` of bytes, documents and alias-expanded nodes (the
run's ``ParseMemo``, ``servegate.memo.parses``, holds it).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from servegate.model import Finding
from servegate.rawfiles import TooLarge, read_bytes
from servegate.rules import problem_rule
from servegate.yamlsafe import KUBERNETES, KUSTOMIZE, LoadResult, Problem, YAMLProblem

if TYPE_CHECKING:
    from servegate.memo import Memo

_DIRECTIVE = re.compile(rb"^%[^\s#]", re.M)
"""A directive line (``%YAML 1.1``, ``%TAG ...``); a plain scalar cannot start with ``%``."""
_KUSTOMIZATION_NAMES = frozenset({"kustomization.yaml", "kustomization.yml", "Kustomization"})
"""``servegate.discover.KUSTOMIZATION_NAMES`` (discover imports this module)."""


def dialect_for(name: str | None) -> str:
    """How a file is decoded when nothing says it is applied as it is: kustomization files
    as Kubernetes decodes them, anything else as kustomize reads its resources."""
    if name is None or os.path.basename(name) in _KUSTOMIZATION_NAMES:
        return KUBERNETES
    return KUSTOMIZE


class NotLoaded(Exception):
    """A file not read before ``SourceFiles.close`` was asked for."""


class SourceFiles:
    """Strictly parsed YAML files of one repo, by path relative to its root; ``plain`` names
    the files the cluster receives as they are (decoded as Kubernetes decodes them)."""

    def __init__(self, root: Path, plain: Iterable[str] = (), memo: Memo | None = None) -> None:
        from servegate.memo import Memo

        self.root = root
        self._base = str(root)
        self._plain = frozenset(plain)
        self._loaded: dict[str, LoadResult] = {}
        self._parses = (memo or Memo.off()).parses
        self._closed = False

    def dialect_of(self, rel: str) -> str:
        return KUBERNETES if rel in self._plain else dialect_for(rel)

    def load(self, rel: str) -> LoadResult:
        """``rel`` parsed (read once per run). ``NotLoaded`` after ``close`` when it was not
        read before."""
        found = self._loaded.get(rel)
        if found is None:
            if self._closed:
                raise NotLoaded(rel)
            found = self._read(rel)
            self._loaded[rel] = found
        return found

    def close(self) -> None:
        """From now on, serve only the files already read: a forked child of the check
        (``servegate.fanout``) may not spend the run's YAML budget, read the memo, or load a
        file the parent would not count."""
        self._closed = True

    def _read(self, rel: str) -> LoadResult:
        path = str(self.root / rel) if rel.endswith(("/", "/.")) else os.path.join(self._base, rel)
        try:
            raw = read_bytes(path, limit=64 * 1024 * 1024)
        except TooLarge:
            return LoadResult([], [YAMLProblem(Problem.TOO_LARGE, "file is over 64 MiB")])
        except IsADirectoryError:
            return LoadResult([], [YAMLProblem(Problem.UNREADABLE, "is a directory, not a file")])
        except OSError as err:
            return LoadResult(
                [], [YAMLProblem(Problem.UNREADABLE, f"cannot read file: {err.strerror}")]
            )
        loaded = self._parses.load(raw, rel, self.dialect_of(rel))
        if rel in self._plain and b"%" in raw:
            directive = _DIRECTIVE.search(raw)
            if directive is not None:
                line = raw.count(b"\n", 0, directive.start()) + 1
                problem = YAMLProblem(
                    Problem.SYNTAX,
                    "a %YAML or %TAG directive: kubectl and Argo CD split the file at its --- "
                    "lines and decode each part alone, so the directive stands without a "
                    "document and they refuse the whole file ('did not find expected "
                    "<document start>')",
                    line,
                )
                return LoadResult(loaded.documents, [*loaded.problems, problem])
        return loaded

    def findings(self, rel: str) -> list[Finding]:
        """The yaml.* findings of one file."""
        return [
            problem_rule(p.kind).finding(p.message, rel, p.line) for p in self.load(rel).problems
        ]

    @property
    def count(self) -> int:
        return len(self._loaded)

    def loaded(self, rel: str) -> bool:
        """Whether ``rel`` was loaded so far (without copying ``names``)."""
        return rel in self._loaded

    @property
    def names(self) -> set[str]:
        """The files loaded so far."""
        return set(self._loaded)

    @property
    def problems(self) -> set[str]:
        """The files loaded so far that have yaml.* findings."""
        return {rel for rel, result in self._loaded.items() if result.problems}

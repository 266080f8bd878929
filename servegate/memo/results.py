"""What checking a unit found, so a unit whose inputs and plan are unchanged is not loaded
or checked again (``UnitResult``: its findings before its plan is applied, and counts).

Key (``unit_keys``): a sha256 over the unit's inputs (for a root, its render key, which covers
every file kustomize may read for it; for a plain folder, the content of its files) and over
everything else its findings depend on: servegate's own code and data files (path, size and
modification time of each), the unit's plan (``Plan.key``: Kubernetes version, Pod Security
level, environment profile, parameters, the rules that run, ``--select``/``--ignore``) and the
content of extra CRD folders. What a unit's InferenceServices take from other units' KServe
runtimes is not in the key: the entry records the digest of those runtimes
(``UnitResult.depends``), and the engine checks the unit again when they changed
(``servegate.crossunit``). Severities and servegate.yaml exemptions are not part of it:
they are applied to the findings afterwards, every run. A unit whose files have a YAML problem,
or whose root could not be rendered for a reason outside kustomize, is never stored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from servegate.memo.code import code_fingerprint
from servegate.memo.plain import finding, finding_data
from servegate.model import Unit, UnitResult

if TYPE_CHECKING:
    from servegate.discover import Discovery
    from servegate.memo import Memo
    from servegate.memo.digests import InputHasher
    from servegate.plan import Planner

#: The stage and its format version (bump when the entry or the key recipe changes).
STAGE, VERSION = "results", 7  # 5: cluster facts; 6, 7: crossunit (runtimes, Namespaces)


def tree_digest(folders: Sequence[Path]) -> str:
    """The content of every file under ``folders`` (extra CRDs), for the context key."""
    digest = hashlib.sha256()
    for folder in folders:
        paths = (
            [folder] if folder.is_file() else sorted(p for p in folder.rglob("*") if p.is_file())
        )
        for path in paths:
            try:
                digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
            except OSError:
                digest.update(str(path).encode() + b"\0unreadable\0")
    return digest.hexdigest()


def context_key(parts: Iterable[Any]) -> str:
    """A digest of JSON-able ``parts`` (with servegate's code fingerprint)."""
    text = json.dumps([code_fingerprint(), *parts], sort_keys=True, default=repr)
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def unit_key(context: str, inputs: str) -> str:
    return hashlib.sha256(f"{STAGE}{VERSION}\0{context}\0{inputs}".encode()).hexdigest()


def unit_keys(
    discovery: Discovery,
    planner: Planner,
    environments: Mapping[str, str | None],
    crd_dirs: Sequence[Path],
    hasher: InputHasher,
    render_keys: Mapping[str, str],
) -> dict[str, str]:
    """The key of every unit: its inputs (for a root, its render key) and its plan."""
    from servegate.load import plain_folders

    crds = tree_digest(crd_dirs) if crd_dirs else ""
    contexts: dict[str | None, str] = {}

    def context(env: str | None) -> str:
        found = contexts.get(env)
        if found is None:
            found = contexts[env] = context_key(
                [*planner.plan(env).key, crds, planner.kserve_version, planner.trust.repo_weakening]
            )
        return found

    keys = {
        Unit.root_id(kdir): unit_key(context(environments[Unit.root_id(kdir)]), key)
        for kdir, key in render_keys.items()
    }
    for (folder, env), files in plain_folders(discovery, planner).items():
        inputs = "".join(f"{rel}\0{hasher.file(rel).hex()}\0" for rel in sorted(files))
        keys[Unit.plain_id(folder, env)] = unit_key(context(env), inputs)
    return keys


class ResultMemo:
    """UnitResults by key (``unit_key``)."""

    def __init__(self, memo: Memo) -> None:
        store = memo.store(STAGE, VERSION)
        assert store is not None, "only a memo that is on remembers results"
        self._store = store

    def get(self, key: str) -> UnitResult | None:
        data = self._store.get(key)
        try:
            findings, resources, files, facts, runtimes, asks, uses, depends = data
            return UnitResult(
                [finding(item) for item in findings],
                int(resources),
                [str(f) for f in files],
                [str(f) for f in facts],
                [dict(r) for r in runtimes],
                [str(a) for a in asks],
                [str(u) for u in uses],
                str(depends),
            )
        except (ValueError, KeyError, TypeError, IndexError):
            return None  # absent or damaged: check again (and overwrite)

    def put(self, key: str, result: UnitResult) -> None:
        findings = [finding_data(f) for f in result.findings]
        self._store.put(
            key,
            (
                findings,
                result.resources,
                result.files,
                result.facts,
                result.runtimes,
                result.asks,
                result.uses,
                result.depends,
            ),
        )

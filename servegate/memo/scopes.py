"""What discovery found in a whole repo (``servegate.scope.discover_scope``: the kustomizations,
roots, plain files, charts, findings, and what its Argo CD Applications deploy), by the repo's
whole tree, so that a check of an unchanged repo reads no kustomization and no Application.

Key: servegate's code fingerprint (``servegate.memo.code``), the stage version, the repo root,
the operator's paths (repo-relative) and whether Applications are followed, and the **tree
fingerprint** (``tree_fingerprint``): every entry below the root but the repo's own ``.git``
folder (nested ``.git``, ``.hg`` and ``.svn`` folders are walked: kustomize and Argo CD read
them like any other), by path and type; each file's content digest
(``servegate.memo.digests``: the stat index) or, for a file discovery never reads as text, its
full stat; each symlink's target and real path; and ``.git/config`` (the remotes Applications
are compared with). Any change to any of them is a miss. Not remembered (the gate fails
closed): a repo whose discovery depends on what is outside it (a symlink leaving the root or
reaching into ``.git``, a reference that escapes it, anything it reads in ``.git``), a tree
that cannot be read in full or holds special files, and a narrowed check.

Entry: the ``Discovery`` as plain data (``servegate.memo.plain``).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from servegate.memo.plain import document, document_data, finding, finding_data, ref, ref_data
from servegate.rules.repo.kustomize_escape import RULE as KUSTOMIZE_ESCAPE
from servegate.rules.repo.remote_base import RULE as REMOTE_BASE
from servegate.rules.repo.symlink_escape import RULE as SYMLINK_ESCAPE

if TYPE_CHECKING:
    from servegate.argocd_apps import AppSource
    from servegate.deployment import Deployment
    from servegate.discover import Discovery, Kustomization
    from servegate.memo import Memo
    from servegate.memo.digests import InputHasher

#: The stage and its format version (bump when the entry or what discovery records changes).
STAGE, VERSION = "scopes", 2  # 2: a finding's data ends with its `unless`
#: The repo's own git folder (its objects can be large): the only folder the walk skips, so a
#: discovery that reads anything in it is never remembered; ``.git/config`` is in the key.
_GIT = ".git"
#: Files discovery may read as text: their content is in the key (any other file: its stat).
_READ_SUFFIXES = (".yaml", ".yml", ".json", "Kustomization")
#: Findings that mean discovery looked outside the repo: such a discovery is never remembered.
_OUTSIDE = frozenset(r.id for r in (KUSTOMIZE_ESCAPE, SYMLINK_ESCAPE, REMOTE_BASE))
#: A file changed this close to now may change again unseen by its stat ("racy git").
_RACY_NS = 2_000_000_000


def tree_fingerprint(root: Path, hasher: InputHasher) -> str | None:
    """A digest of everything below ``root`` that discovery can depend on (see the module
    docstring); None when the tree cannot be fingerprinted: an unreadable folder, a special
    file, a symlink whose real path leaves the root."""
    base = str(root)
    base_real = os.path.realpath(base)
    git_real = os.path.join(base_real, _GIT)
    now = time.time_ns()
    digest = hashlib.sha256(b"servegate-tree-v1")

    def add(*fields: str | bytes) -> None:
        for value in fields:
            raw = value if isinstance(value, bytes) else os.fsencode(value)
            digest.update(b"%d:" % len(raw) + raw)

    stack = [""]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(os.path.join(base, folder) if folder else base) as found:
                listing = sorted(found, key=lambda e: e.name)
        except OSError:
            return None
        for entry in listing:
            rel = f"{folder}/{entry.name}" if folder else entry.name
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                return None
            mode = st.st_mode
            if stat.S_ISLNK(mode):
                try:
                    target = os.readlink(entry.path)
                except OSError:
                    return None
                real = os.path.realpath(entry.path)
                if real != base_real and not real.startswith(base_real + os.sep):
                    return None  # what it reaches is outside the tree this key covers
                if real == git_real or real.startswith(git_real + os.sep):
                    return None  # or inside the repo's .git, which the walk skips
                add(rel, "l", target, real)
            elif stat.S_ISDIR(mode):
                if not folder and entry.name == _GIT:
                    continue  # nested .git, .hg and .svn folders are walked: kustomize reads them
                add(rel, "d")
                stack.append(rel)
            elif not stat.S_ISREG(mode):
                return None  # a FIFO, socket or device: never opened, never remembered
            elif entry.name.endswith(_READ_SUFFIXES) or entry.name.startswith("."):
                add(rel, "f", hasher.file(rel, st))  # lstat is stat here
            else:
                if max(st.st_mtime_ns, st.st_ctime_ns) > now - _RACY_NS:
                    return None  # changed a moment ago: its stat may not show the next change
                sig = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
                add(rel, "s", " ".join(map(str, sig)))
    add(".git/config", "f", hasher.file(".git/config"))
    return digest.hexdigest()


def scope_key(memo: Memo, root: Path, paths: list[str], applications: bool) -> str | None:
    """The key of the whole-repo discovery of ``paths`` (repo-relative) under ``root``; None
    when the memo is off or the tree cannot be fingerprinted."""
    if not memo.enabled:
        return None
    from servegate.memo.code import code_fingerprint

    tree = tree_fingerprint(root, memo.hasher(root))
    if tree is None:
        return None
    memo.trees[str(root)] = tree
    parts = [STAGE, VERSION, code_fingerprint(), str(root), sorted(paths), applications, tree]
    return _digest(parts)


def _digest(parts: list[Any]) -> str:
    """A stable digest of JSON-able ``parts`` (never of marshal's output: it varies with how
    objects are shared in memory)."""
    text = json.dumps(parts, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def _keys_key(tree: str, common: tuple[str, ...]) -> str:
    return _digest([STAGE, VERSION, "render-keys", tree, list(common)])


def known_render_keys(memo: Memo, root: Path, common: tuple[str, ...]) -> dict[str, str] | None:
    """The render keys (``servegate.render.render_keys``) remembered for the roots of the repo
    at ``root`` as its tree is now (this run fingerprinted it), under the same tool, flags and
    wrapper (``common``); None when the tree was not fingerprinted. Sound because a render
    key covers only files of the tree: an unchanged fingerprint means unchanged contents."""
    tree = memo.trees.get(str(root))
    store = memo.store(STAGE, VERSION)
    if tree is None or store is None:
        return None
    entry = _keys_key(tree, common)
    known = memo.render_keys.get(entry)
    if known is None:
        found = store.get(entry)
        valid = isinstance(found, dict) and all(
            type(k) is str and type(v) is str for k, v in found.items()
        )
        known = memo.render_keys[entry] = found if valid else {}
    return known


def remember_render_keys(
    memo: Memo, root: Path, common: tuple[str, ...], keys: dict[str, str]
) -> None:
    """Remember ``keys`` (kustomize root -> render key) for the repo's tree as it is now."""
    tree = memo.trees.get(str(root))
    store = memo.store(STAGE, VERSION)
    if tree is not None and store is not None:
        entry = _keys_key(tree, common)
        memo.render_keys[entry] = keys
        store.put(entry, keys)


def load(memo: Memo, key: str, root: Path) -> Discovery | None:
    """The discovery remembered under ``key``, or None (absent or damaged)."""
    store = memo.store(STAGE, VERSION)
    if store is None:
        return None
    data = store.get(key)
    if data is None:
        return None
    try:
        return _discovery(data, root)
    except (ValueError, TypeError, KeyError, IndexError):
        return None


def save(memo: Memo, key: str, discovery: Discovery) -> None:
    """Remember ``discovery`` under ``key``, unless it looked outside the repo, the tree
    changed while it was discovered (then nothing is remembered for this tree in this run,
    render keys included), or marshal cannot hold it."""
    store = memo.store(STAGE, VERSION)
    if store is None or any(f.rule in _OUTSIDE for f in discovery.findings):
        return
    if any(_in_git(p) for p in _paths_read(discovery)):
        return  # it read the repo's .git, which the tree fingerprint does not cover
    root = str(discovery.root)
    # the run's hasher keeps each digest as first computed: a fresh one stat-checks every
    # file again, so a file edited while discovery ran changes the fingerprint
    again = tree_fingerprint(discovery.root, memo.hasher(discovery.root).again())
    if again is None or again != memo.trees.get(root):
        memo.trees.pop(root, None)
        return
    try:
        data = _discovery_data(discovery)
    except ValueError:
        return
    store.put(key, data)


def _paths_read(d: Discovery) -> Iterator[str]:
    """Every repo-relative path discovery read or will have rendered or loaded."""
    for k in d.kustomizations.values():
        yield k.dir
        yield from k.files
        yield from k.data_files
        yield from k.dirs
    yield from d.yaml_files
    yield from d.charts
    if d.deployed is not None:
        yield from d.deployed.roots
        yield from (a.path for a in d.deployed.actions)


def _in_git(rel: str) -> bool:
    return rel == _GIT or rel.startswith(_GIT + "/")


def _discovery_data(d: Discovery) -> list[Any]:
    return [
        [_kustomization_data(k) for k in d.kustomizations.values()],
        d.roots,
        d.plain_files,
        [finding_data(f) for f in d.findings],
        d.yaml_files,
        d.charts,
        None if d.deployed is None else _deployment_data(d.deployed),
    ]


def _discovery(data: Any, root: Path) -> Discovery:
    from servegate.discover import Discovery

    kustomizations, roots, plain, findings, yaml_files, charts, deployed = data
    found = [_kustomization(k) for k in kustomizations]
    return Discovery(
        root,
        {k.dir: k for k in found},
        _strings(roots),
        _strings(plain),
        [finding(f) for f in findings],
        _strings(yaml_files),
        charts=_strings(charts),
        deployed=None if deployed is None else _deployment(deployed),
    )


def _kustomization_data(k: Kustomization) -> list[Any]:
    patches = [[p.file, document_data(p.document), p.kind, p.name] for p in k.patches]
    doc = None if k.document is None else document_data(k.document)
    return [k.dir, k.file, doc, k.dirs, k.dir_lines, k.files, k.data_files, patches, k.blocked]


def _kustomization(data: Any) -> Kustomization:
    from servegate.discover import Kustomization, PatchDoc

    kdir, kfile, doc, dirs, dir_lines, files, data_files, patches, blocked = data
    return Kustomization(
        str(kdir),
        str(kfile),
        None if doc is None else document(doc),
        _strings(dirs),
        [int(n) for n in dir_lines],
        _strings(files),
        _strings(data_files),
        [PatchDoc(str(f), document(d), kind, name) for f, d, kind, name in patches],
        bool(blocked),
    )


def _deployment_data(d: Deployment) -> list[Any]:
    actions = [
        [a.kind, a.path, None if a.source is None else _source_data(a.source), a.settings]
        for a in d.actions
    ]
    return [actions, [finding_data(f) for f in d.findings], d.roots]


def _deployment(data: Any) -> Deployment:
    from servegate.deployment import Action, Deployment

    actions, findings, roots = data
    return Deployment(
        [
            Action(str(kind), str(path), None if src is None else _source(src), dict(settings))
            for kind, path, src, settings in actions
        ],
        [finding(f) for f in findings],
        _strings(roots),
    )


def _source_data(s: AppSource) -> list[Any]:
    return [
        ref_data(s.app),
        s.file,
        s.line,
        dict(s.source),
        [dict(x) for x in s.sources],
        s.destination_namespace,
        s.via,
        dict(s.lines),
    ]


def _source(data: Any) -> AppSource:
    from servegate.argocd_apps import AppSource

    app, file, line, source, sources, namespace, via, lines = data
    return AppSource(
        ref(app),
        str(file),
        int(line),
        dict(source),
        tuple(dict(x) for x in sources),
        namespace,
        str(via),
        dict(lines),
    )


def _strings(values: Any) -> list[str]:
    if not isinstance(values, list) or not all(type(v) is str for v in values):
        raise TypeError("damaged entry")
    return values

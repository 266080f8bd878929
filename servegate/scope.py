"""What a check covers: discovery narrowed by ``--changed-files``, ``--base`` and ``--shard``.

``discover_scope`` turns the operator's paths and narrowing options into one ``Discovery``:
the kustomize roots and plain manifests to check, and what the repo's Argo CD Applications
deploy beyond them (``servegate.deployed.extend``: overlays they deploy become roots, their
settings, directory rules, charts and generated Applications are recorded for
``servegate.load``). ``--changed-files`` on a whole repo takes a
shortcut that reads only the kustomizations the changed files reach
(``servegate.discover.discover_changed``); otherwise the repo is discovered and narrowed to the
roots whose inputs changed (``narrow``). ``--shard I/N`` then keeps shard I
(``servegate.shard``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from servegate.discover import Discovery, discover, rel

if TYPE_CHECKING:
    from servegate.memo import Memo
    from servegate.model import Finding
    from servegate.options import CheckOptions

#: Files whose change affects every root: servegate's configuration of the repo.
CONFIG_PREFIXES = ("servegate.yaml", "environments/", "policies/")
CONFIG_NAME = "servegate.yaml"


def discover_scope(options: CheckOptions, memo: Memo) -> Discovery:
    """The roots and plain files the check covers."""
    found = _changed_only(options, memo)
    touched: set[str] | None
    full: Discovery | None = None
    manifests: dict[str, str] | None = None
    if found is not None:
        discovery, touched, manifests = found
    elif options.base is None and options.changed is None:
        discovery = _whole(options, memo)
        touched = None
    else:
        discovery = discover(list(options.paths), options.root, memo)
        touched = _touched(discovery, options)
        if touched is not None:
            if normalize(discovery.root, options.paths) == {"."}:
                full = discovery  # the whole repo's, for what unchanged Applications deploy
            discovery = narrow(discovery, touched)
    if discovery.deployed is None:
        from servegate.deployed import extend

        # what the repo's Argo CD Applications deploy; narrowed, what the touched files reach
        discovery = extend(discovery, memo, options.applications, touched, full, manifests)
    if options.shard is not None:
        from servegate.shard import select

        discovery = select(discovery, *options.shard)
    return discovery


def _whole(options: CheckOptions, memo: Memo) -> Discovery:
    """The discovery of a check that is not narrowed, with what its Applications deploy:
    remembered by the repo's whole tree (``servegate.memo.scopes``), so that a check of an
    unchanged repo reads no kustomization and no Application."""
    from servegate.discover import repo_root
    from servegate.memo import scopes

    paths = list(options.paths)
    root = repo_root(paths, options.root)
    given = [rel(root, p.resolve()) for p in paths]
    key = None
    if memo.enabled and not any(g == ".." or g.startswith("../") for g in given):
        key = scopes.scope_key(memo, root, given, options.applications)
    if key is not None:
        known = scopes.load(memo, key, root)
        if known is not None:
            return known
    from servegate.deployed import extend

    discovery = extend(discover(paths, root, memo), memo, options.applications)
    if key is not None:
        scopes.save(memo, key, discovery)
    return discovery


def _changed_only(
    options: CheckOptions, memo: Memo
) -> tuple[Discovery, set[str], dict[str, str]] | None:
    """--changed-files on the whole repo: discover only what the files reach (pre-commit);
    with the touched files and every manifest file of the repo (for its Applications)."""
    if options.changed is None or options.base is not None or len(options.paths) != 1:
        return None
    from servegate.discover import discover_changed, find_repo_root

    path = options.paths[0]
    if not path.is_dir():
        return None
    root = (options.root or find_repo_root(path.resolve())).resolve()
    if path.resolve() != root:
        return None
    touched = normalize(root, options.changed)
    if any(f == p or f.startswith(p) for f in touched for p in CONFIG_PREFIXES) or any(
        f.endswith("/" + CONFIG_NAME) for f in touched
    ):
        return None  # a configuration change affects every root below it: discover them all
    manifests: dict[str, str] = {}
    found = discover_changed(root, touched, memo, manifests)
    return (narrow(found, touched), touched, manifests) if found is not None else None


def _touched(discovery: Discovery, options: CheckOptions) -> set[str] | None:
    """The files --base / --changed-files touch; None when the check is not narrowed."""
    if options.base is None and options.changed is None:
        return None
    touched: set[str] = set()
    if options.changed is not None:
        touched |= normalize(discovery.root, options.changed)
    if options.base is not None:
        from servegate.changes import changed_since

        touched |= changed_since(discovery.root, options.base)
    return touched


def normalize(root: Path, files: Iterable[Path | str]) -> set[str]:
    """Paths as given on the command line -> paths relative to ``root`` (outside ones dropped)."""
    out: set[str] = set()
    for f in files:
        path = Path(f)
        absolute = path if path.is_absolute() else Path.cwd() / path
        relative = rel(root, absolute.resolve() if absolute.exists() else absolute)
        if not relative.startswith("../"):
            out.add(relative)
    return out


def affected(discovery: Discovery, changed: set[str]) -> tuple[list[str], list[str]]:
    """Kustomize roots and plain files a set of changed files touches: every root that can read
    one (``Discovery.reads_any``: a file it names, or any file in or below its kustomization
    folders, as its render cache key hashes them); a change to servegate's configuration of
    the repo (``servegate.yaml``, ``environments/``, ``policies/``) touches every root."""
    if any(f == p or f.startswith(p) for f in changed for p in CONFIG_PREFIXES):
        return list(discovery.roots), list(discovery.plain_files)
    # a servegate.yaml below the root configures every root and plain file below its folder
    folders = tuple(f[: -len(CONFIG_NAME)] for f in changed if f.endswith("/" + CONFIG_NAME))
    roots = [
        k
        for k in discovery.roots
        if discovery.reads_any(k, changed) or (k + "/").startswith(folders)
    ]
    plain = [f for f in discovery.plain_files if f in changed or f.startswith(folders)]
    return roots, plain


def narrow(discovery: Discovery, changed: set[str]) -> Discovery:
    """The same discovery, limited to the roots and files ``changed`` touches."""
    roots, plain = affected(discovery, changed)
    keep = set(plain) | {f for k in roots for f in discovery.inputs(k)}
    return replace(
        discovery,
        roots=roots,
        plain_files=plain,
        yaml_files=[f for f in discovery.yaml_files if f in keep or f in changed],
        findings=[f for f in discovery.findings if f.file in keep or f.file in changed],
    )


def excluded(
    discovery: Discovery, globs: Sequence[tuple[str, int]], config_file: str, given: Sequence[str]
) -> tuple[Discovery, list[Finding]]:
    """The discovery without the folders the root servegate.yaml's ``exclude:`` globs name
    (honoured only when the operator asks: ``--honor-excludes``), and one suppressed
    ``repo.excluded`` note per kustomize root and plain file they hide, so the report lists
    them. A glob never hides a path the operator named (``given``, repo-relative) or anything
    a kept root renders."""
    from fnmatch import fnmatchcase

    from servegate.rules.repo.excluded import RULE as EXCLUDED

    patterns = [(tuple(g.strip("/").split("/")), g, line) for g, line in globs]

    def hiding(rel: str) -> tuple[str, int] | None:
        parts = rel.split("/")
        for depth in range(1, len(parts) + 1):
            prefix = "/".join(parts[:depth])
            if any(prefix == g or g.startswith(prefix + "/") for g in given):
                continue  # the operator named this folder, or one below it
            for pattern, glob, line in patterns:
                if len(pattern) == depth and all(
                    fnmatchcase(p, q) for p, q in zip(parts[:depth], pattern, strict=True)
                ):
                    return glob, line
        return None

    hidden: list[Finding] = []
    roots: list[str] = []
    for kdir in discovery.roots:
        why = hiding(kdir)
        if why is None:
            roots.append(kdir)
            continue
        file = discovery.kustomizations[kdir].file
        hidden.append(_hidden(EXCLUDED, f"kustomize root {kdir}", file, why, config_file))
    kept_inputs = {f for k in roots for f in discovery.inputs(k)}
    plain: list[str] = []
    for rel_file in discovery.plain_files:
        why = hiding(rel_file)
        if why is None or rel_file in kept_inputs:
            plain.append(rel_file)
        else:
            hidden.append(_hidden(EXCLUDED, f"file {rel_file}", rel_file, why, config_file))
    if not hidden:
        return discovery, []
    gone = {
        f for f in discovery.yaml_files if f not in kept_inputs and hiding(f) is not None
    } - set(plain)
    narrowed = replace(
        discovery,
        roots=roots,
        plain_files=plain,
        yaml_files=[f for f in discovery.yaml_files if f not in gone],
        findings=[f for f in discovery.findings if f.file not in gone],
    )
    return narrowed, hidden


def _hidden(rule: Any, what: str, file: str, why: tuple[str, int], config_file: str) -> Finding:
    glob, line = why
    reason = f"excluded by {config_file}:{line} exclude {glob!r} (the operator honours excludes)"
    found: Finding = rule.finding(f"{what} is not checked", file, 1)
    return replace(found, suppressed=reason)

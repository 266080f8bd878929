"""Find what to check: the repo root, kustomize roots (overlays) and plain manifest files.

Nothing here runs kustomize. Kustomization files are read with the strict loader, and every
reference in them is checked before anything is rendered: remote bases and paths that leave
the repo root are findings (``repo.*``), never something to fetch or follow.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from servegate.findings import Finding, Severity
from servegate.sources import parse as load_bytes
from servegate.yamlsafe import Document

if TYPE_CHECKING:
    from servegate.cache import InputHasher

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
YAML_SUFFIXES = (".yaml", ".yml")
_REMOTE = re.compile(
    r"^(?:[a-z][a-z0-9+.-]*://|git@|github\.com/|gitlab\.com/|bitbucket\.org/)|\?ref="
)
#: Kustomization fields whose entries name files or directories.
_REF_FIELDS = ("resources", "bases", "components", "crds", "patchesStrategicMerge")
_PLUGIN_FIELDS = ("generators", "transformers", "validators")


class UsageError(Exception):
    """A problem with how servegate was called (exit code 2)."""


@dataclass(slots=True)
class PatchDoc:
    file: str
    document: Document
    kind: str | None
    name: str | None


@dataclass(slots=True)
class Kustomization:
    """One kustomization directory, relative to the repo root."""

    dir: str
    file: str
    document: Document | None
    dirs: list[str] = field(default_factory=list)
    """Kustomization directories it includes (bases, components)."""
    files: list[str] = field(default_factory=list)
    """Files it reads directly (resources, patches, generator inputs)."""
    patches: list[PatchDoc] = field(default_factory=list)
    blocked: bool = False
    """A finding makes rendering unsafe or pointless (remote base, escape, bad YAML)."""


@dataclass(slots=True)
class Discovery:
    root: Path
    kustomizations: dict[str, Kustomization]
    roots: list[str]
    """Kustomization dirs no other kustomization includes: what gets rendered."""
    plain_files: list[str]
    findings: list[Finding]
    yaml_files: list[str]
    """Every YAML file in scope (strict-parsed once for yaml.* findings)."""
    _closures: dict[str, list[Kustomization]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    """closure() by dir: asked once per rendered object (``kustomizations`` is never changed
    after discovery; narrowing and sharding make a new Discovery, with a new memo)."""

    def closure(self, kdir: str) -> list[Kustomization]:
        """The kustomization and every kustomization it includes, transitively."""
        known = self._closures.get(kdir)
        if known is None:
            known = self._closures[kdir] = self._closure(kdir)
        return list(known)

    def _closure(self, kdir: str) -> list[Kustomization]:
        seen: dict[str, Kustomization] = {}
        stack = [kdir]
        while stack:
            d = stack.pop()
            k = self.kustomizations.get(d)
            if k is None or d in seen:
                continue
            seen[d] = k
            stack.extend(k.dirs)
        return list(seen.values())

    def inputs(self, kdir: str) -> list[str]:
        """Every file rendering ``kdir`` reads, sorted (for caching and change mapping)."""
        files: set[str] = set()
        for k in self.closure(kdir):
            files.add(k.file)
            files.update(k.files)
        return sorted(files)


def find_repo_root(path: Path) -> Path:
    """The git top level above ``path``, else ``path`` itself (its folder, for a file)."""
    start = path if path.is_dir() else path.parent
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    return start


def rel(root: Path, path: Path | str) -> str:
    return Path(os.path.relpath(path, root)).as_posix()


def inside(root: Path, path: Path) -> bool:
    real = os.path.realpath(path)
    base = os.path.realpath(root)
    return real == base or real.startswith(base + os.sep)


class _Paths:
    """Path arithmetic of one discovery run on plain strings (no pathlib objects on the hot
    path), with ``os.path.realpath`` answers memoized per path and symlink tests per prefix."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.base = str(root)
        # the string shortcut of rel() holds for an absolute, normalised root on POSIX
        self._fast = os.sep == "/" and self.base == os.path.abspath(self.base) != "/"
        self._real: dict[str, tuple[str, bool]] = {}
        self._links: dict[str, bool] = {}
        self.kfile_names: dict[str, str] = {}
        """Kustomization file name by dir, as the walk saw it."""
        self.base_real = self.real(self.base)

    def rel(self, path: str) -> str:
        """``rel(root, path)``."""
        if self._fast:
            normal = os.path.normpath(path)
            if normal.startswith(self.base + "/"):
                return normal[len(self.base) + 1 :]
            if normal == self.base:
                return "."
        return rel(self.root, path)

    def inside(self, path: str) -> bool:
        """``inside(root, path)``."""
        return self._below(self.real(path))

    def inside_entry(self, directory: str, entry: str, path: str) -> bool:
        """``inside(root, path)`` for ``path`` = ``join(directory, entry)``."""
        return self._below(self.real_entry(directory, entry, path))

    def _below(self, real: str) -> bool:
        return real == self.base_real or real.startswith(self.base_real + os.sep)

    def directory(self, kdir: str) -> str:
        """``str(root / kdir)`` for a dir from rel()."""
        return self.base if kdir == "." else join(self.base, kdir)

    def real(self, path: str) -> str:
        """``os.path.realpath(path)``, walking the components as realpath does but asking
        whether a prefix is a symlink once per run; at the first symlink, realpath itself."""
        known = self._real.get(path)
        if known is None:
            known = self._real[path] = self._resolve(path, "/", path)
        return known[0]

    def real_entry(self, directory: str, entry: str, path: str) -> str:
        """``real(path)`` for ``path`` = ``join(directory, entry)``: realpath reaches
        ``real(directory)`` first, so when no symlink was met there, it goes on from it."""
        known = self._real.get(path)
        if known is None:
            self.real(directory)
            start, plain = self._real[directory]
            if plain and not entry.startswith("/"):
                known = self._resolve(path, start, entry)
            else:
                known = self._resolve(path, "/", path)
            self._real[path] = known
        return known[0]

    def _resolve(self, path: str, current: str, rest: str) -> tuple[str, bool]:
        """(realpath of ``path``, no symlink met), going from the resolved ``current`` over
        the components of ``rest``."""
        if os.sep != "/" or "\0" in path or not path.startswith("/"):
            return os.path.realpath(path), False  # as before (a NUL raises ValueError)
        for name in rest.split("/"):
            if not name or name == ".":
                continue
            if name == "..":
                current = os.path.dirname(current)
                continue
            joined = current + name if current == "/" else f"{current}/{name}"
            link = self._links.get(joined)
            if link is None:
                link = self._links[joined] = os.path.islink(joined)
            if link:
                return os.path.realpath(path), False
            current = joined
        return current, True


def join(directory: str, entry: str) -> str:
    """``str(Path(directory) / entry)``: pathlib drops empty and "." parts, keeps ".."."""
    if any(part in ("", ".") for part in entry.split("/")):
        return str(Path(directory) / entry)
    return os.path.join(directory, entry)


def _walk(top: str) -> Iterator[tuple[str, list[str], list[str], set[str]]]:
    """``os.walk(top)`` (top-down, the caller may prune the folder names, symlinked folders
    listed but not entered, unreadable folders skipped), also naming the entries that are
    symlinks as the folder listing says, so no entry needs its own lstat."""
    stack = [top]
    while stack:
        here = stack.pop()
        dirs: list[str] = []
        files: list[str] = []
        links: set[str] = set()
        try:
            with os.scandir(here) as entries:
                for entry in entries:
                    try:
                        is_dir = entry.is_dir()
                    except OSError:
                        is_dir = False
                    (dirs if is_dir else files).append(entry.name)
                    try:
                        if entry.is_symlink():
                            links.add(entry.name)
                    except OSError:
                        pass  # as os.path.islink: not a link when it cannot be told
        except OSError:
            continue
        yield here, dirs, files, links
        stack.extend(os.path.join(here, d) for d in reversed(dirs) if d not in links)


def _kfile_in(directory: str, names: list[str]) -> str | None:
    """The name of ``directory``'s kustomization file among the walk's file ``names``."""
    for name in KUSTOMIZATION_NAMES:
        if name in names and os.path.isfile(os.path.join(directory, name)):
            return name
    return None


def kustomization_file(directory: Path) -> Path | None:
    for name in KUSTOMIZATION_NAMES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def discover(paths: list[Path], root: Path | None = None) -> Discovery:
    """Scan ``paths`` (dirs or files) inside one repo root; raise UsageError for bad paths."""
    for p in paths:
        if not p.exists():
            raise UsageError(f"path does not exist: {p}")
    root = (root or find_repo_root(paths[0].resolve())).resolve()
    scan = _Paths(root)
    findings: list[Finding] = []
    yaml_files: list[str] = []
    kdirs: list[str] = []
    for p in paths:
        p = p.resolve()
        if not inside(root, p):
            raise UsageError(f"path {p} is outside the repo root {root}")
        if p.is_file():
            if p.name in KUSTOMIZATION_NAMES:
                kdirs.append(scan.rel(str(p.parent)))
            else:
                yaml_files.append(rel(root, p))
            continue
        for here, dirnames, filenames, links in _walk(str(p)):
            kept = []
            for d in sorted(dirnames):
                if d.startswith("."):
                    continue
                sub = os.path.join(here, d)
                if d in links and not scan.inside(sub):
                    findings.append(_escape_finding(root, sub))
                    continue
                kept.append(d)
            dirnames[:] = kept
            kname = _kfile_in(here, filenames)
            if kname is not None:
                kdir = scan.rel(here)
                kdirs.append(kdir)
                scan.kfile_names[kdir] = kname
            for name in sorted(filenames):
                if name.startswith(".") or not name.endswith(YAML_SUFFIXES):
                    continue
                full = os.path.join(here, name)
                if name in links and not scan.inside(full):
                    findings.append(_escape_finding(root, full))
                    continue
                if name not in KUSTOMIZATION_NAMES:
                    yaml_files.append(scan.rel(full))

    kustomizations: dict[str, Kustomization] = {}
    pending = list(kdirs)
    while pending:
        d = pending.pop()
        if d in kustomizations:
            continue
        k = _read_kustomization(root, d, findings, scan)
        kustomizations[d] = k
        pending.extend(x for x in k.dirs if x not in kustomizations)

    included = {d for k in kustomizations.values() for d in k.dirs}
    scanned = set(kdirs)
    roots = sorted(d for d in scanned if d not in included)
    referenced = {f for k in kustomizations.values() for f in k.files}
    kdir_set = set(kustomizations)
    plain = [
        f
        for f in sorted(set(yaml_files))
        if f not in referenced and posix_parent(f) not in kdir_set
    ]
    return Discovery(root, kustomizations, roots, plain, findings, sorted(set(yaml_files)))


def _escape_finding(root: Path, path: str) -> Finding:
    return Finding(
        "repo.symlink-escape",
        Severity.ERROR,
        f"symlink points outside the repo root ({os.readlink(path)}); not followed",
        rel(root, path),
        1,
    )


def _read_kustomization(
    root: Path, kdir: str, findings: list[Finding], scan: _Paths | None = None
) -> Kustomization:
    scan = scan or _Paths(root)
    directory = scan.directory(kdir)
    kname = scan.kfile_names.get(kdir)
    if kname is None:
        found = kustomization_file(Path(directory))
        kname = found.name if found is not None else None
    if kname is None:
        k = Kustomization(kdir, f"{kdir}/kustomization.yaml", None, blocked=True)
        findings.append(
            Finding(
                "repo.kustomize-error",
                Severity.ERROR,
                f"{kdir} is included as a kustomization but has none",
                kdir,
                1,
            )
        )
        return k
    kfile = os.path.join(directory, kname)
    kfile_rel = scan.rel(kfile)
    k = Kustomization(kdir, kfile_rel, None)
    try:
        with open(kfile, "rb") as handle:
            raw = handle.read()
    except OSError as err:
        findings.append(
            Finding(
                "yaml.unreadable", Severity.ERROR, f"cannot read file: {err.strerror}", kfile_rel, 1
            )
        )
        k.blocked = True
        return k
    loaded = load_bytes(raw, kfile_rel)
    for problem in loaded.problems:
        findings.append(
            Finding(problem.rule, Severity.ERROR, problem.message, kfile_rel, problem.line)
        )
        k.blocked = True
    if not loaded.documents or not isinstance(loaded.documents[0].data, dict):
        if not loaded.problems:
            findings.append(
                Finding(
                    "repo.kustomize-error",
                    Severity.ERROR,
                    "kustomization is empty or not a mapping",
                    kfile_rel,
                    1,
                )
            )
        k.blocked = True
        return k
    doc = loaded.documents[0]
    k.document = doc
    data: dict[str, Any] = doc.data

    def flag(rule: str, message: str, path: tuple[str | int, ...]) -> None:
        findings.append(Finding(rule, Severity.ERROR, message, kfile_rel, doc.line_of(path)))
        k.blocked = True

    def local(entry: str, path: tuple[str | int, ...]) -> str | None:
        if _REMOTE.search(entry):
            flag(
                "repo.remote-base",
                f"remote reference {entry!r}: servegate does not fetch remote bases; vendor it "
                "into the repo",
                path,
            )
            return None
        target = join(directory, entry)
        if not scan.inside_entry(directory, entry, target):
            flag(
                "repo.kustomize-escape",
                f"{entry!r} leaves the repo root; kustomize roots must stay inside the repo",
                path,
            )
            return None
        return target

    for fname in _REF_FIELDS:
        entries = data.get(fname)
        if not isinstance(entries, list):
            continue
        for i, entry in enumerate(entries):
            if not isinstance(entry, str):
                continue
            target = local(entry, (fname, i))
            if target is None:
                continue
            if os.path.isdir(target):
                k.dirs.append(scan.rel(target))
            else:
                k.files.append(scan.rel(target))
                if fname == "patchesStrategicMerge":
                    _add_patch_docs(scan, target, None, k)
    for fname in ("patches", "patchesJson6902"):
        entries = data.get(fname)
        if not isinstance(entries, list):
            continue
        for i, entry in enumerate(entries):
            if isinstance(entry, str):
                entry = {"path": entry}
            if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
                continue
            target = local(entry["path"], (fname, i, "path"))
            if target is not None:
                k.files.append(scan.rel(target))
                _add_patch_docs(scan, target, entry.get("target"), k)
    for gname in ("configMapGenerator", "secretGenerator"):
        for i, gen in enumerate(data.get(gname) or []):
            if not isinstance(gen, dict):
                continue
            for fkey in ("files", "envs"):
                for j, item in enumerate(gen.get(fkey) or []):
                    if isinstance(item, str):
                        target = local(item.partition("=")[2] or item, (gname, i, fkey, j))
                        if target is not None:
                            k.files.append(scan.rel(target))
    if "helmCharts" in data or "helmChartInflationGenerator" in data:
        key = "helmCharts" if "helmCharts" in data else "helmChartInflationGenerator"
        flag(
            "repo.kustomize-plugin",
            "helm charts run an external program; servegate renders without helm (vendor the "
            "rendered chart instead)",
            (key,),
        )
    for fname in _PLUGIN_FIELDS:
        for i, entry in enumerate(data.get(fname) or []):
            if isinstance(entry, dict):
                if entry.get("apiVersion") != "builtin":
                    flag(
                        "repo.kustomize-plugin",
                        f"inline {fname} plugin {entry.get('kind')!r} would run code; only "
                        "builtin plugins are allowed",
                        (fname, i),
                    )
            elif isinstance(entry, str):
                target = local(entry, (fname, i))
                if target is not None and os.path.isdir(target):
                    k.dirs.append(scan.rel(target))
                elif target is not None:
                    k.files.append(scan.rel(target))
                    _check_plugin_file(scan, target, kfile_rel, fname, findings, k)
    return k


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def _check_plugin_file(
    scan: _Paths,
    target: str,
    kfile_rel: str,
    fname: str,
    findings: list[Finding],
    k: Kustomization,
) -> None:
    raw = _read(target)
    if raw is None:
        return
    target_rel = scan.rel(target)
    loaded = load_bytes(raw, target_rel)
    for d in loaded.documents:
        if isinstance(d.data, dict) and d.data.get("apiVersion") not in (None, "builtin"):
            findings.append(
                Finding(
                    "repo.kustomize-plugin",
                    Severity.ERROR,
                    f"{fname} plugin {d.data.get('kind')!r} ({d.data.get('apiVersion')}) would run "
                    "code; only builtin plugins are allowed",
                    target_rel,
                    d.line,
                )
            )
            k.blocked = True


def _add_patch_docs(scan: _Paths, target: str, selector: Any, k: Kustomization) -> None:
    raw = _read(target)
    if raw is None:
        return
    target_rel = scan.rel(target)
    loaded = load_bytes(raw, target_rel)
    sel = selector if isinstance(selector, dict) else {}
    for d in loaded.documents:
        data = d.data if isinstance(d.data, dict) else {}
        meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        kind = sel.get("kind") or data.get("kind")
        name = sel.get("name") or (meta or {}).get("name")
        k.patches.append(PatchDoc(target_rel, d, kind, name))


#: Kustomization fields whose string entries (or entries' ``path``) name a file or directory.
_PATH_FIELDS = (*_REF_FIELDS, *_PLUGIN_FIELDS)


def discover_changed(root: Path, changed: set[str]) -> Discovery | None:
    """What ``discover([root])`` followed by narrowing to ``changed`` (repo-relative files)
    yields, without reading every kustomization in full: a name-only walk, a scan of each
    kustomization's (parse-cached) path entries, and a full read only of the kustomizations
    that reach a changed file. None when the repo has something this shortcut does not model
    (symlinks, references to folders the walk does not see): the caller then discovers all."""
    root = root.resolve()
    kdirs: set[str] = set()
    kfiles: dict[str, str] = {}
    yaml_files: set[str] = set()
    stack = [""]
    base = str(root)
    while stack:
        d = stack.pop()
        try:
            entries = list(os.scandir(os.path.join(base, d) if d else base))
        except OSError:
            return None
        names = {e.name for e in entries}
        kname = next((n for n in KUSTOMIZATION_NAMES if n in names), None)
        if kname is not None:
            kdirs.add(d or ".")
            kfiles[d or "."] = f"{d}/{kname}" if d else kname
        for e in entries:
            if e.name.startswith("."):
                continue
            if e.is_symlink():
                return None
            path = f"{d}/{e.name}" if d else e.name
            if e.is_dir():
                stack.append(path)
            elif e.name.endswith(YAML_SUFFIXES) and e.name not in KUSTOMIZATION_NAMES:
                yaml_files.add(path)
    refs = _all_path_entries(root, kfiles)
    named_by: dict[str, list[str]] = {}  # path -> kustomizations naming it (or it is theirs)
    for k, named in refs.items():
        for entry in named:
            if "/." in entry or entry.startswith("."):
                parts = entry.split("/")
                while parts and parts[0] == "..":
                    parts.pop(0)
                if any(p.startswith(".") and p != "." for p in parts):
                    return None  # into a hidden folder, which the walk (like discover) skips
            named_by.setdefault(entry, []).append(k)
        named_by.setdefault(kfiles[k], []).append(k)

    def naming(targets: set[str]) -> set[str]:
        return {k for t in targets for k in named_by.get(t, ())}

    findings: list[Finding] = []
    read: dict[str, Kustomization] = {}
    scan = _Paths(root)

    def full(k: str) -> Kustomization:
        if k not in read:
            read[k] = _read_kustomization(root, k, findings, scan)
        return read[k]

    # kustomizations reading a changed file, then (transitively) those including them
    touched = naming(changed)
    touched = {k for k in touched if changed.intersection([*full(k).files, full(k).file])}
    frontier = set(touched)
    while frontier:
        new = {k for k in naming(frontier) - touched if frontier & set(full(k).dirs)}
        touched |= new
        frontier = new
    included = {d for k in touched for d in full(k).dirs}
    roots = sorted(
        k
        for k in touched
        if k not in included and not any(k in full(o).dirs for o in named_by.get(k, ()))
    )
    kustomizations: dict[str, Kustomization] = {}
    pending = list(roots)
    while pending:
        d = pending.pop()
        if d in kustomizations:
            continue
        if d not in kdirs:
            return None  # a base the walk did not see (hidden folder, missing): no shortcut
        kustomizations[d] = full(d)
        pending.extend(full(d).dirs)
    referenced = {f for k in naming(changed) for f in full(k).files}
    plain = sorted(
        f
        for f in changed
        if f in yaml_files and f not in referenced and posix_parent(f) not in kdirs
    )
    discovery = Discovery(root, kustomizations, roots, plain, [], [])
    keep = set(plain) | {f for r in roots for f in discovery.inputs(r)}
    for k in sorted(naming(keep | changed)):
        if k not in kustomizations:
            full(k)  # for its findings on kept files
    discovery.yaml_files = sorted(f for f in yaml_files if f in keep or f in changed)
    discovery.findings = [f for f in findings if f.file in keep or f.file in changed]
    return discovery


def posix_parent(path: str) -> str:
    parent = path.rpartition("/")[0]
    return parent or "."


#: Bump when ``_path_entries`` changes what it returns.
REFS_FORMAT = "refs-v1"


def remember_path_entries(discovery: Discovery, hasher: InputHasher) -> None:
    """After discovering a whole repo: bring the path entry memo of ``_all_path_entries`` up
    to date (``hasher`` has usually digested the kustomizations already), so the next
    ``--changed-files`` run reads none of them."""
    kfiles = {k.dir: k.file for k in discovery.kustomizations.values()}
    _all_path_entries(discovery.root, kfiles, hasher)


def _all_path_entries(
    root: Path, kfiles: dict[str, str], hasher: InputHasher | None = None
) -> dict[str, set[str]]:
    """``_path_entries`` of every kustomization of the repo (``kfiles``: all of them); with the
    caches on, remembered per repo by the content digest of each kustomization file
    (``InputHasher``, whose stat index spares reading unchanged files), so a pre-commit run
    parses only the kustomizations that changed."""
    from servegate import cache

    if not cache.stat_index_enabled():
        return {k: _path_entries(root, k, f) for k, f in kfiles.items()}
    import hashlib
    import marshal

    hasher = hasher or cache.InputHasher(root)
    name = hashlib.sha256(os.fsencode(str(root))).hexdigest()
    memo_path = cache.cache_dir() / REFS_FORMAT / name
    memo: dict[str, tuple[str, bytes, list[str]]] = {}
    try:
        with open(memo_path, "rb") as handle:
            # the user's own cache folder, written only by servegate: as trusted as its code
            fmt, loaded = marshal.loads(handle.read())  # noqa: S302
        if fmt == REFS_FORMAT and isinstance(loaded, dict):
            memo = loaded
    except (OSError, ValueError, EOFError, TypeError):
        pass  # absent or damaged: parse every kustomization (and rewrite it)
    found: dict[str, set[str]] = {}
    fresh: dict[str, tuple[str, bytes, list[str]]] = {}
    for kdir, kfile in kfiles.items():
        digest = hasher.file(kfile)
        known = memo.get(kdir)
        if type(known) is tuple and len(known) == 3 and known[:2] == (kfile, digest):
            entries = set(known[2])
        else:
            try:
                raw = (root / kfile).read_bytes()
            except OSError:
                found[kdir] = set()
                continue
            entries = _entries_of(raw, kdir, kfile)
            if hashlib.sha256(raw).digest() != digest:
                found[kdir] = entries
                continue  # changed while being read: use it, but do not remember it
        found[kdir] = entries
        fresh[kdir] = (kfile, digest, sorted(entries))
    hasher.save()
    if fresh != memo:
        cache.write_atomic(memo_path, marshal.dumps((REFS_FORMAT, fresh)))
    return found


def _path_entries(root: Path, kdir: str, kfile: str) -> set[str]:
    """Every path a kustomization's entries name, normalised repo-relative; a superset of
    what ``_read_kustomization`` lists (it parses the file through the parse cache)."""
    try:
        raw_bytes = (root / kfile).read_bytes()
    except OSError:
        return set()
    return _entries_of(raw_bytes, kdir, kfile)


def _entries_of(raw_bytes: bytes, kdir: str, kfile: str) -> set[str]:
    import posixpath

    loaded = load_bytes(raw_bytes, kfile)
    if not loaded.documents or not isinstance(loaded.documents[0].data, dict):
        return set()
    data: dict[str, Any] = loaded.documents[0].data
    raw: list[str] = []
    for fname in (*_PATH_FIELDS, "patches", "patchesJson6902"):
        for entry in data.get(fname) or [] if isinstance(data.get(fname), list) else []:
            if isinstance(entry, dict):
                entry = entry.get("path")
            if isinstance(entry, str):
                raw.append(entry)
    for gname in ("configMapGenerator", "secretGenerator"):
        gens = data.get(gname)
        for gen in gens if isinstance(gens, list) else []:
            for fkey in ("files", "envs"):
                items = gen.get(fkey) if isinstance(gen, dict) else None
                listed = items if isinstance(items, list) else []
                raw.extend(i.partition("=")[2] or i for i in listed if isinstance(i, str))
    base = "" if kdir == "." else kdir
    return {posixpath.normpath(posixpath.join(base, e)) for e in raw}

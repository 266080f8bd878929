"""Find what to check: the repo root, kustomize roots (overlays) and plain manifest files.

Nothing here runs kustomize. Kustomization files are read with the strict loader, and every
reference in them is checked before anything is rendered: remote bases and paths that leave
the repo root are findings (``repo.*``), never something to fetch or follow.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from servegate.errors import UsageError
from servegate.model import Finding
from servegate.remotes import remote_kind
from servegate.rules import problem_rule
from servegate.rules.base import ReportedRule
from servegate.rules.repo.kustomize_error import RULE as KUSTOMIZE_ERROR
from servegate.rules.repo.kustomize_escape import RULE as KUSTOMIZE_ESCAPE
from servegate.rules.repo.kustomize_plugin import RULE as KUSTOMIZE_PLUGIN
from servegate.rules.repo.remote_base import RULE as REMOTE_BASE
from servegate.rules.repo.symlink_escape import RULE as SYMLINK_ESCAPE
from servegate.rules.yaml.unreadable import RULE as UNREADABLE
from servegate.sources import dialect_for
from servegate.yamlsafe import Document

if TYPE_CHECKING:
    from servegate.deployment import Deployment
    from servegate.memo import Memo
    from servegate.yamlsafe import LoadResult

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
YAML_SUFFIXES = (".yaml", ".yml")
#: What ``kubectl apply -f DIR`` and an Argo CD directory source read besides YAML.
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
CHART_FILE = "Chart.yaml"
_PLUGIN_FIELDS = ("generators", "transformers", "validators")


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
    """Kustomization directories it includes (bases, components), by their real path."""
    dir_lines: list[int] = field(default_factory=list)
    """The line of each ``dirs`` entry in ``file``."""
    files: list[str] = field(default_factory=list)
    """Files it reads as YAML (resources, patches, configurations...), with symlink targets."""
    data_files: list[str] = field(default_factory=list)
    """Files it reads as data (generator ``files``/``envs``), with symlink targets."""
    patches: list[PatchDoc] = field(default_factory=list)
    blocked: bool = False
    """A finding makes rendering unsafe or pointless (remote base, escape, bad YAML)."""

    @property
    def is_component(self) -> bool:
        """``kind: Component``: only a kustomization's ``components:`` can use it; kustomize
        refuses to build it alone ("expected kind != 'Component'"), so it is never a root."""
        data = self.document.data if self.document is not None else None
        return isinstance(data, dict) and data.get("kind") == "Component"


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
    shard: tuple[int, int, str] | None = None
    """(index, count, scope) when ``servegate.shard.select`` made it: shard ``index`` of
    ``count``, and a digest of every unit of the whole check (``scope``), so that
    ``servegate merge`` can refuse a missing, repeated or foreign shard."""
    charts: list[str] = field(default_factory=list)
    """Helm chart folders (a ``Chart.yaml`` and no kustomization): rendered with helm
    (``servegate.helm``), their files never read as manifests."""
    deployed: Deployment | None = None
    """What the repo's Argo CD Applications deploy beyond the roots and plain files
    (``servegate.deployed.extend``)."""
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

    def forget_closures(self) -> None:
        """Drop the closures computed so far (after kustomizations were added)."""
        self._closures.clear()

    def inputs(self, kdir: str) -> list[str]:
        """Every file rendering ``kdir`` names, sorted: its kustomizations and the files they
        list (with symlink targets). With the trees under ``folders(kdir)``, what its render
        render key covers (``servegate.render.render_keys``)."""
        files: set[str] = set()
        for k in self.closure(kdir):
            files.add(k.file)
            files.update(k.files)
            files.update(k.data_files)
        return sorted(files)

    def folders(self, kdir: str) -> list[str]:
        """The kustomization folders rendering ``kdir`` builds: kustomize reads files only in
        or below these (``LoadRestrictionsRootOnly``: kubernetes-sigs/kustomize
        ``api/internal/loader/loadrestrictions.go``, after resolving symlinks)."""
        return sorted({k.dir for k in self.closure(kdir)})

    def reads_any(self, kdir: str, changed: set[str]) -> bool:
        """Whether rendering ``kdir`` can read one of ``changed`` (repo-relative paths): a file
        it names, or any file in or below one of its folders, as the render key hashes them.
        Narrowing (``--changed-files``, ``--base``) selects roots by this."""
        if not changed:
            return False
        if changed.intersection(self.inputs(kdir)):
            return True
        folders = set(self.folders(kdir))
        if "." in folders:
            return True
        return any(not folders.isdisjoint(ancestors(f)) for f in changed)


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

    def __init__(self, root: Path, memo: Memo | None = None) -> None:
        from servegate.memo import Memo

        self.root = root
        self.base = str(root)
        self.memo = memo or Memo.off()
        self._parses = self.memo.parses
        # the string shortcut of rel() holds for an absolute, normalised root on POSIX
        self._fast = os.sep == "/" and self.base == os.path.abspath(self.base) != "/"
        self._real: dict[str, tuple[str, bool]] = {}
        self._links: dict[str, bool] = {}
        self.kfile_names: dict[str, str] = {}
        """Kustomization file name by dir, as the walk saw it."""
        self.base_real = self.real(self.base)

    def parse(self, raw: bytes, name: str) -> LoadResult:
        """A file strictly parsed as its consumer decodes it (``servegate.sources``), through
        the memo's parses when it is on, within the run's budget."""
        return self._parses.load(raw, name, dialect_for(name))

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


def looks_like_manifest(path: str) -> bool:
    """Whether a file that is read only when it is a manifest (a ``.json`` file, a dot-file)
    is one: it names an ``apiVersion`` and a ``kind`` (Argo CD's own test for a file it cannot
    decode, ``reposerver/repository/repository.go`` ``getObjsFromYAMLOrJSON``)."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(64 * 1024 * 1024)
    except OSError:
        return True  # unreadable: read it, and report why
    return b"apiVersion" in raw and b"kind" in raw


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


def repo_root(paths: list[Path], root: Path | None = None) -> Path:
    """The resolved repo root of a check of ``paths`` (``root``, else the git top level above
    the first path); raise UsageError when a path does not exist."""
    for p in paths:
        if not p.exists():
            raise UsageError(f"path does not exist: {p}")
    return (root or find_repo_root(paths[0].resolve())).resolve()


def discover(paths: list[Path], root: Path | None = None, memo: Memo | None = None) -> Discovery:
    """Scan ``paths`` (dirs or files) inside one repo root; raise UsageError for bad paths."""
    root = repo_root(paths, root)
    scan = _Paths(root, memo)
    findings: list[Finding] = []
    yaml_files: list[str] = []
    kdirs: list[str] = []
    charts: list[str] = []
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
            elif CHART_FILE in filenames and CHART_FILE not in links:
                charts.append(scan.rel(here))
                dirnames[:] = []  # the chart's files are helm's templates and values
                continue
            for name in sorted(filenames):
                if not name.endswith(MANIFEST_SUFFIXES):
                    continue
                full = os.path.join(here, name)
                if name in links and not scan.inside(full):
                    findings.append(_escape_finding(root, full))
                    continue
                if (name.startswith(".") or not name.endswith(YAML_SUFFIXES)) and (
                    not looks_like_manifest(full)
                ):
                    continue
                if name not in KUSTOMIZATION_NAMES:
                    yaml_files.append(scan.rel(full))

    kustomizations: dict[str, Kustomization] = {}
    _read_closures(root, kdirs, kustomizations, findings, scan)

    roots = check_graph(kustomizations, set(kdirs), findings, root)
    referenced = {f for k in kustomizations.values() for f in (*k.files, *k.data_files)}
    kdir_set = set(kustomizations)
    plain = [
        f
        for f in sorted(set(yaml_files))
        if f not in referenced and posix_parent(f) not in kdir_set
    ]
    return Discovery(
        root, kustomizations, roots, plain, findings, sorted(set(yaml_files)), charts=charts
    )


def _escape_finding(root: Path, path: str) -> Finding:
    return SYMLINK_ESCAPE.finding(
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
            KUSTOMIZE_ERROR.finding(f"{kdir} is included as a kustomization but has none", kdir, 1)
        )
        return k
    kfile = os.path.join(directory, kname)
    kfile_rel = scan.rel(kfile)
    k = Kustomization(kdir, kfile_rel, None)
    try:
        with open(kfile, "rb") as handle:
            raw = handle.read()
    except OSError as err:
        findings.append(UNREADABLE.finding(f"cannot read file: {err.strerror}", kfile_rel, 1))
        k.blocked = True
        return k
    loaded = scan.parse(raw, kfile_rel)
    for problem in loaded.problems:
        findings.append(
            problem_rule(problem.kind).finding(problem.message, kfile_rel, problem.line)
        )
        k.blocked = True
    if not loaded.documents or not isinstance(loaded.documents[0].data, dict):
        if not loaded.problems:
            findings.append(
                KUSTOMIZE_ERROR.finding("kustomization is empty or not a mapping", kfile_rel, 1)
            )
        k.blocked = True
        return k
    doc = loaded.documents[0]
    k.document = doc
    data: dict[str, Any] = doc.data
    _Reader(scan, k, directory, findings).read(data, doc)
    for key in ("helmCharts", "helmChartInflationGenerator"):
        if key in data:
            findings.append(
                KUSTOMIZE_PLUGIN.finding(
                    "helm charts run an external program; servegate renders without helm "
                    "(vendor the rendered chart instead)",
                    kfile_rel,
                    doc.line_of((key,)),
                )
            )
            k.blocked = True
            break
    return k


class _Reader:
    """The references of one kustomization, checked and recorded on its ``Kustomization``:
    remote ones (``servegate.remotes``) and escapes are findings at their line and block the
    render; local ones become ``dirs`` (kustomizations, by their real path, as kustomize's
    ``filesys.ConfirmDir`` resolves them) and ``files`` (with a symlink's target too)."""

    def __init__(self, scan: _Paths, k: Kustomization, directory: str, findings: list[Finding]):
        self.scan = scan
        self.k = k
        self.directory = directory
        self.findings = findings

    def flag(self, rule: ReportedRule, message: str, file: str, line: int) -> None:
        self.findings.append(rule.finding(message, file, line))
        self.k.blocked = True

    def read(self, data: dict[str, Any], doc: Document) -> None:
        k = self.k
        for ref in references(data):
            line = doc.line_of(ref.path)
            if ref.how == "inline":
                continue
            target = self.local(ref.value, k.file, line, remote_only=ref.how == "remote")
            if target is None:
                continue
            if ref.how in ("ref", "plugin") and os.path.isdir(target):
                k.dirs.append(self.scan.rel(self.scan.real(target)))
                k.dir_lines.append(line)
                continue
            self.add_file(target, data=ref.how == "data")
            if ref.how == "patch":
                _add_patch_docs(self.scan, target, ref.selector, k)
            elif ref.how == "plugin":
                self.plugin_file(target, ref.path[0])

    def local(self, entry: str, file: str, line: int, *, remote_only: bool = False) -> str | None:
        """The entry's path, or None when it is remote (a finding), escapes (a finding) or
        is not a location at all."""
        target = join(self.directory, entry) if entry else self.directory
        kind = remote_kind(entry, lambda: os.path.lexists(target))
        if kind is not None:
            self.flag(
                REMOTE_BASE,
                f"remote reference {entry!r} ({kind}): servegate never fetches remote content; "
                "vendor it into the repo",
                file,
                line,
            )
            return None
        if remote_only:
            return None
        if not self.scan.inside_entry(self.directory, entry, target):
            self.flag(
                KUSTOMIZE_ESCAPE,
                f"{entry!r} leaves the repo root; kustomize roots must stay inside the repo",
                file,
                line,
            )
            return None
        return target

    def add_file(self, target: str, *, data: bool = False) -> None:
        files = self.k.data_files if data else self.k.files
        files.append(self.scan.rel(target))
        real = self.scan.real(target)
        if real != os.path.normpath(target) and self.scan.inside(real):
            files.append(self.scan.rel(real))  # a symlink: its target is read too

    def plugin_file(self, target: str, field_name: str | int) -> None:
        """A generator, transformer or validator configuration file: only builtin plugins,
        and the files those name are read too (relative to the kustomization)."""
        raw = _read(target)
        if raw is None:
            return
        target_rel = self.scan.rel(target)
        for d in self.scan.parse(raw, target_rel).documents:
            if not isinstance(d.data, dict):
                continue
            if d.data.get("apiVersion") not in (None, "builtin"):
                self.flag(
                    KUSTOMIZE_PLUGIN,
                    f"{field_name} plugin {d.data.get('kind')!r} ({d.data.get('apiVersion')}) "
                    "would run code; only builtin plugins are allowed",
                    target_rel,
                    d.line,
                )
                continue
            for ref in plugin_references(d.data, ()):
                if ref.how == "inline":
                    continue
                local = self.local(
                    ref.value, target_rel, d.line_of(ref.path), remote_only=ref.how == "remote"
                )
                if local is not None:
                    self.add_file(local, data=ref.how == "data")
                    if ref.how == "patch":
                        _add_patch_docs(self.scan, local, ref.selector, self.k)


@dataclass(frozen=True, slots=True)
class Reference:
    """One location a kustomization names: ``value`` at ``path`` in its document.

    ``how``: ``ref`` a file or a kustomization folder (resources, bases, components);
    ``file`` a file kustomize reads as YAML; ``data`` a file it reads as data (generator
    ``files`` and ``envs``: never parsed as YAML); ``patch`` a patch file (``selector``: its
    target); ``plugin`` a generator, transformer or validator configuration file or folder;
    ``remote`` only ever a URL (a helm repository); ``inline`` content, not a location."""

    path: tuple[str | int, ...]
    value: str
    how: str
    selector: Any = None


def _strings(value: Any) -> list[tuple[int | None, str]]:
    if isinstance(value, str):
        return [(None, value)]
    if isinstance(value, list):
        return [(i, v) for i, v in enumerate(value) if isinstance(v, str)]
    return []


def _at(base: tuple[str | int, ...], index: int | None) -> tuple[str | int, ...]:
    return base if index is None else (*base, index)


def references(data: dict[str, Any]) -> Iterator[Reference]:
    """Every location a kustomization names, in every field kustomize reads a file or folder
    from (kubernetes-sigs/kustomize ``api/types/kustomization.go``; ``bases`` and a
    generator's ``env`` as ``FixKustomization`` folds them in)."""
    for name, how in _LOCATION_LISTS:
        for i, value in _strings(data.get(name)):
            inline = name == "patchesStrategicMerge" and ("\n" in value or value.startswith("{"))
            yield Reference(
                (name, i) if i is not None else (name,), value, "inline" if inline else how
            )
    for name in ("patches", "patchesJson6902"):
        entries = data.get(name)
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            if isinstance(entry, str):
                yield Reference((name, i), entry, "patch")
            elif isinstance(entry, dict) and isinstance(entry.get("path"), str):
                yield Reference((name, i, "path"), entry["path"], "patch", entry.get("target"))
    for name in ("replacements",):
        entries = data.get(name)
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                yield Reference((name, i, "path"), entry["path"], "file")
    openapi = data.get("openapi")
    if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
        yield Reference(("openapi", "path"), openapi["path"], "file")
    for name in ("configMapGenerator", "secretGenerator"):
        entries = data.get(name)
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            if isinstance(entry, dict):
                yield from _generator_references(entry, (name, i))
    for name in ("helmCharts", "helmChartInflationGenerator"):
        entries = data.get(name)
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            if isinstance(entry, dict):
                yield from _helm_references(entry, (name, i))
    globals_ = data.get("helmGlobals")
    if isinstance(globals_, dict):
        yield from _helm_references(globals_, ("helmGlobals",))
    for name in _PLUGIN_FIELDS:
        entries = data.get(name)
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            if isinstance(entry, str):
                yield Reference((name, i), entry, "plugin")
            elif isinstance(entry, dict):
                yield from plugin_references(entry, (name, i))


def plugin_references(config: dict[str, Any], at: tuple[str | int, ...]) -> Iterator[Reference]:
    """The locations a builtin plugin's configuration names (``PatchTransformer.path``,
    ``PatchStrategicMergeTransformer.paths``, ``ConfigMapGenerator.files``,
    ``ReplacementTransformer.replacements[].path``, ``HelmChartInflationGenerator``...:
    kubernetes-sigs/kustomize ``plugin/builtin/*``)."""
    for key, how in (("path", "patch"), ("paths", "patch")):
        for i, value in _strings(config.get(key)):
            yield Reference(_at((*at, key), i), value, how, config.get("target"))
    yield from _generator_references(config, at)
    yield from _helm_references(config, at)
    entries = config.get("replacements")
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        if isinstance(entry, dict) and isinstance(entry.get("path"), str):
            yield Reference((*at, "replacements", i, "path"), entry["path"], "file")


def _generator_references(entry: dict[str, Any], at: tuple[str | int, ...]) -> Iterator[Reference]:
    for key in ("files", "envs", "env"):
        for i, value in _strings(entry.get(key)):
            path = value.partition("=")[2] or value if key == "files" else value
            yield Reference(_at((*at, key), i), path, "data")


def _helm_references(entry: dict[str, Any], at: tuple[str | int, ...]) -> Iterator[Reference]:
    for key, how in _HELM_KEYS:
        for i, value in _strings(entry.get(key)):
            yield Reference(_at((*at, key), i), value, how)


#: Kustomization fields that list locations, and what each entry is.
_LOCATION_LISTS = (
    ("resources", "ref"),
    ("bases", "ref"),
    ("components", "ref"),
    ("crds", "file"),
    ("configurations", "file"),
    ("patchesStrategicMerge", "patch"),
)
#: Helm chart fields: repositories (URLs only) and the files and folders helm would read.
_HELM_KEYS = (
    ("repo", "remote"),
    ("chartRepoUrl", "remote"),
    ("valuesFile", "file"),
    ("values", "file"),
    ("additionalValuesFiles", "file"),
    ("chartHome", "file"),
    ("configHome", "file"),
)


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def _add_patch_docs(scan: _Paths, target: str, selector: Any, k: Kustomization) -> None:
    raw = _read(target)
    if raw is None:
        return
    target_rel = scan.rel(target)
    loaded = scan.parse(raw, target_rel)
    sel = selector if isinstance(selector, dict) else {}
    for d in loaded.documents:
        data = d.data if isinstance(d.data, dict) else {}
        meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        kind = sel.get("kind") or data.get("kind")
        name = sel.get("name") or (meta or {}).get("name")
        k.patches.append(PatchDoc(target_rel, d, kind, name))


def discover_changed(
    root: Path,
    changed: set[str],
    memo: Memo | None = None,
    manifests: dict[str, str] | None = None,
) -> Discovery | None:
    """What ``discover([root])`` followed by narrowing to ``changed`` (repo-relative files)
    yields, without reading every kustomization in full: a name-only walk, a scan of each
    kustomization's (parse-cached) path entries, and a full read only of the kustomizations
    that reach a changed file. None when the repo has something this shortcut does not model
    (symlinks, references to folders the walk does not see): the caller then discovers all.

    Its kustomizations include every kustomization outside dot-folders that reaches a changed
    file (names it, or holds it in or below its folder, transitively). ``manifests``, when
    given, receives every file outside dot-folders with a manifest suffix (``.yaml``, ``.yml``,
    ``.json``, dot-files too; not kustomization files), a superset of ``discover``'s
    ``yaml_files``, each with the dialect the whole repo's check decodes it in
    (``servegate.sources``: a plain manifest as Kubernetes decodes it, one a kustomization
    names or holds as kustomize reads it)."""
    root = root.resolve()
    kdirs: set[str] = set()
    kfiles: dict[str, str] = {}
    yaml_files: set[str] = set()
    walked: list[str] = []
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
        elif CHART_FILE in names:
            return None  # a Helm chart: discover() knows what to do with it
        for e in entries:
            if e.name.startswith(".") and e.is_dir(follow_symlinks=False):
                continue
            if e.is_symlink():
                return None
            path = f"{d}/{e.name}" if d else e.name
            if e.is_dir():
                stack.append(path)
            elif e.name.endswith(MANIFEST_SUFFIXES) and e.name not in KUSTOMIZATION_NAMES:
                walked.append(path)
                if (e.name.startswith(".") or not e.name.endswith(YAML_SUFFIXES)) and (
                    path not in changed or not looks_like_manifest(e.path)
                ):
                    continue  # read only when it changed (the rest is not in scope)
                yaml_files.add(path)
    scan = _Paths(root, memo)
    refs = _all_path_entries(scan, kfiles)
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

    def full(k: str) -> Kustomization:
        if k not in read:
            read[k] = _read_kustomization(root, k, findings, scan)
        return read[k]

    # kustomizations reading a changed file, then (transitively) those including them
    touched = naming(changed)
    touched = {
        k
        for k in touched
        if changed.intersection([*full(k).files, *full(k).data_files, full(k).file])
    }
    # and those whose folder holds a changed file: kustomize may read any file in or below it
    # (a symlink's target, a file named in a transformer configuration), and the render key
    # hashes them all (Discovery.reads_any)
    touched.update(a for f in changed for a in (*ancestors(f), ".") if a in kdirs)
    frontier = set(touched)
    while frontier:
        new = {k for k in naming(frontier) - touched if frontier & set(full(k).dirs)}
        touched |= new
        frontier = new
    if _cycles({k: full(k) for k in touched}, _components({k: full(k) for k in touched})):
        return None  # discover() reports cycles and gives them roots
    included = {d for k in touched for d in full(k).dirs}
    roots = sorted(
        k
        for k in touched
        if k not in included
        and not any(k in full(o).dirs for o in named_by.get(k, ()))
        and not full(k).is_component
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
    check_graph(kustomizations, set(roots), findings, root)
    referenced = {f for k in naming(changed) for f in (*full(k).files, *full(k).data_files)}
    plain = sorted(
        f
        for f in changed
        if f in yaml_files and f not in referenced and posix_parent(f) not in kdirs
    )
    if manifests is not None:
        from servegate.yamlsafe import KUBERNETES

        for path in walked:  # plain as discover() tells it: named by none, in no kustomization
            plain_file = path not in named_by and posix_parent(path) not in kdirs
            manifests[path] = KUBERNETES if plain_file else dialect_for(path)
    discovery = Discovery(root, kustomizations, roots, plain, [], [])
    keep = set(plain) | {f for r in roots for f in discovery.inputs(r)}
    for k in sorted(naming(keep | changed)):
        if k not in kustomizations:
            full(k)  # for its findings on kept files
    discovery.yaml_files = sorted(f for f in yaml_files if f in keep or f in changed)
    discovery.findings = [f for f in findings if f.file in keep or f.file in changed]
    return discovery


def read_closure(
    root: Path,
    kdirs: Iterable[str],
    known: dict[str, Kustomization],
    findings: list[Finding],
    memo: Memo,
) -> None:
    """Read each of ``kdirs`` and every kustomization it includes, as ``discover`` reads them,
    into ``known`` (those already there are not read again); their findings go to
    ``findings``. For a narrowed discovery that lacks what an Application deploys."""
    _read_closures(root, kdirs, known, findings, _Paths(root, memo))


def _read_closures(
    root: Path,
    kdirs: Iterable[str],
    known: dict[str, Kustomization],
    findings: list[Finding],
    scan: _Paths,
) -> None:
    pending = list(kdirs)
    while pending:
        d = pending.pop()
        if d in known:
            continue
        k = known[d] = _read_kustomization(root, d, findings, scan)
        pending.extend(x for x in k.dirs if x not in known)


def ancestors(path: str) -> Iterator[str]:
    """The folders above a repo-relative ``path``, nearest first, without "."."""
    parent = path.rpartition("/")[0]
    while parent:
        yield parent
        parent = parent.rpartition("/")[0]


#: The most kustomization builds one root may cost. kustomize builds an included kustomization
#: again on every path that reaches it (kubernetes-sigs/kustomize ``api/internal/target/
#: kusttarget.go``: each ``accumulateDirectory`` makes a new ``KustTarget``), so includes that
#: share bases can double the work at every level; about 2,000 builds of a few objects took
#: 30 s on the project's 2-core machine. A real overlay costs tens.
MAX_BUILDS = 10_000
#: The most input one root's render may read, in bytes, counting each file again on every path
#: that reaches it (a 250 KB ConfigMap under nine doubling levels is 128 MB that kustomize
#: copies, prints and servegate parses: 35 s of kustomize and 1.4 GB of memory here, from a
#: 488 KB repo). A real overlay reads kilobytes; a root that installs large CRDs, megabytes.
MAX_RENDER_BYTES = 64 * 1024 * 1024
#: The same bound over every root of one check.
RUN_RENDER_BYTES = 256 * 1024 * 1024


def check_graph(
    kustomizations: dict[str, Kustomization],
    candidates: set[str],
    findings: list[Finding],
    root: Path | None = None,
) -> list[str]:
    """The roots among ``candidates`` (kustomization folders found by the walk), after
    reporting include cycles and roots whose include graph costs more than ``MAX_BUILDS``
    builds. Every member of a cycle gets a ``repo.kustomize-error`` at the entry that continues
    the cycle and is blocked; a cycle no other kustomization includes is a root of its own,
    so that its findings belong to a root (kustomize itself refuses it: "cycle detected",
    ``api/internal/loader/fileloader.go``)."""
    component = _components(kustomizations)
    for members in _cycles(kustomizations, component):
        for d in members:
            k = kustomizations[d]
            k.blocked = True
            for target, line in zip(k.dirs, k.dir_lines, strict=False):
                if component.get(target) == component[d]:
                    path = " -> ".join(_cycle_path(kustomizations, component, d, target))
                    findings.append(
                        KUSTOMIZE_ERROR.finding(
                            f"kustomization cycle: {path}; kustomize refuses it ('cycle detected')",
                            k.file,
                            line,
                        )
                    )
                    break
    from_outside = {
        d
        for k in kustomizations.values()
        for d in k.dirs
        if component.get(d) != component.get(k.dir)
    }
    # a Component nothing includes deploys nothing: not a root (and not an error)
    roots = sorted(
        d
        for d in candidates
        if d not in from_outside and not (d in kustomizations and kustomizations[d].is_component)
    )
    builds = _build_counts(kustomizations, component)
    for r in roots:
        root_k = kustomizations.get(r)
        count = builds.get(r, 0)
        if root_k is not None and count > MAX_BUILDS:
            root_k.blocked = True
            findings.append(
                KUSTOMIZE_ERROR.finding(
                    f"rendering {r} would build {_count(count)} kustomizations (kustomize "
                    f"builds an included base again on every path that reaches it; servegate "
                    f"allows {MAX_BUILDS:,}): include each shared base once, higher up",
                    root_k.file,
                    1,
                )
            )
    if root is not None:
        _check_render_bytes(kustomizations, component, roots, root, findings)
    return roots


def _check_render_bytes(
    kustomizations: dict[str, Kustomization],
    component: dict[str, int],
    roots: list[str],
    root: Path,
    findings: list[Finding],
) -> None:
    """Block each root whose render would read more than ``MAX_RENDER_BYTES`` (its files
    counted once per path that reaches them), and the roots past ``RUN_RENDER_BYTES`` in all."""
    sizes: dict[str, int] = {}

    def size(rel: str) -> int:
        found = sizes.get(rel)
        if found is None:
            try:
                found = os.stat(os.path.join(root, rel)).st_size
            except (OSError, ValueError):
                found = 0  # missing or unreadable: kustomize reports it
            sizes[rel] = found
        return found

    own = {d: sum(map(size, {*k.files, *k.data_files})) for d, k in kustomizations.items()}
    expanded = _expanded(kustomizations, component, own)
    total = 0
    for r in roots:
        root_k = kustomizations.get(r)
        if root_k is None or root_k.blocked:
            continue
        needed = expanded.get(r, 0)
        if needed > MAX_RENDER_BYTES:
            why = (
                f"rendering {r} would read {_mib(needed)} of resources (kustomize reads an "
                f"included base again on every path that reaches it; servegate allows "
                f"{_mib(MAX_RENDER_BYTES)} per root): include each shared base once, higher up"
            )
        elif total + needed > RUN_RENDER_BYTES:
            why = (
                f"rendering {r} would bring what this check's roots read to {_mib(total + needed)}"
                f"; servegate renders up to {_mib(RUN_RENDER_BYTES)} per check"
            )
        else:
            total += needed
            continue
        root_k.blocked = True
        findings.append(KUSTOMIZE_ERROR.finding(why, root_k.file, 1))


def _mib(n: int) -> str:
    return f"more than {10**15:,} bytes" if n > 10**15 else f"{n / 1048576:,.0f} MiB"


def _expanded(
    kustomizations: dict[str, Kustomization], component: dict[str, int], own: dict[str, int]
) -> dict[str, int]:
    """What rendering each folder costs: its ``own`` cost plus the cost of every entry of
    ``dirs`` (with repeats: kustomize builds a base again on every path that reaches it), not
    following includes inside a cycle."""
    totals: dict[str, int] = {}
    for start in sorted(kustomizations):
        work = [(start, False)]
        while work:
            node, expanded = work.pop()
            if node in totals:
                continue
            edges = [
                d
                for d in kustomizations[node].dirs
                if d in kustomizations and component.get(d) != component.get(node)
            ]
            if not expanded:
                work.append((node, True))
                work.extend((d, False) for d in edges if d not in totals)
                continue
            totals[node] = min(own.get(node, 0) + sum(totals[d] for d in edges), 10**18)
    return totals


def _count(n: int) -> str:
    return f"more than {10**15:,}" if n > 10**15 else f"{n:,}"


def _components(kustomizations: dict[str, Kustomization]) -> dict[str, int]:
    """Strongly connected components of the include graph (Tarjan's algorithm, iterative):
    folder -> component number."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    component: dict[str, int] = {}
    counter = components = 0
    for start in sorted(kustomizations):
        if start in index:
            continue
        work: list[tuple[str, int]] = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            edges = [d for d in kustomizations[node].dirs if d in kustomizations]
            if i < len(edges):
                work.append((node, i + 1))
                nxt = edges[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component[member] = components
                    if member == node:
                        break
                components += 1
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return component


def _cycles(kustomizations: dict[str, Kustomization], component: dict[str, int]) -> list[list[str]]:
    """The members of each component that holds a cycle (two members, or a self-include)."""
    groups: dict[int, list[str]] = {}
    for d, c in component.items():
        groups.setdefault(c, []).append(d)
    return [
        sorted(members)
        for members in groups.values()
        if len(members) > 1 or members[0] in kustomizations[members[0]].dirs
    ]


def _cycle_path(
    kustomizations: dict[str, Kustomization], component: dict[str, int], start: str, first: str
) -> list[str]:
    """A shortest include path ``start -> first -> ... -> start`` inside one component."""
    came: dict[str, str | None] = {first: None}
    queue = [first]
    while queue and start not in came:
        here = queue.pop(0)
        for d in kustomizations[here].dirs:
            if d not in came and component.get(d) == component[start]:
                came[d] = here
                queue.append(d)
    path: list[str] = []
    at: str | None = start if start in came else None
    while at is not None:
        path.append(at)
        at = came[at]
    return [start, *reversed(path)] if path else [start, first]


def _build_counts(
    kustomizations: dict[str, Kustomization], component: dict[str, int]
) -> dict[str, int]:
    """How many kustomization builds rendering each folder costs: itself plus the builds of
    every entry of ``dirs`` (with repeats), not following includes inside a cycle."""
    return _expanded(kustomizations, component, dict.fromkeys(kustomizations, 1))


def posix_parent(path: str) -> str:
    parent = path.rpartition("/")[0]
    return parent or "."


def remember_path_entries(discovery: Discovery, memo: Memo) -> None:
    """After discovering a whole repo: bring the path entry memo of ``_all_path_entries`` up
    to date (the memo's digests have usually read the kustomizations already), so the next
    ``--changed-files`` run reads none of them."""
    kfiles = {k.dir: k.file for k in discovery.kustomizations.values()}
    _all_path_entries(_Paths(discovery.root, memo), kfiles)


def _all_path_entries(scan: _Paths, kfiles: dict[str, str]) -> dict[str, set[str]]:
    """The paths each kustomization of the repo names (``kfiles``: all of them), normalised
    repo-relative: a superset of what ``_read_kustomization`` lists. Remembered per repo by
    the content digest of each kustomization file (``servegate.memo.paths``), so a pre-commit
    run parses only the kustomizations that changed."""
    from servegate.memo.paths import path_entries

    def read(kdir: str, kfile: str, raw: bytes) -> set[str]:
        return _entries_of(scan, raw, kdir, kfile)

    return path_entries(scan.memo, scan.root, kfiles, read)


def _entries_of(scan: _Paths, raw_bytes: bytes, kdir: str, kfile: str) -> set[str]:
    import posixpath

    loaded = scan.parse(raw_bytes, kfile)
    if not loaded.documents or not isinstance(loaded.documents[0].data, dict):
        return set()
    data: dict[str, Any] = loaded.documents[0].data
    raw = [r.value for r in references(data) if r.how not in ("inline", "remote")]
    base = "" if kdir == "." else kdir
    return {posixpath.normpath(posixpath.join(base, e)) for e in raw}

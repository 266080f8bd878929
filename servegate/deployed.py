"""Check what the repo's Argo CD Applications deploy, as Argo CD renders it.

Discovery checks every kustomize root and plain manifest of the repo. Argo CD deploys more
than that view shows, and this module closes the gap, for every Application (and every
Application an ApplicationSet generates, ``servegate.argocd_apps``) whose source is this repo:

- the source's tool is the one Argo CD picks (``util/app/discovery/discovery.go``: the one
  ``spec.source`` names, else a kustomization in the folder, else a ``*Chart.yaml``, else a
  directory; more than one named is refused);
- a kustomize source is rendered as a root even when another kustomization includes it, and
  with its ``spec.source.kustomize`` settings applied as Argo CD applies them
  (``servegate.argocd_kustomize``);
- a directory source applies the files Argo CD's rules select (``servegate.argocd_directory``:
  ``recurse``, ``include``/``exclude``, dot-files and dot-folders, ``.json``), decoded as Argo CD
  decodes them; a ``.jsonnet`` file is an error finding (servegate does not evaluate Jsonnet);
- a Helm source (and every chart folder of the repo) is rendered with ``helm template`` and
  the Application's values (``servegate.helm``), or is an error finding when it cannot be;
- a Config Management Plugin other than servegate's is an error finding;
- a source from another repository or a chart registry is a warning (not checked here).

A finding on what an Application deploys names the Application, unless the repo's own check
found the same already. Sources are few, and the scan of the repo's files for Applications is
remembered by file digest, so a warm check adds no work per object.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from servegate.argocd_apps import AppSource, Repo, records, sources_of
from servegate.deployment import Action, Deployment
from servegate.model import Finding, Unit
from servegate.patched_apps import patched
from servegate.resource import Origin, as_dict, as_list
from servegate.rules.argocd.source_external import RULE as EXTERNAL
from servegate.rules.argocd.source_unchecked import RULE as UNCHECKED

if TYPE_CHECKING:
    from servegate.discover import Discovery
    from servegate.memo import Memo
    from servegate.plan import Planner
    from servegate.render import Budget
    from servegate.sources import SourceFiles

APP_UNIT = "app:"
CHART_UNIT = "chart:"
#: Plugin names that are servegate's own (``argo/cmp/plugin.yaml``; ``<name>-<version>``).
OWN_PLUGIN = re.compile(r"^servegate(-.*)?$")
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def extend(
    discovery: Discovery,
    memo: Memo,
    applications: bool = True,
    touched: set[str] | None = None,
    full: Discovery | None = None,
    manifests: Mapping[str, str] | None = None,
) -> Discovery:
    """``discovery`` with the kustomize roots the repo's Applications deploy added to its roots
    (they are rendered, remembered and checked as every root, in the environment the repo maps
    their folder to), and the rest of the work recorded on ``discovery.deployed``. Runs before
    ``--shard`` splits the check: a shard keeps the roots of its own and the Applications
    whose file it owns. Without ``applications`` only the chart folders are added.

    A narrowed check (``touched``: the files ``--changed-files``/``--base`` name) reads every
    Application of the repo, and keeps what one deploys when its file is in scope or what it
    deploys can read a touched file (the overlay, the components and patch files its settings
    add, the directory's files, the chart): narrowing never drops what a change reaches. It
    needs the whole repo's discovery (``full``: the caller's, else discovered here), unless
    ``discovery`` is ``discover_changed``'s (``manifests``: every manifest file of the repo it
    walked, with the dialect a whole check decodes it in): that one holds every kustomization
    outside dot-folders that reaches a touched file, so what an unchanged Application deploys
    outside it reaches none and is not read."""
    root = discovery.root
    scan = list(discovery.yaml_files)
    in_scope = set(scan)
    complete = manifests is not None
    if touched is not None and applications:
        if manifests is not None:
            scan = sorted(in_scope.union(manifests))
        else:
            if full is None:
                from servegate.discover import discover

                full = discover([root], root, memo)
            scan = sorted(in_scope.union(full.yaml_files))
        in_scope |= touched
    found = _records(discovery, memo, scan if applications else [], manifests)
    deployment = Deployment()
    repo = Repo(root)
    remotes = _remotes(root)
    extra: list[str] = []
    deployed_charts: set[str] = set()
    for rel, record in found:
        repo.read.clear()
        app_sources, notes = sources_of(record, rel, repo)
        # an ApplicationSet whose Git files generator reads a touched file is in scope
        if touched is None or rel in in_scope or not repo.read.isdisjoint(touched):
            deployment.findings.extend(notes)
            for source in app_sources:
                _resolve(discovery, source, remotes, deployment, extra, deployed_charts)
            continue
        for source in app_sources:  # an unchanged Application: keep what a change reaches
            maybe = Deployment()
            wanted: list[str] = []
            _resolve(discovery, source, remotes, maybe, wanted, deployed_charts)
            if complete:  # only a dot-folder may reach a touched file unseen: read those
                wanted = [k for k in wanted if k in discovery.kustomizations or _dotted(k)]
            _read_missing(discovery, wanted, memo, full)
            kept = [k for k in maybe.roots if _reaches(discovery, k, touched)]
            actions = [a for a in maybe.actions if _touches(discovery, a, touched, complete)]
            deployment.roots.extend(kept)
            deployment.actions.extend(actions)
            extra.extend([*kept, *(a.path for a in actions)] if complete else wanted)
    for chart in discovery.charts:
        if chart not in deployed_charts and (
            touched is None or any(_below(f, chart) for f in touched)
        ):
            deployment.actions.append(Action("helm", chart, None))
    _read_missing(discovery, extra, memo, full)
    roots = list(discovery.roots)
    for kdir in dict.fromkeys(deployment.roots):
        if kdir not in roots and kdir in discovery.kustomizations:
            roots.append(kdir)
    return replace(discovery, roots=roots, deployed=deployment)


def _dotted(rel: str) -> bool:
    """Whether a repo-relative path is in (or is) a dot-folder."""
    return any(part.startswith(".") and part not in (".", "..") for part in rel.split("/"))


def _records(
    discovery: Discovery,
    memo: Memo,
    files: Sequence[str],
    dialects: Mapping[str, str] | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """(file, record) of every Application and ApplicationSet in ``files``, remembered by
    each file's digest (``servegate.memo.apps``). Each file is decoded as the whole repo's
    check decodes it: by ``discovery``'s plain files, else by ``dialects``."""
    from servegate.memo.apps import AppsMemo
    from servegate.sources import SourceFiles

    root = discovery.root
    known_apps = AppsMemo(memo, root)
    sources = SourceFiles(root, discovery.plain_files, memo)
    plain = set(discovery.plain_files)

    def decode(rel: str) -> str:
        if dialects is not None and rel not in plain:
            found = dialects.get(rel)
            if found is not None:
                return found
        return sources.dialect_of(rel)

    hasher = memo.hasher(root) if known_apps.enabled else None
    found: list[tuple[str, dict[str, Any]]] = []
    for rel in files:
        known = None
        key = b""
        if hasher is not None:
            try:
                key = hasher.file(rel) + decode(rel).encode()  # records depend on both
            except OSError:
                key = b""
            known = known_apps.get(key) if key else None
        if known is None:
            try:
                raw = (root / rel).read_bytes()
            except OSError:
                continue
            if may_hold_application(raw):
                loaded = memo.parses.load(raw, rel, decode(rel))
                known = records(((d.data, d) for d in loaded.documents), rel)
            else:
                known = []
            if key:
                known_apps.put(key, known)
        found.extend((rel, r) for r in known)
    known_apps.save()
    return found


def may_hold_application(raw: bytes) -> bool:
    """Whether a file's bytes may hold an Argo CD Application or ApplicationSet once decoded
    (only those are parsed to find out). Its ``kind`` is written ``Application...`` in the
    bytes unless something hides it from a byte search, and then the file is parsed too: an
    escape that yields a letter or joins lines (``\\x``, ``\\u``, ``\\U``, or a backslash before
    a line break, NEL, LINE or PARAGRAPH SEPARATOR included, as go-yaml's ``is_break`` counts
    them: ``gopkg.in/yaml.v2`` ``yamlh.go``), a YAML tag that is not local (``!!binary`` decodes
    base64 into any text: go-yaml ``decode.go`` ``scalar``; ``!<...>`` verbatim tags and
    ``%TAG`` handles name it otherwise), or an encoding other than UTF-8 (a NUL byte, a UTF-16
    byte-order mark). Searching for ``argoproj.io`` instead matched every Argo Rollouts
    manifest, and an escaped ``apiVersion`` slipped past it."""
    return (
        b"Application" in raw
        or _HIDING.search(raw) is not None
        or b"\x00" in raw
        or raw[:2] in (b"\xff\xfe", b"\xfe\xff")
    )


#: What can spell ``Application`` without its bytes: escapes that yield a letter or join two
#: lines (any line break go-yaml knows), and tags other than local ones.
_HIDING = re.compile(
    rb"\\(?:[xuU\r\n]|\xc2\x85|\xe2\x80[\xa8\xa9])|!!|!<|%TAG",
)


def _below(rel: str, folder: str) -> bool:
    return folder == "." or rel == folder or rel.startswith(folder + "/")


def _reaches(discovery: Discovery, kdir: str, touched: set[str]) -> bool:
    return kdir in discovery.kustomizations and discovery.reads_any(kdir, touched)


def _touches(discovery: Discovery, action: Action, touched: set[str], complete: bool) -> bool:
    """Whether rendering ``action`` can read one of ``touched`` (when unsure: yes).
    ``complete``: ``discovery`` holds every kustomization outside dot-folders that reaches a
    touched file (``extend``), so one outside it reaches none."""
    if action.kind != "kustomize":
        named = repr(action.settings)  # a Helm value file may live elsewhere ($ref)
        return any(
            _below(f, action.path) or (action.kind == "helm" and posixpath.basename(f) in named)
            for f in touched
        )
    if _reaches(discovery, action.path, touched):
        return True
    for component in as_list(action.settings.get("components")):
        if isinstance(component, str):
            kdir = posixpath.normpath(posixpath.join(action.path, component))
            if any(_below(f, kdir) for f in touched) or _reaches(discovery, kdir, touched):
                return True
            if kdir not in discovery.kustomizations and not (complete and not _dotted(kdir)):
                return True  # a component it cannot see
    for patch in as_list(action.settings.get("patches")):
        target = as_dict(patch).get("path")
        if (
            isinstance(target, str)
            and posixpath.normpath(posixpath.join(action.path, target)) in touched
        ):
            return True
    return action.path not in discovery.kustomizations and not (
        complete and not _dotted(action.path)
    )


def _read_missing(
    discovery: Discovery, kdirs: list[str], memo: Memo, full: Discovery | None = None
) -> None:
    """Make sure the kustomizations Applications deploy, and those they include, are read: a
    narrowed discovery (``--changed-files``) holds only the kept roots' ones. From ``full``
    (the whole repo's discovery) when the caller has it, else read here as discovery reads
    them, with their findings (one in a dot-folder, which discovery's walk skips, too)."""
    missing = [k for k in kdirs if k not in discovery.kustomizations]
    if not missing:
        return
    copied: set[str] = set()
    unread: list[str] = []
    for kdir in missing:
        if full is not None and kdir in full.kustomizations:
            for k in full.closure(kdir):
                if k.dir not in discovery.kustomizations:
                    discovery.kustomizations[k.dir] = k
                    copied.update((k.file, *k.files, *k.data_files))
        else:
            unread.append(kdir)
    if unread:
        from servegate.discover import read_closure

        read_closure(discovery.root, unread, discovery.kustomizations, discovery.findings, memo)
    if full is not None and copied:  # what reading them found, which narrowing had dropped
        known = set(discovery.findings)
        discovery.findings.extend(f for f in full.findings if f.file in copied and f not in known)
    discovery.forget_closures()


def _remotes(root: Path) -> set[str]:
    """This repo's remote URLs (normalised) from ``.git/config``; empty when unknown."""
    config = root / ".git" / "config"
    try:
        text = config.read_text("utf-8", "replace")
    except OSError:
        return set()
    return {_normal_url(u) for u in re.findall(r"^\s*url\s*=\s*(\S+)\s*$", text, re.MULTILINE)}


def _normal_url(url: str) -> str:
    """``https://Host:443/org/repo.git``, ``git@host:org/repo`` and ``ssh://git@host/org/repo``
    all become ``host/org/repo``, lowercased whole as Argo CD's ``git.NormalizeGitURL``
    (``util/git/git.go``) compares repository URLs: ``https://host/ORG/Repo`` is this repo to
    Argo CD, so it is to servegate."""
    url = url.strip().rstrip("/")
    scheme = re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", url)
    if scheme:
        url = re.sub(r"^[^@/]+@", "", url[scheme.end() :])
        host, _, rest = url.partition("/")
        host = host.split(":")[0]
    else:
        url = re.sub(r"^[^@/:]+@", "", url)
        host, sep, rest = url.partition(":")
        if not sep or "/" in host:
            host, _, rest = url.partition("/")
    rest = rest.removesuffix(".git").strip("/")
    return f"{host}/{rest}".lower()


def _resolve(
    discovery: Discovery,
    source: AppSource,
    remotes: set[str],
    deployment: Deployment,
    extra: list[str],
    deployed_charts: set[str],
) -> None:
    """Decide what Argo CD renders from ``source`` and record the work or the finding."""
    root = discovery.root
    spec = source.source

    def flag(rule: Any, message: str, key: str = "") -> None:
        deployment.findings.append(
            rule.finding(f"{source.label}: {message}", source.file, source.line_of(key), source.app)
        )

    repo_url = spec.get("repoURL")
    path = spec.get("path")
    if spec.get("chart") and not path:
        flag(
            EXTERNAL,
            f"chart {spec.get('chart')!r} comes from {repo_url!r}: not checked here "
            "(vendor the chart to check it)",
            "chart",
        )
        return
    if isinstance(repo_url, str) and remotes and _normal_url(repo_url) not in remotes:
        flag(
            EXTERNAL,
            f"deploys {repo_url!r}, another repository than this one: not checked here",
            "repoURL",
        )
        return
    if path is None or not isinstance(path, str):
        path = ""
    normal = posixpath.normpath(path.lstrip("/")) if path.strip("/") else "."
    full = root / normal
    if normal == ".." or normal.startswith("../") or not _inside(root, full):
        flag(UNCHECKED, f"path {path!r} leaves the repo; Argo CD refuses it", "path")
        return
    if not full.is_dir():
        if not remotes:
            return  # most likely another repository's path: nothing here for it to deploy
        flag(
            EXTERNAL,
            f"path {path!r} is no folder of this repo: not checked here (if "
            "the source is another repository, check it there)",
            "path",
        )
        return
    named = [k for k in ("kustomize", "helm", "directory", "plugin") if spec.get(k) is not None]
    if len(named) > 1:
        flag(
            UNCHECKED,
            f"the source names {', '.join(named)}: Argo CD refuses more than one "
            "tool ('multiple application sources defined')",
            named[1],
        )
        return
    names = sorted(os.listdir(full))
    tool = named[0] if named else _detected(names)
    if tool == "plugin":
        plugin = as_dict(spec.get("plugin"))
        name = plugin.get("name")
        if isinstance(name, str) and name and not OWN_PLUGIN.match(name):
            flag(
                UNCHECKED,
                f"plugin {name!r} renders this source, and it is not servegate's: "
                "what it renders cannot be checked",
                "plugin",
            )
            return
        tool = "kustomize" if any(n in KUSTOMIZATION_NAMES for n in names) else "covered"
        if tool == "covered":
            return  # servegate's plugin checks what servegate's discovery finds there
    if tool == "kustomize":
        settings = as_dict(spec.get("kustomize"))
        kfile = next((n for n in KUSTOMIZATION_NAMES if (full / n).is_file()), None)
        if kfile is None:
            flag(
                UNCHECKED,
                f"{normal} holds no kustomization: Argo CD's kustomize build fails",
                "kustomize",
            )
            return
        from servegate.argocd_kustomize import effective

        if effective(settings):
            deployment.actions.append(Action("kustomize", normal, source, settings))
            extra.append(normal)  # read (for the shadow), not rendered as it is
        else:
            extra.append(normal)
            deployment.roots.append(normal)
        return
    if tool == "helm":
        deployed_charts.add(normal)
        deployment.actions.append(Action("helm", normal, source, as_dict(spec.get("helm"))))
        return
    deployment.actions.append(Action("directory", normal, source, as_dict(spec.get("directory"))))


def _detected(names: Sequence[str]) -> str:
    """Argo CD's ``AppType`` for a folder's file names (lexical walk; the later wins)."""
    tool = "directory"
    for name in names:
        if name.endswith("Chart.yaml"):
            tool = "helm"
        if name in KUSTOMIZATION_NAMES:
            tool = "kustomize"
    return tool


def _inside(root: Path, path: Path) -> bool:
    real = os.path.realpath(path)
    base = str(root)
    if real == base or real.startswith(base + os.sep):
        return True  # a resolved path below the root as given: the root is real too
    base = os.path.realpath(root)
    return real == base or real.startswith(base + os.sep)


# ---- rendering and loading ----------------------------------------------------------------


def load_units(
    discovery: Discovery,
    sources: SourceFiles,
    planner: Planner,
    memo: Memo,
    scratch: Path,
    budget: Budget | None,
) -> tuple[list[Unit], list[Finding]]:
    """The units of ``discovery.deployed``'s actions, loaded, and the findings of resolving
    the sources and of what could not be rendered. Each unit's environment is the one the
    repo maps its folder to (``Planner.environment_of``), as for every root; every kustomize
    and helm process shares the run's ``budget``."""
    deployment = discovery.deployed
    if deployment is None:
        return [], []
    shard = discovery.shard
    findings = [f for f in deployment.findings if _own_shard(shard, f.file)]
    units: list[Unit] = []
    seen: set[str] = set()
    ids: set[str] = set()
    from servegate import render

    if budget is None:
        budget = render.Budget.for_roots(len(deployment.actions))
    for action in deployment.actions:
        # sharded: the shard of the Application's file renders what it deploys; a chart no
        # Application deploys, its own path's shard
        if not _own_shard(shard, action.source.file if action.source else action.path):
            continue
        key = repr((action.kind, action.path, action.source and action.source.app, action.settings))
        if key in seen:
            continue
        seen.add(key)
        label = action.source.label if action.source else f"chart {action.path}"
        unit_id = _unit_id(action, label)
        if unit_id in ids:  # two sources of one Application deploy the folder differently
            unit_id = f"{unit_id}#{len(ids)}"
        ids.add(unit_id)
        unit = Unit(unit_id, action.path, planner.environment_of(action.path))
        units.append(unit)
        if action.kind == "kustomize":
            _load_kustomize(discovery, sources, action, unit, scratch, budget, memo)
        elif action.kind == "directory":
            _load_directory(discovery, action, unit, findings)
        else:
            timeout = max(min(render.RENDER_TIMEOUT_S, budget.remaining()), 0.0)
            _load_helm(discovery, action, unit, scratch, timeout)
    return units, findings


def _own_shard(shard: tuple[int, int, str] | None, name: str) -> bool:
    if shard is None or shard[1] <= 1:
        return True
    from servegate.shard import shard_of

    return shard_of(name, shard[1]) == shard[0]


def _unit_id(action: Action, label: str) -> str:
    if action.source is None:
        return f"{CHART_UNIT}{action.path}"
    return f"{APP_UNIT}{label}:{action.kind}:{action.path}"


def _fail(unit: Unit, action: Action, message: str, key: str = "", file: str | None = None) -> None:
    source = action.source
    if source is None:
        unit.findings.append(UNCHECKED.finding(message, file or f"{action.path}/Chart.yaml", 1))
        return
    unit.findings.append(
        UNCHECKED.finding(
            f"{source.label}: {message}",
            file or source.file,
            source.line_of(key) if not file else 1,
            source.app,
        )
    )


def _env(source: AppSource) -> dict[str, str]:
    """The Argo CD build environment (``reposerver/repository/repository.go`` ``newEnv``)
    that servegate can know; the revision is not known before the sync."""
    return {
        "ARGOCD_APP_NAME": source.app.name,
        "ARGOCD_APP_NAMESPACE": source.destination_namespace or "",
        "ARGOCD_APP_SOURCE_PATH": str(source.source.get("path") or ""),
        "ARGOCD_APP_SOURCE_REPO_URL": str(source.source.get("repoURL") or ""),
        "ARGOCD_APP_SOURCE_TARGET_REVISION": str(source.source.get("targetRevision") or ""),
    }


def _load_kustomize(
    discovery: Discovery,
    sources: SourceFiles,
    action: Action,
    unit: Unit,
    scratch: Path,
    budget: Budget,
    memo: Memo,
) -> None:
    import yaml

    from servegate.argocd_kustomize import EditError, edit, make_shadow
    from servegate.objects import resources
    from servegate.origins import origin_for, strip_build_annotations
    from servegate.remotes import remote_kind
    from servegate.render import build, foreign_origin
    from servegate.resource import is_k8s_object
    from servegate.yamlsafe import load_plain

    assert action.source is not None
    root = discovery.root
    k = discovery.kustomizations.get(action.path)
    if k is None or k.document is None or any(c.blocked for c in discovery.closure(action.path)):
        return  # its own findings say why it cannot be rendered
    settings = action.settings
    for component in as_list(settings.get("components")):
        if isinstance(component, str) and remote_kind(component) is not None:
            _fail(
                unit,
                action,
                f"kustomize component {component!r} is remote: servegate never fetches",
                "kustomize",
            )
            return
        if isinstance(component, str) and not _inside(root, root / action.path / component):
            _fail(unit, action, f"kustomize component {component!r} leaves the repo", "kustomize")
            return
    for patch in as_list(settings.get("patches")):
        target = as_dict(patch).get("path")
        if isinstance(target, str) and (
            remote_kind(target) is not None or not _inside(root, root / action.path / target)
        ):
            _fail(
                unit,
                action,
                f"kustomize patch path {target!r} is remote or leaves the repo",
                "kustomize",
            )
            return
    try:
        data = edit(
            k.document.data,
            settings,
            _env(action.source),
            lambda c: (root / action.path / c).exists(),
        )
    except EditError as err:
        _fail(unit, action, f"Argo CD's kustomize edit fails: {err}", "kustomize")
        return
    base = root / action.path
    needed = {
        os.path.relpath(root / f, base)
        for f in (*k.files, *k.data_files)
        if _inside(base, root / f)
    }
    for patch in as_list(settings.get("patches")):
        target = as_dict(patch).get("path")
        if isinstance(target, str):
            needed.add(os.path.normpath(target))
    text = yaml.safe_dump(data, sort_keys=False)
    kfile_name = Path(k.file).name
    key = _shadow_key(discovery, action, text, kfile_name, needed, memo)
    renders = None
    if key is not None:
        from servegate.memo.renders import RenderMemo

        renders = RenderMemo(memo)
    entry = renders.get(key) if renders is not None and key is not None else None
    bodies: list[Any] | None = None
    if entry is not None and entry.output is not None:
        output, wrapper, bodies = entry.output, entry.wrapper, entry.objects
    else:
        shadow = make_shadow(root, action.path, kfile_name, text, needed, scratch)
        built, error, _ = build(shadow.wrapper, shadow.root, budget)
        if built is None:
            _fail(
                unit,
                action,
                f"kustomize build with the Application's settings failed: {error}",
                "kustomize",
            )
            return
        output, wrapper = built, str(shadow.virtual_wrapper)
        foreign = foreign_origin(output, wrapper, root)
        if foreign is not None:
            _fail(unit, action, foreign, "kustomize")
            return
        if renders is not None and key is not None:
            from servegate.memo.renders import Entry, holds, parsed

            bodies = parsed(output)
            renders.put(key, Entry(output, None, wrapper, bodies if holds(bodies) else None))
    try:
        if bodies is None:
            bodies = load_plain(output)
    except yaml.YAMLError as err:
        _fail(unit, action, f"kustomize output is not YAML: {str(err).splitlines()[0]}")
        return
    for body in bodies:
        if not is_k8s_object(body):
            continue
        origin_path = strip_build_annotations(body)
        origin = origin_for(body, origin_path, wrapper, action.path, discovery, sources)
        if origin.file == k.file and origin.document is None:
            origin = replace(origin, file=action.source.file)
        unit.resources.extend(resources(body, origin))
    unit.files.update(r.origin.file for r in unit.resources)
    unit.findings.extend(patched(unit.resources, unit.id))


def _shadow_key(
    discovery: Discovery,
    action: Action,
    text: str,
    kfile_name: str,
    needed: set[str],
    memo: Memo,
) -> str | None:
    """The render memo's key of a shadow render: everything the plain render of the overlay
    depends on (``render.render_keys``), the render keys of the components the settings add,
    the digests of the patch files they name, and the edited kustomization itself (which holds
    the settings and the Argo CD variables they use). None (not remembered) when the memo is
    off or an input is not a file or kustomization the repo's discovery knows."""
    if not memo.enabled:
        return None
    import hashlib

    from servegate.render import render_keys

    root = discovery.root
    kdirs = [action.path]
    for component in as_list(action.settings.get("components")):
        if not isinstance(component, str):
            continue
        kdir = posixpath.normpath(posixpath.join(action.path, component))
        if kdir not in discovery.kustomizations:
            return None
        kdirs.append(kdir)
    digest = hashlib.sha256(b"servegate-argocd-shadow-v1")
    hasher = memo.hasher(root)
    try:
        for kdir, key in sorted(render_keys(discovery, kdirs, memo).items()):
            digest.update(f"\0k{kdir}\0{key}".encode("utf-8", "surrogateescape"))
        for patch in as_list(action.settings.get("patches")):
            target = as_dict(patch).get("path")
            if isinstance(target, str):
                rel = posixpath.normpath(posixpath.join(action.path, target))
                if not (root / rel).is_file():
                    return None
                digest.update(b"\0p" + rel.encode("utf-8", "surrogateescape") + hasher.file(rel))
    except OSError:
        return None
    for part in (kfile_name, text, *sorted(needed)):
        digest.update(b"\0t" + part.encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def _load_directory(
    discovery: Discovery, action: Action, unit: Unit, findings: list[Finding]
) -> None:
    from servegate.argocd_directory import select
    from servegate.objects import resources
    from servegate.sources import SourceFiles

    chosen = select(discovery.root, action.path, action.settings)
    for rel, message in chosen.problems:
        _fail(unit, action, f"{rel}: {message}", "directory")
    for rel in chosen.jsonnet:
        _fail(
            unit,
            action,
            f"{rel} is Jsonnet, which Argo CD evaluates and servegate does not: what it "
            "deploys cannot be checked (commit the rendered manifests instead)",
            "path",
        )
    plain = set(discovery.plain_files)
    if not chosen.problems and not chosen.jsonnet and set(chosen.files) <= plain:
        return  # exactly what the repo's own check reads, the same way
    reader = SourceFiles(discovery.root, chosen.files)
    for rel in chosen.files:
        loaded = reader.load(rel)
        findings.extend(reader.findings(rel))
        if rel.endswith(".json") and len(loaded.documents) > 1:
            _fail(unit, action, "Argo CD allows one object in a JSON file", file=rel)
        for doc in loaded.documents:
            unit.resources.extend(resources(doc.data, Origin(rel, doc)))
    unit.files.update(chosen.files)


def _load_helm(
    discovery: Discovery, action: Action, unit: Unit, scratch: Path, timeout: float
) -> None:
    from servegate import helm
    from servegate.objects import resources

    root = discovery.root
    source = action.source
    release = source.app.name if source else posixpath.basename(action.path) or root.name
    namespace = source.destination_namespace if source else None
    options, entries = helm.options_for(action.settings, release, namespace)
    for where, value in entries.items():
        resolved = _value_path(discovery, source, action.path, value)
        if resolved is None:
            if action.settings.get("ignoreMissingValueFiles") is True and "://" not in value:
                continue
            _fail(
                unit,
                action,
                f"helm {where.split(':')[0]} {value!r} is not a file of this "
                "repo (remote, missing, or outside it): what it sets cannot be checked",
                "helm",
            )
            return
        if where.startswith("valueFiles"):
            options.value_files.append(resolved)
        else:
            options.set_file.append((where.partition(":")[2], resolved))
    rendered = helm.render(root, action.path, options, scratch, timeout)
    if rendered.objects is None:
        _fail(unit, action, f"Helm chart {action.path} cannot be checked: {rendered.error}", "helm")
        return
    for file, body in rendered.objects:
        unit.resources.extend(resources(body, Origin(file)))
    unit.files.update(r.origin.file for r in unit.resources)


def _value_path(
    discovery: Discovery, source: AppSource | None, chart: str, value: str
) -> str | None:
    """A Helm value file's repo-relative path: relative to the chart folder, or ``$ref/...``
    into another source of the Application (this repo's); None when it is not a file here."""
    root = discovery.root
    if "://" in value:
        return None
    if value.startswith("$"):
        name, _, rest = value[1:].partition("/")
        ref = next(
            (s for s in (source.sources if source else ()) if as_dict(s).get("ref") == name), None
        )
        if ref is None:
            return None
        base = str(as_dict(ref).get("path") or "")
        candidate = root / base.lstrip("/") / rest if base else root / rest
    else:
        candidate = root / chart / value
    if not candidate.is_file() or not _inside(root, candidate):
        return None
    return Path(os.path.relpath(os.path.realpath(candidate), os.path.realpath(root))).as_posix()


# ---- naming the Application ---------------------------------------------------------------


def is_app_unit(unit: Unit) -> bool:
    return unit.id.startswith(APP_UNIT)


def attribute(
    app_findings: Sequence[tuple[Unit, Sequence[Finding]]], known: Sequence[Finding]
) -> list[Finding]:
    """Findings on what an Application deploys (by the unit that found them): one the repo's
    own check reports too (same rule, place, object and message) stays as it is, so its
    unit's plan counts with the others' (``servegate.exemptions.finish``); a new one names
    the Application in its message."""
    seen = set(known)
    out: list[Finding] = []
    for unit, findings in app_findings:
        label = unit.id[len(APP_UNIT) :].rsplit(":", 2)[0] if is_app_unit(unit) else ""
        for finding in findings:
            if finding not in seen and label and label not in finding.message:
                finding = replace(finding, message=f"{finding.message} (as {label} deploys it)")
            out.append(replace(finding, unit=unit.id))
    return out

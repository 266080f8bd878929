"""The Argo CD Applications and ApplicationSets written in the repo, and the sources they deploy.

Every YAML or JSON file of the check is scanned for ``argoproj.io`` Application and
ApplicationSet objects (list items too). An Application's sources are ``spec.source`` or
``spec.sources[]`` (argoproj/argo-cd ``pkg/apis/application/v1alpha1/types.go``
``ApplicationSpec``); a source with only a ``ref`` supplies Helm values to the others and is
not rendered itself. An ApplicationSet's Applications are made from ``spec.template`` with the
parameters of its generators (argoproj/argo-cd ``applicationset/utils/utils.go`` ``Render``):
``list`` elements and Git ``directories`` (matched with Go's ``path.Match`` against every
folder of the repo, ``applicationset/generators/git.go`` ``filterApps``,
``generateParamsFromApps``) are resolved here; other generators cannot be from the repo alone,
and their template is used once when its source fields hold no template, with a note.

What a file holds is remembered by the file's content digest (``servegate.memo.apps``), so a
warm check reads no file.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from servegate.model import Finding
from servegate.resource import FieldPath, Origin, ResourceRef, as_dict, as_list
from servegate.rules.argocd.source_unchecked import RULE as UNCHECKED
from servegate.rules.argocd.source_unresolved import RULE as UNRESOLVED

KINDS = ("Application", "ApplicationSet")
_SOURCE_KEYS = ("path", "chart", "repoURL", "kustomize", "helm", "directory", "plugin", "ref")


@dataclass(frozen=True, slots=True)
class AppSource:
    """One source of one Application: what Argo CD renders and deploys from it."""

    app: ResourceRef
    """The Application (for a generated one, its templated name)."""
    file: str
    """Where the Application, or its ApplicationSet, is written (repo-relative)."""
    line: int
    """The line of the source (``spec.source``, ``spec.sources[i]``, or the template's)."""
    source: Mapping[str, Any]
    sources: tuple[Mapping[str, Any], ...] = ()
    """Every source of the Application (``$ref`` Helm value files name the others)."""
    destination_namespace: str | None = None
    via: str = ""
    """``ApplicationSet ns/name`` when an ApplicationSet generates it."""
    lines: Mapping[str, int] = field(default_factory=dict)
    """Lines of the source's own fields (``path``, ``kustomize``, ``helm``...)."""

    @property
    def label(self) -> str:
        where = f"{self.app.namespace}/" if self.app.namespace else ""
        text = f"Application {where}{self.app.name}"
        return f"{text} (from {self.via})" if self.via else text

    def line_of(self, key: str) -> int:
        return self.lines.get(key, self.line)


def records(documents: Iterable[tuple[Any, Any]], rel: str) -> list[dict[str, Any]]:
    """The Application and ApplicationSet objects in one file's ``(data, Document)`` pairs, as
    plain JSON data (what the memo keeps): kind, name, namespace, spec and a few lines."""
    from servegate.objects import resources

    out: list[dict[str, Any]] = []
    for data, document in documents:
        if not _may_hold(data):
            continue
        for resource in resources(data, Origin(rel, document)):
            if resource.kind not in KINDS or not resource.api_version.startswith("argoproj.io/"):
                continue
            spec = resource.spec
            lines: dict[str, int] = {"": resource.locate(())[1]}
            for base in (("spec",), ("spec", "template", "spec")):
                holder = _dig(resource.body, base)
                _remember_lines(resource.locate, base, holder, lines)
            for i, _ in enumerate(as_list(spec.get("generators"))):
                lines[f"generators.{i}"] = resource.locate(("spec", "generators", i))[1]
            if "templatePatch" in spec:
                lines["templatePatch"] = resource.locate(("spec", "templatePatch"))[1]
            out.append(
                {
                    "kind": resource.kind,
                    "apiVersion": resource.api_version,
                    "name": resource.name,
                    "namespace": resource.namespace,
                    "spec": _plain(spec),
                    "lines": lines,
                }
            )
    return out


def _may_hold(data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    if isinstance(data.get("items"), list):
        return True
    return data.get("kind") in KINDS


def _dig(body: Any, path: FieldPath) -> dict[str, Any]:
    for key in path:
        body = as_dict(body).get(key) if isinstance(key, str) else None
    return as_dict(body)


def _remember_lines(
    locate: Callable[[FieldPath], tuple[str, int]],
    base: FieldPath,
    holder: dict[str, Any],
    lines: dict[str, int],
) -> None:
    prefix = ".".join(str(p) for p in base[1:])
    prefix = f"{prefix}." if prefix else ""
    entries: list[tuple[str, FieldPath, Any]] = []
    if isinstance(holder.get("source"), dict):
        entries.append((f"{prefix}source", (*base, "source"), holder["source"]))
    for i, source in enumerate(as_list(holder.get("sources"))):
        entries.append((f"{prefix}sources.{i}", (*base, "sources", i), source))
    for name, path, source in entries:
        lines[name] = locate(path)[1]
        for key in as_dict(source):
            if key in _SOURCE_KEYS:
                lines[f"{name}.{key}"] = locate((*path, key))[1]


def _plain(value: Any) -> Any:
    """``value`` as JSON data (keys as strings), what the memo can keep."""
    try:
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError):
        return {}


# ---- from records to sources -------------------------------------------------------------


@dataclass(slots=True)
class Repo:
    """What resolving a source needs to know about the repo."""

    root: Path
    _folders: list[str] | None = None
    _files: list[str] | None = None
    read: set[str] = field(default_factory=set)
    """The repo files generators read (a Git files generator's), for narrowed checks."""

    def folders(self) -> list[str]:
        """Every folder of the repo, repo-relative, as Argo CD's ``GetGitDirectories`` lists
        them (no ``.git``; symlinked folders are not entered). Hidden folders are listed too:
        Argo CD skips them only unless the operator includes them, and servegate checks more."""
        if self._folders is None:
            found: list[str] = []
            for here, dirs, _ in os.walk(self.root):
                dirs[:] = sorted(d for d in dirs if d != ".git")
                rel = os.path.relpath(here, self.root)
                if rel != ".":
                    found.append(Path(rel).as_posix())
            self._folders = sorted(found)
        return self._folders

    def files(self) -> list[str]:
        """Every file of the repo, repo-relative (no ``.git``; symlinked folders not entered),
        untracked ones too: servegate checks the working tree."""
        if self._files is None:
            found: list[str] = []
            for here, dirs, names in os.walk(self.root):
                dirs[:] = sorted(d for d in dirs if d != ".git")
                rel = os.path.relpath(here, self.root)
                found.extend(n if rel == "." else f"{Path(rel).as_posix()}/{n}" for n in names)
            self._files = sorted(found)
        return self._files


def sources_of(
    record: Mapping[str, Any], file: str, repo: Repo
) -> tuple[list[AppSource], list[Finding]]:
    """The sources an Application record deploys, or those of every Application an
    ApplicationSet record generates (with notes for what cannot be resolved)."""
    ref = ResourceRef(
        str(record.get("apiVersion", "")),
        str(record.get("kind", "")),
        record.get("namespace") or None,
        str(record.get("name", "")),
    )
    lines = as_dict(record.get("lines"))
    spec = as_dict(record.get("spec"))
    if ref.kind == "Application":
        return list(_app_sources(ref, spec, file, lines, "", "")), []
    return _appset_sources(ref, spec, file, lines, repo)


def _app_sources(
    ref: ResourceRef,
    spec: Mapping[str, Any],
    file: str,
    lines: Mapping[str, Any],
    prefix: str,
    via: str,
) -> Iterator[AppSource]:
    destination = as_dict(spec.get("destination")).get("namespace")
    namespace = destination if isinstance(destination, str) and destination else None
    multi = [s for s in as_list(spec.get("sources")) if isinstance(s, dict)]
    entries: list[tuple[str, dict[str, Any]]] = [
        (f"{prefix}sources.{i}", s)
        for i, s in enumerate(as_list(spec.get("sources")))
        if isinstance(s, dict)
    ]
    if not entries and isinstance(spec.get("source"), dict):
        entries = [(f"{prefix}source", spec["source"])]
    default = int(lines.get("", 1))
    for key, source in entries:
        if source.get("ref") and not source.get("path") and not source.get("chart"):
            continue  # supplies Helm value files to the others; not rendered itself
        own = {
            k[len(key) + 1 :]: int(v)
            for k, v in lines.items()
            if k.startswith(f"{key}.") and isinstance(v, int)
        }
        yield AppSource(
            ref,
            file,
            int(lines.get(key, default)),
            source,
            tuple(multi) or (source,),
            namespace,
            via,
            own,
        )


def _appset_sources(
    ref: ResourceRef, spec: Mapping[str, Any], file: str, lines: Mapping[str, Any], repo: Repo
) -> tuple[list[AppSource], list[Finding]]:
    template = as_dict(spec.get("template"))
    go = spec.get("goTemplate") is True
    via = str(ref)
    found: list[AppSource] = []
    notes: list[Finding] = []
    line = int(lines.get("", 1))

    def note(message: str, at: int) -> None:
        notes.append(UNRESOLVED.finding(message, file, at, ref))

    def unchecked(message: str, at: int) -> None:
        notes.append(UNCHECKED.finding(message, file, at, ref))

    patch = spec.get("templatePatch")
    if patch:
        changes = _patched_fields(patch)
        if changes:
            unchecked(
                f"{ref}: templatePatch may change {changes} of each generated Application, "
                "which servegate does not resolve: what they deploy is not checked",
                int(lines.get("templatePatch", line)),
            )
        else:
            note(
                f"{ref}: templatePatch is applied per generated Application and is not "
                "resolved here; the Applications are checked without it",
                line,
            )
    generators = as_list(spec.get("generators"))
    for i, generator in enumerate(generators):
        at = int(lines.get(f"generators.{i}", line))
        generator = as_dict(generator)
        merged = _merge(template, as_dict(generator.get("template")))
        params = _generator_params(generator, repo, go)
        if params is None:
            kind = next(iter(generator), "unknown")
            fixed = _render(merged, {}, go)
            if fixed is None or _templated(fixed):
                message = (
                    f"{ref}: the {kind!r} generator cannot be resolved from the repo, and the "
                    "template's source depends on its parameters: the Applications it makes "
                    "are not checked"
                )
                settings = _tool_settings(merged)
                if settings:  # the folders are checked as they are, not as Argo CD renders
                    unchecked(f"{message} (with its {settings} settings)", at)
                else:
                    note(message, at)
                continue
            note(
                f"{ref}: the {kind!r} generator cannot be resolved from the repo; its template "
                "names no parameter in its sources, so it is checked once",
                at,
            )
            params = [{}]
        for element in params:
            # the source decides what is checked; a name servegate cannot template stays as is
            spec_rendered = _render(as_dict(merged.get("spec")), element, go)
            meta_rendered = _render(as_dict(merged.get("metadata")), element, go)
            rendered = (
                None
                if spec_rendered is None
                else {"metadata": meta_rendered or merged.get("metadata"), "spec": spec_rendered}
            )
            if rendered is None or _templated(rendered):
                note(
                    f"{ref}: a generated Application's source still holds a template after "
                    "its parameters are applied (a Go template beyond field references?): "
                    "not checked",
                    at,
                )
                continue
            meta = as_dict(rendered.get("metadata"))
            app = ResourceRef(
                "argoproj.io/v1alpha1",
                "Application",
                str(meta.get("namespace") or ref.namespace or "") or None,
                str(meta.get("name") or ref.name),
            )
            found.extend(
                _app_sources(app, as_dict(rendered.get("spec")), file, lines, "template.spec.", via)
            )
    return found, notes


#: An Application source's fields that change how Argo CD renders a folder.
TOOL_SETTINGS = ("kustomize", "helm", "directory", "plugin", "chart")
#: What a ``templatePatch`` may set without changing what an Application deploys.
_HARMLESS_PATCH = {"metadata": None, "spec": {"syncPolicy", "info", "revisionHistoryLimit"}}


def _tool_settings(template: Mapping[str, Any]) -> str:
    """The tool settings an ApplicationSet template's sources hold (``kustomize, helm``), or
    an empty string."""
    spec = as_dict(template.get("spec"))
    sources = [s for s in as_list(spec.get("sources")) if isinstance(s, dict)]
    if isinstance(spec.get("source"), dict):
        sources.append(spec["source"])
    found = sorted({k for s in sources for k in TOOL_SETTINGS if s.get(k) not in (None, {})})
    return ", ".join(found)


def _patched_fields(patch: Any) -> str:
    """What a ``templatePatch`` may change beyond names, labels and sync policy (a phrase), or
    an empty string. Read without its template actions: a key that is one, or text that is no
    YAML mapping once they are blanked, may set anything."""
    import yaml

    if not isinstance(patch, str):
        return "anything"
    blanked = re.sub(r"\{\{.*?\}\}", "x", patch, flags=re.S)
    if re.search(r"\{\{", blanked):
        return "anything"
    try:
        data = yaml.safe_load(blanked)
    except yaml.YAMLError:
        return "anything"
    if data is None:
        return ""
    if not isinstance(data, dict):
        return "anything"
    changed: list[str] = []
    for key, value in data.items():
        allowed = _HARMLESS_PATCH.get(str(key), set())
        if key not in _HARMLESS_PATCH:
            changed.append(str(key))
        elif allowed is not None:
            inner = value if isinstance(value, dict) else {"?": value}
            changed.extend(f"{key}.{k}" for k in inner if k not in allowed)
    return ", ".join(changed)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _generator_params(
    generator: Mapping[str, Any], repo: Repo, go: bool
) -> list[dict[str, Any]] | None:
    """The parameter sets of a generator servegate can resolve; None for the others."""
    if "list" in generator and len(generator) <= 3:
        listed = as_dict(generator.get("list"))
        if listed.get("elementsYaml"):
            return None
        elements = [e for e in as_list(listed.get("elements")) if isinstance(e, dict)]
        return [e if go else _flat(e) for e in elements]
    git = as_dict(generator.get("git"))
    if git and "directories" in git and not git.get("files"):
        prefix = git.get("pathParamPrefix") or ""
        items = [as_dict(d) for d in as_list(git.get("directories"))]
        chosen = _match_directories(items, repo.folders())
        values = as_dict(git.get("values"))
        return [_dir_params(d, str(prefix), go, values) for d in chosen]
    if git and git.get("files") and "directories" not in git:
        return _file_params(git, repo, go)
    return None


def _file_params(git: Mapping[str, Any], repo: Repo, go: bool) -> list[dict[str, Any]] | None:
    """A Git files generator's parameter sets (argo-cd ``applicationset/generators/git.go``,
    ``generateParamsForGitFiles``): every file a ``files[].path`` glob matches (``git ls-files``
    pathspec globbing, where ``*`` also crosses ``/``: a superset of the doublestar globbing
    Argo CD may be set to; ``exclude: true`` entries drop files), in path order; each file's
    YAML or JSON object, or each object of its list, with the file's ``path`` parameters.
    None when a file does not decode as Argo CD needs (the generator then fails there)."""
    from fnmatch import fnmatchcase

    from servegate.yamlsafe import load_bytes

    entries = [as_dict(f) for f in as_list(git.get("files"))]
    take = [str(e.get("path")) for e in entries if e.get("path") and e.get("exclude") is not True]
    drop = [str(e.get("path")) for e in entries if e.get("path") and e.get("exclude") is True]
    chosen = [
        f
        for f in repo.files()
        if any(fnmatchcase(f, p) for p in take) and not any(fnmatchcase(f, p) for p in drop)
    ]
    prefix = str(git.get("pathParamPrefix") or "")
    values = as_dict(git.get("values"))
    out: list[dict[str, Any]] = []
    root = os.path.realpath(repo.root)
    for name in chosen:
        repo.read.add(name)
        real = os.path.realpath(repo.root / name)
        if not real.startswith(root + os.sep):
            return None  # a symlink out of the repo: never read
        try:
            raw = (repo.root / name).read_bytes()
        except OSError:
            return None
        loaded = load_bytes(raw, positions=False)
        if loaded.problems or len(loaded.documents) > 1:
            return None
        data = loaded.documents[0].data if loaded.documents else None
        objects = data if isinstance(data, list) else [data if data is not None else {}]
        if not objects:
            objects = [{}]
        for found in objects:
            if not isinstance(found, dict):
                return None
            params = _dir_params(posixpath.dirname(name), prefix, go, {})
            base = posixpath.basename(name)
            normalized = re.sub(r"[^a-z0-9-]", "-", base.lower())
            if go:
                path = params[prefix]["path"] if prefix else params["path"]
                path.update(filename=base, filenameNormalized=normalized)
                params = {**found, **params}
            else:
                key = f"{prefix}.path" if prefix else "path"
                params[f"{key}.filename"] = base
                params[f"{key}.filenameNormalized"] = normalized
                params = {**_flatten(found), **params}
            _add_values(params, values, go)
            out.append(params)
    return out


def _flatten(value: Any, key: str = "") -> dict[str, Any]:
    """jeremywohl/flatten's DotStyle (maps and lists, ``a.b``, ``a.0``) with Go's ``%v`` of
    each leaf, as the Git files generator makes fasttemplate parameters."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{key}.{k}" if key else str(k)))
        return out
    if isinstance(value, list):
        out = {}
        for i, v in enumerate(value):
            out.update(_flatten(v, f"{key}.{i}" if key else str(i)))
        return out
    if isinstance(value, bool):
        return {key: "true" if value else "false"}
    return {key: "<nil>" if value is None else str(value)}


def _flat(element: Mapping[str, Any]) -> dict[str, Any]:
    """A list element as fasttemplate parameters: nested maps as ``key.sub``."""
    out: dict[str, Any] = {}
    for key, value in element.items():
        if isinstance(value, dict):
            for sub, inner in value.items():
                out[f"{key}.{sub}"] = inner
        else:
            out[str(key)] = value
    return out


def _match_directories(items: list[dict[str, Any]], folders: list[str]) -> list[str]:
    """``filterApps``: a folder is chosen when an item matches it and no ``exclude`` item does
    (Go ``path.Match``: ``*`` and ``?`` stop at ``/``)."""
    from servegate.rules.argocd._glob import filepath_match

    chosen = []
    for folder in folders:
        include = exclude = False
        for item in items:
            pattern = item.get("path")
            if isinstance(pattern, str) and filepath_match(pattern, folder):
                if item.get("exclude") is True:
                    exclude = True
                else:
                    include = True
        if include and not exclude:
            chosen.append(folder)
    return chosen


def _dir_params(folder: str, prefix: str, go: bool, values: Mapping[str, Any]) -> dict[str, Any]:
    base = posixpath.basename(folder)
    normalized = re.sub(r"[^a-z0-9-]", "-", base.lower())
    params: dict[str, Any]
    if go:
        path = {
            "path": folder,
            "basename": base,
            "basenameNormalized": normalized,
            "segments": folder.split("/"),
        }
        params = {prefix: {"path": path}} if prefix else {"path": path}
    else:
        name = f"{prefix}.path" if prefix else "path"
        params = {name: folder, f"{name}.basename": base, f"{name}.basenameNormalized": normalized}
        for i, segment in enumerate(folder.split("/")):
            if segment:
                params[f"{name}[{i}]"] = segment
    _add_values(params, values, go)
    return params


def _add_values(params: dict[str, Any], values: Any, go: bool) -> None:
    """A Git generator's ``values`` rendered with ``params`` and added to them, as Argo CD
    adds them (``values`` under goTemplate, ``values.<key>`` otherwise); unrendered: none."""
    if not values:
        return
    rendered = _render(dict(values), params, go)
    if rendered is not None:
        if go:
            params["values"] = rendered
        else:
            params.update({f"values.{k}": v for k, v in rendered.items()})


_FAST = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_GO_FIELD = re.compile(r"\{\{-?\s*((?:\.[A-Za-z0-9_]+|\.\[\d+\])*\.?[A-Za-z0-9_]*)\s*-?\}\}")
#: ``{{ index .path.segments 1 }}``, ``{{ index .values "key" }}``: Go's ``index`` builtin.
_GO_INDEX = re.compile(r"\{\{-?\s*index\s+((?:\.[A-Za-z0-9_]+)+)\s+(\d+|\"[^\"]*\")\s*-?\}\}")


def _render(value: Any, params: Mapping[str, Any], go: bool) -> Any:
    """``value`` with every string templated as the ApplicationSet controller does: with
    fasttemplate, ``{{ name }}`` is replaced and unknown tags stay; with Go templates only field
    references (``{{ .path.basename }}``) are resolved, and anything else makes it None."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, inner in value.items():
            new_key = _render(key, params, go)
            new_value = _render(inner, params, go)
            if new_key is None or (new_value is None and inner is not None):
                return None
            out[str(new_key)] = new_value
        return out
    if isinstance(value, list):
        items = [_render(v, params, go) for v in value]
        if any(i is None and v is not None for i, v in zip(items, value, strict=True)):
            return None
        return items
    if not isinstance(value, str) or "{{" not in value:
        return value
    if not go:

        def fast(match: re.Match[str]) -> str:
            tag = match.group(1).strip()
            if tag and tag in params:
                return _text(params[tag])
            return match.group(0)

        return _FAST.sub(fast, value)
    failed = False

    def field_ref(match: re.Match[str]) -> str:
        nonlocal failed
        found = _lookup(params, match.group(1))
        if found is None:
            failed = True
            return ""
        return _text(found)

    def index(match: re.Match[str]) -> str:
        nonlocal failed
        found = _lookup(params, match.group(1))
        key = match.group(2)
        item = None
        if isinstance(found, list) and key.isdigit() and int(key) < len(found):
            item = found[int(key)]
        elif isinstance(found, dict) and key.startswith('"'):
            item = found.get(key[1:-1])
        if item is None:
            failed = True
            return ""
        return _text(item)

    text = _GO_FIELD.sub(field_ref, _GO_INDEX.sub(index, value))
    return None if failed or "{{" in text else text


def _lookup(params: Mapping[str, Any], dotted: str) -> Any:
    current: Any = params
    for part in re.findall(r"\.([A-Za-z0-9_]+)|\.\[(\d+)\]", dotted):
        name, index = part
        if name:
            current = current.get(name) if isinstance(current, dict) else None
        else:
            current = current[int(index)] if isinstance(current, list) else None
        if current is None:
            return None
    return None if current is params else current


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def _templated(rendered: Any) -> bool:
    """Whether a rendered template's sources still hold a template in a field that decides
    what is rendered."""
    spec = as_dict(as_dict(rendered).get("spec"))
    sources = [s for s in as_list(spec.get("sources")) if isinstance(s, dict)]
    if isinstance(spec.get("source"), dict):
        sources.append(spec["source"])
    return any("{{" in json.dumps(s, default=str) for s in sources)

"""Render a Helm chart of the repo with ``helm template``, as Argo CD renders it, without network.

Argo CD renders a folder with Helm when the Application says ``helm:`` or when the folder holds
a file named ``*Chart.yaml`` and no kustomization (argoproj/argo-cd
``util/app/discovery/discovery.go``), with ``helm template <chart> --name-template <release>
--namespace <ns> [--kube-version] --set/--set-string/--set-file ... --values <files>
[--values <inline values>] [--api-versions] --include-crds [--skip-schema-validation]
[--skip-tests]`` (``util/helm/cmd.go`` ``template``; value files and parameters from
``spec.source.helm``: ``reposerver/repository/repository.go`` ``helmTemplate``).

servegate does the same with the ``helm`` on PATH (or ``$SERVEGATE_HELM``), on a copy of the
chart in a temporary folder (``helm template`` may write ``Chart.lock``; the repo is never
written), with empty Helm home folders, no kubeconfig and no network (the sandbox of
``servegate.render``), under the run's render budget. It never fetches: a dependency that is
not vendored in ``charts/`` (or a ``file://`` one inside the repo, which Argo CD's ``helm
dependency build`` would copy) is a finding, and so is a value file outside the repo or on
the network. Without a ``helm`` binary a chart cannot be checked, which is a finding too.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from servegate.resource import as_dict, as_list

HELM_VARIABLE = "SERVEGATE_HELM"
CHART_FILE = "Chart.yaml"


def helm_binary() -> str | None:
    """The helm to run: ``$SERVEGATE_HELM``, else the first ``helm`` on PATH; None if none."""
    override = os.environ.get(HELM_VARIABLE)
    candidate = override or shutil.which("helm")
    if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
        return candidate
    return None


@dataclass(slots=True)
class Options:
    """What ``helm template`` is given: repo-relative files and the Application's values."""

    release: str
    namespace: str | None = None
    value_files: list[str] = field(default_factory=list)
    values: str | None = None
    """Inline values (``helm.values``, or ``valuesObject`` as YAML), passed after the files."""
    set: list[tuple[str, str]] = field(default_factory=list)
    set_string: list[tuple[str, str]] = field(default_factory=list)
    set_file: list[tuple[str, str]] = field(default_factory=list)
    kube_version: str | None = None
    api_versions: list[str] = field(default_factory=list)
    skip_crds: bool = False
    skip_tests: bool = False
    skip_schema_validation: bool = False


@dataclass(frozen=True, slots=True)
class Rendered:
    """``objects``: (chart file that produced it, repo-relative; the object) pairs, or None
    with ``error`` saying why the chart could not be checked."""

    objects: list[tuple[str, dict[str, Any]]] | None
    error: str | None = None


def argv(helm: str, chart: str, options: Options, root: Path, values_file: str | None) -> list[str]:
    """``helm template`` as Argo CD runs it (``util/helm/cmd.go`` ``template``)."""
    args = [helm, "template", chart, "--name-template", options.release]
    if options.namespace:
        args += ["--namespace", options.namespace]
    if options.kube_version:
        args += ["--kube-version", options.kube_version]
    for flag, pairs in (
        ("--set", options.set),
        ("--set-string", options.set_string),
        ("--set-file", [(k, str(root / v)) for k, v in options.set_file]),
    ):
        for key, value in pairs:
            args += [flag, f"{key}={_clean(value)}"]
    for rel in options.value_files:
        args += ["--values", str(root / rel)]
    if values_file is not None:
        args += ["--values", values_file]
    for version in options.api_versions:
        args += ["--api-versions", version]
    if not options.skip_crds:
        args.append("--include-crds")
    if options.skip_schema_validation:
        args.append("--skip-schema-validation")
    if options.skip_tests:
        args.append("--skip-tests")
    return args


def _clean(value: str) -> str:
    """Argo CD's ``cleanSetParameters``: escape commas not already escaped or in braces."""
    if value.startswith("{") and value.endswith("}"):
        return value
    return re.sub(r"(?<!\\),", r"\\,", value)


def problems(root: Path, chart: str) -> list[str]:
    """Why the chart folder ``chart`` (repo-relative) cannot be rendered without fetching or
    reading outside the repo: dependencies not vendored, symlinks that leave the repo."""

    found: list[str] = []
    base = os.path.realpath(root)
    top = root / chart
    for here, dirs, files in os.walk(top):
        for name in [*dirs, *files]:
            full = os.path.join(here, name)
            if os.path.islink(full):
                real = os.path.realpath(full)
                if not real.startswith(base + os.sep):
                    found.append(
                        f"{Path(os.path.relpath(full, root)).as_posix()} is a symlink "
                        "that leaves the repo"
                    )
    for meta in (CHART_FILE, "requirements.yaml"):
        for dep in _dependencies(top / meta):
            name = str(dep.get("name") or "")
            if not name or _vendored(top, name, dep.get("alias")):
                continue
            repository = str(dep.get("repository") or "")
            if repository.startswith("file://"):
                local = os.path.realpath(top / repository[len("file://") :])
                if local.startswith(base + os.sep) and os.path.isfile(
                    os.path.join(local, CHART_FILE)
                ):
                    continue
            where = f" from {repository}" if repository else ""
            found.append(
                f"dependency {name!r}{where} is not vendored in {chart}/charts/: servegate never "
                "fetches (run helm dependency build and commit charts/)"
            )
    return found


def _dependencies(meta: Path) -> list[dict[str, Any]]:
    """The ``dependencies`` entries of a ``Chart.yaml`` or ``requirements.yaml`` (none when
    it is missing or unreadable)."""
    from servegate.yamlsafe import load_bytes

    try:
        raw = meta.read_bytes()
    except OSError:
        return []
    loaded = load_bytes(raw)
    data = loaded.documents[0].data if loaded.documents else None
    return [as_dict(dep) for dep in as_list(as_dict(data).get("dependencies"))]


def _vendored(top: Path, name: str, alias: Any) -> bool:
    charts = top / "charts"
    if (charts / name).is_dir() or (isinstance(alias, str) and (charts / alias).is_dir()):
        return True
    try:
        return any(
            p.name.startswith(f"{name}-") and p.name.endswith(".tgz") for p in charts.iterdir()
        )
    except OSError:
        return False


def render(root: Path, chart: str, options: Options, scratch: Path, timeout: float) -> Rendered:
    """``helm template`` of the chart folder ``chart`` (repo-relative) with ``options``."""
    from servegate import procs
    from servegate.render import sandbox

    helm = helm_binary()
    if helm is None:
        return Rendered(
            None,
            "no helm binary on PATH (or $SERVEGATE_HELM): a Helm chart cannot be checked without "
            "it; install helm where servegate runs",
        )
    found = problems(root, chart)
    if found:
        return Rendered(None, "; ".join(found))
    work = Path(scratch) / f"helm-{secrets.token_hex(6)}"
    copy = work / "chart" / Path(chart).name if chart != "." else work / "chart" / root.name
    shutil.copytree(root / chart, copy, symlinks=False, ignore=shutil.ignore_patterns(".git"))
    _copy_file_dependencies(root / chart, copy)
    values_file = None
    if options.values:
        values_file = str(work / "values-inline.yaml")
        Path(values_file).write_text(options.values, "utf-8")
    home = work / "home"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
        "KUBECONFIG": os.devnull,
        "HELM_NO_PLUGINS": "1",
    }
    args = [*sandbox(), *argv(helm, str(copy), options, root, values_file)]
    try:
        code, stdout, stderr = procs.run(args, timeout=timeout, env=env)
    except OSError as err:
        return Rendered(None, f"cannot run {helm}: {err.strerror}")
    if code is None:
        return Rendered(None, f"helm template took longer than {timeout:g}s")
    if code != 0:
        text = (
            " ".join(stderr.split()).replace(str(copy) + os.sep, "").replace(str(root) + os.sep, "")
        )
        return Rendered(None, f"helm template failed: {text[:500] or 'no message'}")
    return Rendered(_objects(stdout, chart))


def _copy_file_dependencies(top: Path, copy: Path) -> None:
    """What Argo CD's ``helm dependency build`` does for ``file://`` dependencies that are
    not in ``charts/`` yet (``problems`` has checked they stay in the repo)."""
    for dep in _dependencies(top / CHART_FILE):
        repository = str(dep.get("repository") or "")
        name = str(dep.get("name") or "")
        if (
            not name
            or not repository.startswith("file://")
            or _vendored(top, name, dep.get("alias"))
        ):
            continue
        source = Path(os.path.realpath(top / repository[len("file://") :]))
        shutil.copytree(source, copy / "charts" / name, symlinks=False)


_SOURCE = re.compile(r"^# Source: (.+)$", re.MULTILINE)


def _objects(output: str, chart: str) -> list[tuple[str, dict[str, Any]]]:
    """The objects of ``helm template`` output, each with the chart file its ``# Source:``
    comment names (repo-relative), else the chart's Chart.yaml."""
    from servegate.yamlsafe import load_plain

    found: list[tuple[str, dict[str, Any]]] = []
    prefix = "" if chart == "." else f"{chart}/"
    for chunk in re.split(r"^---[ \t]*$", output, flags=re.MULTILINE):
        if not chunk.strip():
            continue
        match = _SOURCE.search(chunk)
        file = f"{prefix}{CHART_FILE}"
        if match:
            tail = match.group(1).strip().partition("/")[2]
            if tail:
                file = f"{prefix}{tail}"
        found.extend((file, body) for body in load_plain(chunk) if isinstance(body, dict))
    return found


def options_for(
    settings: Mapping[str, Any], release: str, namespace: str | None
) -> tuple[Options, dict[str, str]]:
    """Options from an Application's ``spec.source.helm``, and the value-file entries as
    written (resolved by the caller: relative to the source path, or ``$ref/...``)."""
    opts = Options(
        release=str(settings.get("releaseName") or release),
        namespace=str(settings.get("namespace") or namespace or "") or None,
    )
    kube = settings.get("kubeVersion")
    opts.kube_version = str(kube) if kube else None
    opts.api_versions = [str(v) for v in as_list(settings.get("apiVersions"))]
    opts.skip_crds = settings.get("skipCrds") is True
    opts.skip_tests = settings.get("skipTests") is True
    opts.skip_schema_validation = settings.get("skipSchemaValidation") is True
    values_object = settings.get("valuesObject")
    values = settings.get("values")
    if isinstance(values_object, dict) and values_object:
        import json

        opts.values = json.dumps(values_object)
    elif isinstance(values, str) and values.strip():
        opts.values = values
    elif isinstance(values, dict) and values:
        import json

        opts.values = json.dumps(values)
    for param in as_list(settings.get("parameters")):
        param = as_dict(param)
        name = param.get("name")
        if not isinstance(name, str) or not name:
            continue
        pair = (name, str(param.get("value", "")))
        (opts.set_string if param.get("forceString") is True else opts.set).append(pair)
    entries = {}
    for i, value in enumerate(as_list(settings.get("valueFiles"))):
        if isinstance(value, str):
            entries[f"valueFiles[{i}]"] = value
    for i, param in enumerate(as_list(settings.get("fileParameters"))):
        param = as_dict(param)
        if isinstance(param.get("name"), str) and isinstance(param.get("path"), str):
            entries[f"fileParameters[{i}]:{param['name']}"] = param["path"]
    return opts, entries


def is_chart(names: Sequence[str]) -> bool:
    """Argo CD's discovery: a file whose name ends in ``Chart.yaml`` makes a Helm source."""
    return any(n.endswith(CHART_FILE) for n in names)

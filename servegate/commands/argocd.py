"""``servegate argocd generate``: the Argo CD Config Management Plugin (v2) ``generate`` step.

Runs in the Application's source directory. On success stdout carries only the rendered
manifests (what Argo CD applies) and the exit code is 0; on any error-level finding stdout stays
empty, the findings go to stderr and the exit code is 1, so Argo CD refuses to sync.

Parameters come from the environment Argo CD sets: ``ARGOCD_APP_NAME``,
``ARGOCD_APP_NAMESPACE`` and the Application's plugin env as ``ARGOCD_ENV_<NAME>``:
``K8S_VERSION`` (or ``SERVEGATE_K8S_VERSION``) and ``SERVEGATE_PSS_LEVEL=restricted`` always;
``SERVEGATE_ENV``, ``SERVEGATE_SELECT``, ``SERVEGATE_IGNORE`` and a lower
``SERVEGATE_PSS_LEVEL`` only when the operator configuration (``SERVEGATE_OPERATOR_CONFIG``,
the sidecar's own environment) says ``allowPluginEnv: true``; otherwise the plugin refuses the
app (``servegate.pluginenv``). Manifests that hold Applications (an app of apps) are refused
when what those deploy fails the check. The policy is the operator's: the sidecar's operator
configuration, and the repo's configuration within the trust rules (``servegate.trust``).
"""

from __future__ import annotations

import contextlib
import os
import posixpath
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from servegate.discover import kustomization_file

if TYPE_CHECKING:
    from servegate.model import Report
    from servegate.options import CheckOptions


@click.group()
def argocd() -> None:
    """Argo CD Config Management Plugin commands."""


def _param(env: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = env.get(f"ARGOCD_ENV_{name}", "").strip()
        if value:
            return value
    return None


def _ids(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def repo_root(app_dir: Path, env: Mapping[str, str]) -> Path:
    """The repo root of an app dir: the checkout (Argo CD's ``ARGOCD_APP_SOURCE_PATH``, the
    Application's ``spec.source.path`` as written, normalized as Argo CD joins it, stripped
    from the app dir: its physical path, or the logical one in ``PWD`` when a symlinked folder
    leads there), else the git top level above it, else the app dir itself. Configuration is
    read there and in the folders between it and the app dir, exactly as ``servegate check``
    reads it; never above it. UsageError when the source path names a folder the app dir is
    not: guessing could make a folder's own servegate.yaml the root's."""
    from servegate.discover import find_repo_root
    from servegate.errors import UsageError

    here = app_dir.resolve()
    given = env.get("ARGOCD_APP_SOURCE_PATH", "")
    source = posixpath.normpath("/" + given).strip("/")
    if not source:
        return find_repo_root(here)
    parts = tuple(source.split("/"))
    depth = len(parts)
    candidates = [here]
    logical = env.get("PWD", "")
    if logical and not app_dir.is_absolute() and str(app_dir) in ("", "."):
        with contextlib.suppress(OSError):
            if Path(logical).resolve() == here:
                candidates.append(Path(posixpath.normpath(logical)))
    for candidate in candidates:
        if len(candidate.parts) > depth and candidate.parts[-depth:] == parts:
            return candidate.parents[depth - 1].resolve()
    raise UsageError(
        f"ARGOCD_APP_SOURCE_PATH={given!r} does not lead to the app directory {here}: "
        "cannot tell the repo root"
    )


def refused_env(env: Mapping[str, str], k8s_version: tuple[int, int]) -> list[str]:
    """Why each of the Application's plugin parameters would relax the gate
    (``servegate.pluginenv``; ``k8s_version``: the version the check targets without them)."""
    from servegate.pluginenv import weakening

    out = []
    for key in sorted(env):
        if key.startswith("ARGOCD_ENV_"):
            why = weakening(key[len("ARGOCD_ENV_") :], env[key], k8s_version)
            if why is not None:
                out.append(why)
    return out


def manifests(bodies: list[dict[str, Any]]) -> str:
    """The objects as one multi-document YAML stream (what Argo CD reads from stdout), each
    scalar typed for Argo CD's YAML 1.1 decoder exactly as it was checked
    (``servegate.yamlwrite``)."""
    from servegate.yamlwrite import dump_all

    return dump_all(bodies)


@argocd.command("generate")
@click.argument("path", type=click.Path(path_type=str), default=".")
def generate(path: str) -> int:
    """Render and check PATH (default: the app directory Argo CD runs in); print the manifests
    on success, or the findings on stderr and exit 1."""
    from servegate.console import fail
    from servegate.engine import check
    from servegate.errors import ConfigError, ToolMissing, UsageError
    from servegate.operatorconfig import resolve as operator_options
    from servegate.options import CheckOptions
    from servegate.plan import Trust
    from servegate.report.text import render as text_report

    env = os.environ
    app = env.get("ARGOCD_APP_NAME") or Path(path).resolve().name
    try:
        root = repo_root(Path(path), env)
        operator = operator_options(CheckOptions())
        refused = refused_env(env, _k8s_version(root, operator))
    except (UsageError, ConfigError) as err:
        return fail(f"app {app}: {err}")
    trusting = Trust.from_options(operator).plugin_env
    if refused and not trusting:
        return fail(
            f"app {app}: refusing to generate manifests: the Application's plugin env "
            f"{'; '.join(refused)}; only the operator sets the policy (operator configuration "
            "allowPluginEnv: true lets Applications choose it)"
        )
    level = _param(env, "SERVEGATE_PSS_LEVEL")
    if level not in (None, "baseline", "restricted"):
        return fail(f"ARGOCD_ENV_SERVEGATE_PSS_LEVEL={level}: expected baseline or restricted")
    # An app dir with a kustomization is that one root; else Argo CD's directory mode.
    kfile = kustomization_file(Path(path))
    options = CheckOptions(
        paths=[kfile if kfile is not None else Path(path)],
        env=_param(env, "SERVEGATE_ENV") if trusting else None,
        requested_env=None if trusting else _param(env, "SERVEGATE_ENV"),
        k8s_version=_param(env, "K8S_VERSION", "SERVEGATE_K8S_VERSION"),
        pss_level=level,
        select=_ids(_param(env, "SERVEGATE_SELECT")),
        ignore=_ids(_param(env, "SERVEGATE_IGNORE")),
        root=root,
        operator_config=operator.operator_config,
        applications=False,  # the Applications this app holds are rendered by their sources
    )
    try:
        report = check(options)
        held = _application_files(report)
        if not report.errors and held:
            # app of apps: what the Applications it prints deploy, as `check` judges it (their
            # files too: a base outside the app folder may hold them)
            paths = [Path(path), *(root / f for f in held)]
            children = check(replace(options, paths=paths, applications=True))
            if children.errors:
                report = children
    except (UsageError, ConfigError) as err:
        return fail(f"app {app}: {err}")
    except ToolMissing as err:
        return fail(f"app {app}: {err}")
    where = f"app {app}" + (
        f" (namespace {env['ARGOCD_APP_NAMESPACE']})" if env.get("ARGOCD_APP_NAMESPACE") else ""
    )
    if report.errors:
        click.echo(f"servegate: {where}: refusing to generate manifests", err=True)
        click.echo(text_report(report, False), nl=False, err=True)
        return 1
    if report.findings:
        click.echo(text_report(report, False), nl=False, err=True)
    bodies = [r.body for unit in report.units for r in unit.resources]
    click.echo(manifests(bodies), nl=False)
    return 0


def _application_files(report: Report) -> list[str]:
    """The repo files of the Argo CD Applications and ApplicationSets in the manifests (an
    app of apps), sorted.

    Argo CD creates each one and syncs it on its own, with its own source: through
    servegate's plugin only when it names it or leaves the tool to discovery, and with the
    built-in kustomize, Helm or directory tool (unchecked at sync) when its source sets them.
    So the plugin judges what they deploy before printing them, as ``servegate check`` does
    (``servegate.deployed``)."""
    return sorted(
        {
            r.origin.file
            for unit in report.units
            for r in unit.resources
            if r.kind in ("Application", "ApplicationSet")
            and r.api_version.startswith("argoproj.io/")
        }
    )


def _k8s_version(root: Path, operator: CheckOptions) -> tuple[int, int]:
    """The Kubernetes version the check targets without the Application's parameters: the
    operator's, else the root servegate.yaml's, else the newest (``plan.target_k8s_version``)."""
    from servegate.config import load_config
    from servegate.plan import parse_k8s_version, target_k8s_version

    given = operator.k8s_version
    repo = None if given else load_config(root, operator.config).k8s_version
    return target_k8s_version(parse_k8s_version(given) if given else None, repo)


@argocd.command("discover")
@click.argument("path", type=click.Path(path_type=str), default=".")
def discover(path: str) -> int:
    """The CMP ``discover.find.command``: claim every app, with or without a servegate.yaml.

    Argo CD selects a plugin whose find command exits 0 and prints something
    (argo-cd ``cmpserver/plugin/plugin.go``, ``matchRepository``: ``return find != ""``), and
    otherwise builds the app itself, unchecked. So this always prints: the servegate.yaml that
    governs PATH (searching up to the repo root), else PATH itself (the restricted policy set
    then applies)."""
    from servegate.config import CONFIG_NAME
    from servegate.errors import UsageError

    try:
        root = repo_root(Path(path), os.environ)
    except UsageError:  # still claimed: generate refuses it with the reason
        root = Path(path).resolve()
    if (root / CONFIG_NAME).is_file():
        click.echo(str(root / CONFIG_NAME))
    else:
        click.echo(str(Path(path).resolve()))
    return 0

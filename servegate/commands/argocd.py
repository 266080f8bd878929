"""``servegate argocd generate``: the Argo CD Config Management Plugin (v2) ``generate`` step.

Runs in the Application's source directory. On success stdout carries only the rendered
manifests (what Argo CD applies) and the exit code is 0; on any error-level finding stdout stays
empty, the findings go to stderr and the exit code is 1, so Argo CD refuses to sync.

Parameters come from the environment Argo CD sets: ``ARGOCD_APP_NAME``,
``ARGOCD_APP_NAMESPACE`` and the Application's plugin env as ``ARGOCD_ENV_<NAME>``:
``SERVEGATE_ENV`` (environment profile), ``K8S_VERSION`` (or ``SERVEGATE_K8S_VERSION``),
``SERVEGATE_PSS_LEVEL``, ``SERVEGATE_SELECT``, ``SERVEGATE_IGNORE``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from servegate.discover import kustomization_file


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


def repo_root(app_dir: Path, env: Mapping[str, str]) -> Path | None:
    """The repo root for an app dir: the folder of the nearest servegate.yaml at or above it,
    searching no higher than the checkout (Argo CD's ``ARGOCD_APP_SOURCE_PATH`` stripped from
    the app dir, else the nearest .git); else that checkout root; else None."""
    from servegate.config import CONFIG_NAME
    from servegate.discover import find_repo_root

    here = app_dir.resolve()
    checkout: Path | None = None
    source = Path(env.get("ARGOCD_APP_SOURCE_PATH", "").strip("/") or ".")
    depth = len(source.parts)
    if depth and here.parts[-depth:] == source.parts:
        checkout = here.parents[depth - 1]
    elif (find_repo_root(here) / ".git").exists():
        checkout = find_repo_root(here)
    for candidate in (here, *here.parents):
        if (candidate / CONFIG_NAME).is_file():
            return candidate
        if candidate == checkout:
            break  # never look above the checkout
    return checkout


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
    from servegate.model import CheckOptions
    from servegate.report.text import render as text_report

    env = os.environ
    app = env.get("ARGOCD_APP_NAME") or Path(path).resolve().name
    level = _param(env, "SERVEGATE_PSS_LEVEL")
    if level not in (None, "baseline", "restricted"):
        return fail(f"ARGOCD_ENV_SERVEGATE_PSS_LEVEL={level}: expected baseline or restricted")
    # An app dir with a kustomization is that one root; else Argo CD's directory mode.
    kfile = kustomization_file(Path(path))
    options = CheckOptions(
        paths=[kfile if kfile is not None else Path(path)],
        env=_param(env, "SERVEGATE_ENV"),
        k8s_version=_param(env, "K8S_VERSION", "SERVEGATE_K8S_VERSION"),
        pss_level=level,
        select=_ids(_param(env, "SERVEGATE_SELECT")),
        ignore=_ids(_param(env, "SERVEGATE_IGNORE")),
        root=repo_root(Path(path), env),
    )
    try:
        report = check(options)
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

    root = repo_root(Path(path), os.environ)
    if root is not None and (root / CONFIG_NAME).is_file():
        click.echo(str(root / CONFIG_NAME))
    else:
        click.echo(str(Path(path).resolve()))
    return 0

"""Options shared by the commands that check (check, render, argocd generate)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


class NearestChoice(click.Choice):  # type: ignore[type-arg]
    """click.Choice whose error names the nearest valid value (``did you mean 'json'?``)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter as err:
            from servegate.suggest import did_you_mean

            hint = did_you_mean(str(value), [str(c) for c in self.choices])
            if not hint:
                raise
            self.fail(f"{err.message}{hint}", param, ctx)


def split_ids(values: tuple[str, ...]) -> list[str]:
    """``("pss,schema", "image")`` -> ``["pss", "schema", "image"]``."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def check_options(flags: dict[str, Any]) -> dict[str, Any]:
    """The ``CheckOptions`` fields of the ``engine_options`` flags as click passes them."""
    from pathlib import Path

    def path(value: str | None) -> Path | None:
        return Path(value) if value else None

    return {
        "config": path(flags["config"]),
        "env": flags["env"],
        "crds": [Path(c) for c in flags["crds"]],
        "k8s_version": flags["k8s_version"],
        "kserve_version": flags["kserve_version"],
        "pss_level": flags["pss_level"],
        "policies": path(flags["policies"]),
        "select": split_ids(flags["select"]),
        "ignore": split_ids(flags["ignore"]),
        "operator_config": path(flags["operator_config"]),
        "allow_repo_weakening": flags["allow_repo_weakening"],
        "honor_excludes": flags["honor_excludes"],
    }


def engine_options(func: F) -> F:
    """The options of every command that checks (``check_options`` turns them into
    ``CheckOptions`` fields)."""
    decorators = [
        click.option(
            "--config",
            "config",
            type=click.Path(dir_okay=False, path_type=str),
            help="servegate.yaml to use (default: servegate.yaml at the repo root).",
        ),
        click.option(
            "--env",
            "env",
            metavar="NAME",
            help="Environment profile for everything checked (overrides servegate.yaml).",
        ),
        click.option(
            "--crds",
            "crds",
            multiple=True,
            type=click.Path(path_type=str),
            metavar="DIR",
            help="More CRD files or folders to validate against "
            "(repeatable; `kubectl get crd -o yaml` output works).",
        ),
        click.option(
            "--k8s-version",
            "k8s_version",
            metavar="MAJOR.MINOR",
            help="Kubernetes version for schemas and Pod Security (default: newest, "
            "1.25 to 1.37 supported).",
        ),
        click.option(
            "--kserve-version",
            "kserve_version",
            metavar="VERSION",
            help="KServe release the cluster runs, 0.15 to 0.21 (0.21: main after v0.20.0, the "
            "default): it picks the deployment-mode names, the canary API and the CRD schemas "
            "(v0.15.2's for 0.15, main's for 0.16 and newer). Others are refused.",
        ),
        click.option(
            "--pss-level",
            "pss_level",
            type=NearestChoice(["baseline", "restricted"]),
            help="Pod Security level to enforce (default: from the environment, else restricted).",
        ),
        click.option(
            "--policies",
            "policies",
            type=click.Path(file_okay=False, path_type=str),
            metavar="DIR",
            help="Your policy sets: DIR/<name>.yaml is used for the policy set <name> that an "
            "environment names, before the checked repo's and servegate's own.",
        ),
        click.option(
            "--operator-config",
            "operator_config",
            type=click.Path(dir_okay=False, path_type=str),
            metavar="FILE",
            help="The operator's configuration (default: $SERVEGATE_OPERATOR_CONFIG): policy, "
            "and what the checked repo may relax (schemas/operator.schema.json).",
        ),
        click.option(
            "--allow-repo-weakening",
            "allow_repo_weakening",
            is_flag=True,
            help="Let the checked repo's policies/, environments/ and nested servegate.yaml "
            "files relax the policy (default: they may only tighten it).",
        ),
        click.option(
            "--honor-excludes",
            "honor_excludes",
            is_flag=True,
            help="Skip the folders the repo's servegate.yaml exclude: globs name (each hidden "
            "file is listed in the report).",
        ),
        click.option(
            "--select",
            "select",
            multiple=True,
            metavar="IDS",
            help="Only these rule ids or families, comma-separated (repeatable).",
        ),
        click.option(
            "--ignore",
            "ignore",
            multiple=True,
            metavar="IDS",
            help="Skip these rule ids or families, comma-separated (repeatable).",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func

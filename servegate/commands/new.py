"""``servegate new`` (scaffold a model's GitOps repo) and ``servegate add env`` (one more overlay).

Every prompt of ``new`` is also a flag; with ``--no-input`` the flags and their defaults are
the whole answer. Inputs are validated before anything is rendered, and bad input is a
one-line error with exit code 2, with nothing written.
"""

from __future__ import annotations

from pathlib import Path

import click

from servegate.console import fail, note
from servegate.generate import (
    DEFAULT_ENVS,
    DEFAULT_K8S_VERSION,
    DEFAULT_PROMETHEUS_RELEASE,
    DEPLOYMENT_MODES,
    FRAMEWORKS,
    GenerateError,
    Options,
    add_env,
    generate,
    parse_envs,
)


def _ask(
    value: str | None,
    prompt: str,
    default: str,
    interactive: bool,
    choices: tuple[str, ...] | None = None,
) -> str:
    if value is not None or not interactive:
        return value if value is not None else default
    kind = click.Choice(choices) if choices else str
    answer: str = click.prompt(prompt, default=default, type=kind)
    return answer


def _ask_flag(value: bool | None, prompt: str, default: bool, interactive: bool) -> bool:
    if value is not None or not interactive:
        return default if value is None else value
    return click.confirm(prompt, default=default)


@click.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--no-input", is_flag=True, help="Do not prompt; take every answer from flags.")
@click.option("--model-name", help="Model and InferenceService name (a DNS-1123 label).")
@click.option("--framework", help=f"Model framework: {', '.join(FRAMEWORKS)}.")
@click.option("--storage-uri", help="Where the model lives, e.g. gs://bucket/path, s3://, pvc://.")
@click.option("--deployment-mode", help="KServe deployment mode: knative or standard.")
@click.option("--envs", help="Comma-separated environments (profiles), default dev,staging,prod.")
@click.option("--canary/--no-canary", default=None, help="Canary where the profile has one.")
@click.option("--iter8/--no-iter8", default=None, help="Also write Iter8 v1 Helm values.")
@click.option("--git-repo-url", help="URL Argo CD clones this repo from.")
@click.option("--namespace-prefix", help="Prefix of the namespaces (<prefix><model>-<env>).")
@click.option(
    "--k8s-version",
    help=f"Kubernetes minor version for Pod Security labels (default {DEFAULT_K8S_VERSION}).",
)
@click.option(
    "--prometheus-release",
    help="Helm release name of kube-prometheus-stack: the `release` label its Prometheus selects "
    f"rules and PodMonitors by (default {DEFAULT_PROMETHEUS_RELEASE}).",
)
@click.option(
    "--servegate-source",
    metavar="WHEEL|GIT_URL|pypi",
    help="Where the repo's pre-commit hook and CI install servegate from: a wheel URL or path, "
    "a git URL (with --servegate-rev), or pypi (default: this servegate, as it was installed).",
)
@click.option(
    "--servegate-rev",
    metavar="REV",
    help="The git commit or tag of a git --servegate-source, or the version from pypi.",
)
@click.option(
    "--argocd-plugin/--no-argocd-plugin",
    default=None,
    help="Applications render through the servegate Argo CD plugin (default: no).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Write into a non-empty directory (files that differ are replaced and listed).",
)
def new(
    directory: Path | None,
    no_input: bool,
    model_name: str | None,
    framework: str | None,
    storage_uri: str | None,
    deployment_mode: str | None,
    envs: str | None,
    canary: bool | None,
    iter8: bool | None,
    git_repo_url: str | None,
    namespace_prefix: str | None,
    k8s_version: str | None,
    prometheus_release: str | None,
    servegate_source: str | None,
    servegate_rev: str | None,
    argocd_plugin: bool | None,
    force: bool,
) -> int:
    """Scaffold a model's GitOps repo into DIRECTORY (default: ./<model-name>-deploy)."""
    d = Options()
    ask = not no_input
    try:
        name = _ask(model_name, "Model name", d.model_name, ask)
        opts = Options(
            model_name=name,
            framework=_ask(framework, "Framework", d.framework, ask, tuple(FRAMEWORKS)),
            storage_uri=_ask(storage_uri, "Storage URI", d.storage_uri, ask),
            deployment_mode=_ask(
                deployment_mode, "Deployment mode", d.deployment_mode, ask, DEPLOYMENT_MODES
            ),
            envs=parse_envs(_ask(envs, "Environments", ",".join(DEFAULT_ENVS), ask)),
            canary=_ask_flag(canary, "Canary rollouts", d.canary, ask),
            iter8=_ask_flag(iter8, "Iter8 values", d.iter8, ask),
            git_repo_url=_ask(
                git_repo_url,
                "Git repo URL for Argo CD",
                f"https://git.example.com/ml/{name}-deploy.git",
                ask,
            ),
            namespace_prefix=_ask(namespace_prefix, "Namespace prefix", d.namespace_prefix, ask),
            k8s_version=k8s_version or d.k8s_version,
            prometheus_release=_ask(
                prometheus_release,
                "kube-prometheus-stack release name (Prometheus selects alerts by it)",
                d.prometheus_release,
                ask,
            ),
            argocd_plugin=_ask_flag(
                argocd_plugin, "Argo CD renders through the servegate plugin", False, ask
            ),
            **_source_answers(servegate_source, servegate_rev, ask),
        )
        target = directory if directory is not None else Path(f"{opts.model_name}-deploy")
        written = generate(opts, target, force=force)
    except GenerateError as err:
        return fail(str(err))
    source = opts.source()
    if source.local:
        note(
            f"pre-commit and CI install servegate from {source.spec}, which only this machine "
            "can reach; pass --servegate-source with a URL CI can reach"
        )
    click.echo(f"servegate: wrote {len(written)} files into {target}", err=True)
    click.echo(f"next: cd {target} && servegate check .", err=True)
    return 0


def _source_answers(location: str | None, rev: str | None, interactive: bool) -> dict[str, str]:
    """``servegate_source``/``servegate_rev`` for Options: the flags, else asked (default: this
    servegate as it was installed), else empty (the same default, resolved when rendering)."""
    from servegate.install import installed

    if location is not None or not interactive:
        return {"servegate_source": location or "", "servegate_rev": rev or ""}
    here = installed()
    location = _ask(
        None, "servegate source for pre-commit and CI (wheel, git URL or pypi)", here.location, True
    )
    if location == here.location and rev is None:
        return {"servegate_source": location, "servegate_rev": here.rev}
    if rev is None and not location.removeprefix("git+").split("#")[0].endswith(".whl"):
        rev = _ask(None, "servegate revision (git commit or tag; version for pypi)", "", True)
    return {"servegate_source": location, "servegate_rev": rev or ""}


@click.group()
def add() -> None:
    """Add to a repo made by `servegate new`."""


@add.command("env")
@click.argument("name")
@click.option("--profile", help="Environment profile to use (default: NAME).")
@click.option(
    "--repo",
    "repo",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="The repo to change.",
)
def add_env_command(name: str, profile: str | None, repo: Path) -> int:
    """Add overlays/NAME, its Argo CD Application and its servegate.yaml mapping."""
    try:
        written = add_env(repo, name, profile)
    except GenerateError as err:
        return fail(str(err))
    for path in written:
        click.echo(f"servegate: wrote {path}", err=True)
    return 0

"""``servegate new`` (scaffold a model's GitOps repo) and ``servegate add env`` (one more overlay).

Every prompt of ``new`` is also a flag; with ``--no-input`` the flags and their defaults are
the whole answer. Each prompted answer is checked when it is given (and asked again when it is
wrong); flags are checked before anything is rendered, and bad input is a one-line error with
exit code 2, with nothing written. ``new --force`` into a repo made by ``new`` takes that repo's
answers as defaults, lists every file it replaces, and never replaces ``servegate.yaml``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from servegate import kserve_versions
from servegate.console import fail, note
from servegate.generate import (
    ANSWERS_FILE,
    DEFAULT_ENVS,
    DEFAULT_K8S_VERSION,
    DEFAULT_PROMETHEUS_RELEASE,
    FRAMEWORKS,
    INGRESS_GATEWAYS,
    MESHES,
    STORAGE_AUTH,
    GenerateError,
    Options,
    Written,
    add_env,
    check_model_name,
    choice,
    generate,
    normalize_mode,
    parse_envs,
    read_answers,
    storage_location,
)


def _checked(check: Callable[[str], Any]) -> Callable[[str], str]:
    """A click prompt ``value_proc``: GenerateError becomes BadParameter, so click asks again."""

    def proc(value: str) -> str:
        text = str(value).strip()
        try:
            check(text)
        except GenerateError as err:
            raise click.BadParameter(str(err)) from None
        return text

    return proc


def _ask(
    value: str | None,
    prompt: str,
    default: str,
    interactive: bool,
    check: Callable[[str], Any] | None = None,
) -> str:
    if value is not None or not interactive:
        return value if value is not None else default
    answer: str = click.prompt(
        prompt, default=default, value_proc=_checked(check or (lambda _: None))
    )
    return answer


def _ask_flag(value: bool | None, prompt: str, default: bool, interactive: bool) -> bool:
    if value is not None or not interactive:
        return default if value is None else value
    return click.confirm(prompt, default=default)


def _envs_check(value: str) -> None:
    from servegate import profiles

    for env in parse_envs(value):
        try:
            profiles.get(env)
        except profiles.ProfileError as err:
            raise GenerateError(str(err)) from None


def _kserve_check(value: str) -> None:
    try:
        kserve_versions.parse(value)
    except kserve_versions.UnsupportedVersion as err:
        raise GenerateError(str(err)) from None


def _defaults(directory: Path | None, force: bool) -> tuple[Options, str]:
    """Options defaults: the target's answers with --force (never reset what was chosen)."""
    if force and directory is not None and (directory / ANSWERS_FILE).is_file():
        try:
            return read_answers(
                directory
            ), f"using the answers in {directory / ANSWERS_FILE} as defaults"
        except GenerateError:
            pass
    return Options(), ""


@click.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--no-input", is_flag=True, help="Do not prompt; take every answer from flags.")
@click.option("--model-name", help="Model and InferenceService name (a DNS-1123 label).")
@click.option("--framework", help=f"Model framework: {', '.join(FRAMEWORKS)}.")
@click.option("--storage-uri", help="Where the model lives, e.g. gs://bucket/path, s3://, pvc://.")
@click.option(
    "--kserve-version",
    help=f"KServe version of the cluster, {kserve_versions.SUPPORTED[0]} to "
    f"{kserve_versions.SUPPORTED[-1]} (default {kserve_versions.DEFAULT}: KServe main after "
    "v0.20.0).",
)
@click.option(
    "--deployment-mode",
    help="KServe deployment mode: knative or standard (also Serverless/serverless and "
    "RawDeployment/raw, KServe's older names).",
)
@click.option("--mesh", help=f"Service mesh: {', '.join(MESHES)} (default istio-cni).")
@click.option(
    "--ingress-gateway",
    help=f"Ingress gateway whose identity may call the model: {', '.join(INGRESS_GATEWAYS)} "
    "(default istio-ingressgateway).",
)
@click.option(
    "--gateway-principal",
    help="The ingress gateway's principal, if not the preset's "
    "(<trust domain>/ns/<namespace>/sa/<service account>).",
)
@click.option(
    "--storage-auth",
    help=f"Storage credentials: {', '.join(STORAGE_AUTH)} (default none).",
)
@click.option(
    "--storage-identity",
    help="IAM role ARN (irsa), Google service account (workload-identity) or Secret name (secret).",
)
@click.option(
    "--protocol-version",
    help="KServe protocolVersion (v1, v2, grpc-v1, grpc-v2); default: what KServe's default "
    "runtimes serve for the framework.",
)
@click.option("--envs", help="Comma-separated environments (profiles), default dev,staging,prod.")
@click.option("--canary/--no-canary", default=None, help="Canary where the profile has one.")
@click.option("--iter8/--no-iter8", default=None, hidden=True)
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
    help="Write into a non-empty directory: files that differ are replaced and listed; "
    "servegate.yaml is kept (environment mappings are added); a repo's own answers are the "
    "defaults.",
)
def new(
    directory: Path | None,
    no_input: bool,
    model_name: str | None,
    framework: str | None,
    storage_uri: str | None,
    kserve_version: str | None,
    deployment_mode: str | None,
    mesh: str | None,
    ingress_gateway: str | None,
    gateway_principal: str | None,
    storage_auth: str | None,
    storage_identity: str | None,
    protocol_version: str | None,
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
    if iter8 is not None:
        return fail(
            "--iter8 was removed: Iter8 collides with the Service and VirtualService KServe owns "
            "and is dormant upstream (see CHANGELOG, Migrating)"
        )
    d, defaults_note = _defaults(directory, force)
    ask = not no_input
    notes: list[str] = [defaults_note] if defaults_note else []
    try:
        name = _ask(model_name, "Model name", d.model_name, ask, check_model_name)
        fw = _ask(
            framework,
            f"Framework ({', '.join(FRAMEWORKS)})",
            d.framework,
            ask,
            lambda v: choice("framework", v, list(FRAMEWORKS)),
        )
        uri = _ask(storage_uri, "Storage URI", d.storage_uri, ask, storage_location)
        version = _ask(
            kserve_version,
            f"KServe version ({kserve_versions.SUPPORTED[0]}-{kserve_versions.SUPPORTED[-1]})",
            d.kserve_version,
            ask,
            _kserve_check,
        )
        mode_text = _ask(
            deployment_mode,
            "Deployment mode (knative, standard)",
            d.deployment_mode,
            ask,
            lambda v: normalize_mode(v, version),
        )
        mode, mode_note = normalize_mode(mode_text, version)
        if mode_note:
            notes.append(mode_note)
        mesh_value = _ask(
            mesh,
            f"Service mesh ({', '.join(MESHES)})",
            d.mesh,
            ask,
            lambda v: choice("mesh", v, list(MESHES)),
        )
        opts = Options(
            model_name=name,
            framework=fw,
            storage_uri=uri,
            kserve_version=version,
            deployment_mode=mode,
            mesh=mesh_value,
            ingress_gateway=ingress_gateway or d.ingress_gateway,
            gateway_principal=gateway_principal
            if gateway_principal is not None
            else d.gateway_principal,
            storage_auth=storage_auth or d.storage_auth,
            storage_identity=storage_identity
            if storage_identity is not None
            else d.storage_identity,
            protocol_version=protocol_version
            if protocol_version is not None
            else d.protocol_version,
            envs=parse_envs(
                _ask(envs, "Environments", ",".join(d.envs or DEFAULT_ENVS), ask, _envs_check)
            ),
            canary=_ask_flag(canary, "Canary rollouts", d.canary, ask),
            git_repo_url=_ask(
                git_repo_url,
                "Git repo URL for Argo CD",
                d.git_repo_url or f"https://git.example.com/ml/{name}-deploy.git",
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
                argocd_plugin, "Argo CD renders through the servegate plugin", d.argocd_plugin, ask
            ),
            **_source_answers(servegate_source, servegate_rev, ask, d),
        )
        target = directory if directory is not None else Path(f"{opts.model_name}-deploy")
        written = generate(opts, target, force=force)
    except GenerateError as err:
        return fail(str(err))
    for text in [*notes, *written.notes]:
        note(text)
    source = opts.source()
    if source.local:
        note(
            f"pre-commit and CI install servegate from {source.spec}, which only this machine "
            "can reach; pass --servegate-source with a URL CI can reach"
        )
    _report(written, target)
    click.echo(f"next: cd {target} && servegate check .", err=True)
    return 0


def _source_answers(
    location: str | None, rev: str | None, interactive: bool, defaults: Options
) -> dict[str, str]:
    """``servegate_source``/``servegate_rev`` for Options: the flags, else asked (default: this
    servegate as it was installed), else the defaults (a repo's own answers with --force; else
    empty: the same default, resolved when rendering)."""
    from servegate.install import installed

    if location is not None or not interactive:
        if location is None and rev is None:
            location, rev = defaults.servegate_source, defaults.servegate_rev
        return {"servegate_source": location or "", "servegate_rev": rev or ""}
    here = installed()
    default = defaults.servegate_source or here.location
    location = _ask(
        None, "servegate source for pre-commit and CI (wheel, git URL or pypi)", default, True
    )
    if location == here.location and rev is None:
        return {"servegate_source": location, "servegate_rev": here.rev}
    if location == defaults.servegate_source and rev is None:
        return {"servegate_source": location, "servegate_rev": defaults.servegate_rev}
    if rev is None and not location.removeprefix("git+").split("#")[0].endswith(".whl"):
        rev = _ask(None, "servegate revision (git commit or tag; version for pypi)", "", True)
    return {"servegate_source": location, "servegate_rev": rev or ""}


def _report(written: Written, target: Path) -> None:
    for path in written.replaced:
        click.echo(f"servegate: replaced {target / path}", err=True)
    for path in written.merged:
        click.echo(
            f"servegate: kept {target / path} (your settings); added its missing environment "
            "mappings",
            err=True,
        )
    click.echo(
        f"servegate: wrote {len(written.all)} files into {target} ({len(written.created)} new, "
        f"{len(written.replaced)} replaced, {len(written.merged)} updated)",
        err=True,
    )


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
    for text in written.notes:
        note(text)
    for path in written.all:
        click.echo(f"servegate: wrote {path}", err=True)
    return 0

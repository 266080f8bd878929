"""Render the cookiecutter template of a model's GitOps repo (``servegate new``, ``add env``).

Inputs are validated here, before cookiecutter runs; everything is rendered into a temporary
folder first and copied into place only when rendering succeeded and nothing of the user's
would be overwritten silently. The repo template (``generator/``) renders the shared part;
the overlay template (``generator/overlay/``) renders one environment and is reused by
``servegate add env``. No cookiecutter hooks: the template runs no code.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from servegate import install, profiles
from servegate.datafiles import data_dir

#: --framework -> KServe ``predictor.model.modelFormat.name``.
FRAMEWORKS: dict[str, str] = {
    "sklearn": "sklearn",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "pytorch": "pytorch",
    "tensorflow": "tensorflow",
    "onnx": "onnx",
    "huggingface": "huggingface",
}
DEPLOYMENT_MODES = ("knative", "standard")
STORAGE_SCHEMES = ("gs", "s3", "pvc", "hf", "oci", "https")
DEFAULT_ENVS = ("dev", "staging", "prod")
DEFAULT_K8S_VERSION = "1.37"
#: kube-prometheus-stack's Prometheus selects PrometheusRules and PodMonitors labelled
#: ``release: <Helm release name>`` (``ruleSelectorNilUsesHelmValues`` and
#: ``podMonitorSelectorNilUsesHelmValues`` default true: charts/kube-prometheus-stack/values.yaml,
#: templates/prometheus/prometheus.yaml); this is the chart's usual release name.
DEFAULT_PROMETHEUS_RELEASE = "kube-prometheus-stack"
ANSWERS_FILE = ".servegate-answers.json"
#: KServe derives longer names (``<model>-predictor-00001-deployment``) from the model name.
MAX_MODEL_NAME = 40

_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_PREFIX = re.compile(r"^([a-z][-a-z0-9]*)?$")
#: A Kubernetes label value (it becomes the ``release`` label of the rules and monitors).
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$")
_GIT_URL = re.compile(r"^(https://[^\s@/]+/\S+|ssh://\S+|git@[^\s:]+:\S+)$")


class GenerateError(Exception):
    """Bad input or a refused write: one line for the user, exit code 2."""


@dataclass(frozen=True, slots=True)
class Options:
    model_name: str = "sklearn-iris"
    framework: str = "sklearn"
    storage_uri: str = "gs://kfserving-examples/models/sklearn/1.0/model"
    deployment_mode: str = "knative"
    envs: tuple[str, ...] = DEFAULT_ENVS
    canary: bool = True
    iter8: bool = False
    git_repo_url: str = ""
    namespace_prefix: str = "ml-"
    k8s_version: str = DEFAULT_K8S_VERSION
    prometheus_release: str = DEFAULT_PROMETHEUS_RELEASE
    servegate_source: str = ""
    """Where the repo's pre-commit hook and CI install servegate from (``servegate.install``);
    empty: the servegate running now, as it was installed."""
    servegate_rev: str = ""
    argocd_plugin: bool = False
    """The Applications render through the servegate Config Management Plugin."""

    @property
    def repo_url(self) -> str:
        return self.git_repo_url or f"https://git.example.com/ml/{self.model_name}-deploy.git"

    def namespace(self, env: str) -> str:
        return f"{self.namespace_prefix}{self.model_name}-{env}"

    def source(self) -> install.Source:
        """The servegate source; GenerateError when it cannot be used."""
        if not self.servegate_source:
            if self.servegate_rev:
                raise GenerateError("--servegate-rev needs --servegate-source")
            return install.installed()
        try:
            return install.parse(self.servegate_source, self.servegate_rev)
        except install.SourceError as err:
            raise GenerateError(str(err)) from err


def check_model_name(name: str) -> None:
    if not _DNS_LABEL.match(name):
        raise GenerateError(
            f"invalid model name {name!r}: use a DNS-1123 label (lower-case letters, digits and "
            "'-', starting with a letter, ending with a letter or digit)"
        )
    if len(name) > MAX_MODEL_NAME:
        raise GenerateError(f"model name {name!r} is longer than {MAX_MODEL_NAME} characters")


def storage_location(uri: str) -> tuple[str, str]:
    """(scheme, bucket or host) of a storage URI; GenerateError when it is malformed."""
    parts = urlsplit(uri)
    bad = GenerateError(
        f"malformed --storage-uri {uri!r}: expected <scheme>://<bucket>/<path> with scheme one of "
        + ", ".join(STORAGE_SCHEMES)
    )
    if parts.scheme not in STORAGE_SCHEMES or not parts.netloc or any(c.isspace() for c in uri):
        raise bad
    if parts.query or parts.fragment or "@" in parts.netloc or "{" in uri or "}" in uri:
        raise bad
    if parts.scheme in ("gs", "s3") and not re.match(
        r"^[a-z0-9][-a-z0-9._]{1,61}[a-z0-9]$", parts.netloc
    ):
        raise bad
    return parts.scheme, parts.hostname or parts.netloc


def parse_envs(value: str | Iterable[str]) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else list(value)
    envs = tuple(e.strip() for e in items if e.strip())
    if not envs:
        raise GenerateError("--envs needs at least one environment")
    if len(set(envs)) != len(envs):
        raise GenerateError(f"--envs lists an environment twice: {','.join(envs)}")
    return envs


def validate(options: Options, repo: Path | None = None) -> dict[str, profiles.Profile]:
    """Check every input; return env -> validated profile. Raises GenerateError."""
    validate_common(options)
    found: dict[str, profiles.Profile] = {}
    for env in parse_envs(options.envs):
        found[env] = _env_profile(options, env, env, repo)
    return found


def validate_common(options: Options) -> None:
    """Check every input except the environments."""
    check_model_name(options.model_name)
    if options.framework not in FRAMEWORKS:
        raise GenerateError(
            f"unknown framework {options.framework!r} (one of: {', '.join(FRAMEWORKS)})"
        )
    if options.deployment_mode not in DEPLOYMENT_MODES:
        raise GenerateError(
            f"unknown deployment mode {options.deployment_mode!r} (knative or standard)"
        )
    storage_location(options.storage_uri)
    if not _GIT_URL.match(options.repo_url) or any(c in options.repo_url for c in "{}\"'"):
        raise GenerateError(f"invalid --git-repo-url {options.git_repo_url!r}")
    if not _PREFIX.match(options.namespace_prefix):
        raise GenerateError(
            f"invalid --namespace-prefix {options.namespace_prefix!r}: lower-case letters, digits "
            "and '-', starting with a letter"
        )
    if not _LABEL_VALUE.match(options.prometheus_release):
        raise GenerateError(
            f"invalid --prometheus-release {options.prometheus_release!r}: a label value "
            "(letters, digits, '-', '_', '.', at most 63, starting and ending alphanumeric)"
        )
    if not re.match(r"^1\.[0-9]{1,2}$", options.k8s_version):
        raise GenerateError(f"invalid Kubernetes version {options.k8s_version!r} (e.g. 1.37)")
    options.source()


def _env_profile(options: Options, env: str, profile: str, repo: Path | None) -> profiles.Profile:
    if not _DNS_LABEL.match(env):
        raise GenerateError(f"invalid environment name {env!r}: use a DNS-1123 label")
    namespace = options.namespace(env)
    if len(namespace) > 63:
        raise GenerateError(f"namespace {namespace!r} is longer than 63 characters")
    try:
        return profiles.get(profile, repo)
    except profiles.ProfileError as err:
        raise GenerateError(str(err)) from err


def _context(template: Path, values: dict[str, Any]) -> dict[str, Any]:
    """cookiecutter context: the template's defaults (first choice of a list), then ``values``."""
    defaults: dict[str, Any] = json.loads((template / "cookiecutter.json").read_text("utf-8"))
    context = {
        k: (v[0] if isinstance(v, list) and not k.startswith("_") else v)
        for k, v in defaults.items()
    }
    context.update(values)
    context["_template"] = str(template)
    return {"cookiecutter": context}


def _render(template: Path, values: dict[str, Any], out: Path) -> Path:
    from cookiecutter.exceptions import CookiecutterException  # lazy: heavy import
    from cookiecutter.generate import generate_files
    from jinja2 import TemplateError

    try:
        project = generate_files(
            repo_dir=str(template),
            context=_context(template, values),
            output_dir=str(out),
            overwrite_if_exists=False,
            accept_hooks=False,
        )
    except (CookiecutterException, TemplateError) as err:  # a template bug, not user input
        raise GenerateError(f"cannot render template {template.name}: {err}") from err
    return Path(project)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _overlay_values(options: Options, env: str, profile: profiles.Profile) -> dict[str, Any]:
    return {
        "repo_name": "repo",
        "model_name": options.model_name,
        "framework": FRAMEWORKS[options.framework],
        "storage_uri": options.storage_uri,
        "deployment_mode": options.deployment_mode,
        "canary": _yes(options.canary),
        "env": env,
        "namespace": options.namespace(env),
        "k8s_version": options.k8s_version,
        "git_repo_url": options.repo_url,
        "prometheus_release": options.prometheus_release,
        "argocd_plugin": _yes(options.argocd_plugin),
        "profile": profile.data,
    }


def _render_overlay(options: Options, env: str, profile: profiles.Profile, into: Path) -> None:
    generator = data_dir("generator")
    with tempfile.TemporaryDirectory(prefix="servegate-overlay-") as tmp:
        # cookiecutter finds shared partials in <template>/templates: stage one beside a copy
        template = Path(tmp) / "overlay"
        shutil.copytree(generator / "overlay", template)
        shutil.copytree(generator / "templates", template / "templates")
        rendered = _render(template, _overlay_values(options, env, profile), Path(tmp) / "out")
        for src in sorted(p for p in rendered.rglob("*") if p.is_file()):
            dest = into / src.relative_to(rendered)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)


def _answers(options: Options, env_profiles: dict[str, str]) -> dict[str, Any]:
    source = options.source()
    return {
        "version": 1,
        "model_name": options.model_name,
        "framework": options.framework,
        "storage_uri": options.storage_uri,
        "deployment_mode": options.deployment_mode,
        "canary": options.canary,
        "iter8": options.iter8,
        "git_repo_url": options.repo_url,
        "namespace_prefix": options.namespace_prefix,
        "k8s_version": options.k8s_version,
        "prometheus_release": options.prometheus_release,
        "environments": env_profiles,
        "servegate_source": source.location,
        "servegate_rev": source.rev,
        "argocd_plugin": options.argocd_plugin,
    }


def render_repo(options: Options, out: Path) -> Path:
    """Validate and render the whole repo into the new folder ``out`` (which must not exist)."""
    env_profiles = validate(options)
    scheme, bucket = storage_location(options.storage_uri)
    source = options.source()
    values: dict[str, Any] = {
        "model_name": options.model_name,
        "repo_name": "repo",
        "framework": FRAMEWORKS[options.framework],
        "storage_uri": options.storage_uri,
        "deployment_mode": options.deployment_mode,
        "canary": _yes(options.canary),
        "iter8": _yes(options.iter8),
        "git_repo_url": options.repo_url,
        "prometheus_release": options.prometheus_release,
        "namespace_prefix": options.namespace_prefix,
        "k8s_version": options.k8s_version,
        "servegate_spec": source.spec,
        "servegate_schema_url": source.schema_url or "",
        "argocd_plugin": _yes(options.argocd_plugin),
        "storage_scheme": scheme,
        "storage_bucket": bucket if scheme != "pvc" else "",
        "environments": {
            env: {
                "profile": p.name,
                "namespace": options.namespace(env),
                "canaryPercent": p.canary_percent,
            }
            for env, p in env_profiles.items()
        },
    }
    # Iter8 values target the last environment with a canary (else the last one)
    with_canary = [e for e, p in env_profiles.items() if options.canary and p.canary_percent]
    values["iter8_env"] = (with_canary or list(env_profiles))[-1]
    values["iter8_canary_percent"] = env_profiles[values["iter8_env"]].canary_percent * bool(
        with_canary
    )
    out.mkdir(parents=True)
    rendered = _render(data_dir("generator"), values, out)
    for env, profile in env_profiles.items():
        _render_overlay(options, env, profile, rendered)
    if not options.iter8:
        shutil.rmtree(rendered / "iter8", ignore_errors=True)
    answers = _answers(options, {env: p.name for env, p in env_profiles.items()})
    (rendered / ANSWERS_FILE).write_text(json.dumps(answers, indent=2) + "\n", encoding="utf-8")
    return rendered


def _is_empty(directory: Path) -> bool:
    return not directory.exists() or not any(directory.iterdir())


def _plan_copy(src_root: Path, dest_root: Path, *, force: bool) -> list[tuple[Path, Path]]:
    """Files to copy; GenerateError when one would replace a different file without --force."""
    plan: list[tuple[Path, Path]] = []
    conflicts: list[str] = []
    for src in sorted(p for p in src_root.rglob("*") if p.is_file()):
        dest = dest_root / src.relative_to(src_root)
        if dest.is_symlink() or (dest.exists() and not dest.is_file()):
            conflicts.append(str(src.relative_to(src_root)))
            continue
        if dest.exists():
            if dest.read_bytes() == src.read_bytes():
                continue
            if not force:
                conflicts.append(str(src.relative_to(src_root)))
                continue
        plan.append((src, dest))
    if conflicts:
        raise GenerateError(
            f"would overwrite {len(conflicts)} existing file(s) in {dest_root} "
            f"({', '.join(conflicts[:3])}{', ...' if len(conflicts) > 3 else ''}); "
            "nothing was written"
        )
    return plan


def generate(options: Options, target: Path, *, force: bool = False) -> list[Path]:
    """Scaffold the repo into ``target``; return the files written (relative to ``target``).

    Refuses a non-empty ``target`` unless ``force``; even with ``force`` a file is only
    replaced when its content differs, and every replaced file is returned so the caller can
    name it. On any error nothing is written.
    """
    validate(options)
    if target.exists() and not target.is_dir():
        raise GenerateError(f"{target} exists and is not a directory")
    if not force and not _is_empty(target):
        raise GenerateError(f"{target} is not empty; use --force to write into it")
    with tempfile.TemporaryDirectory(prefix="servegate-new-") as tmp:
        rendered = render_repo(options, Path(tmp) / "out")
        plan = _plan_copy(rendered, target, force=force)
        for src, dest in plan:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)
    return [dest.relative_to(target) for _, dest in plan]


def read_answers(repo: Path) -> Options:
    """The Options a repo was generated with (from its answers file)."""
    path = repo / ANSWERS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise GenerateError(
            f"{path} is missing or unreadable: is {repo} a repo made by `servegate new`?"
        ) from err
    try:
        return Options(
            model_name=str(data["model_name"]),
            framework=str(data["framework"]),
            storage_uri=str(data["storage_uri"]),
            deployment_mode=str(data["deployment_mode"]),
            envs=tuple(data["environments"]),
            canary=bool(data["canary"]),
            iter8=bool(data["iter8"]),
            git_repo_url=str(data["git_repo_url"]),
            namespace_prefix=str(data["namespace_prefix"]),
            k8s_version=str(data["k8s_version"]),
            # answers files written before the option existed: the default it then had
            prometheus_release=str(data.get("prometheus_release", DEFAULT_PROMETHEUS_RELEASE)),
            # answers of older repos lack these: the servegate running now, no plugin
            servegate_source=str(data.get("servegate_source", "")),
            servegate_rev=str(data.get("servegate_rev", "")),
            argocd_plugin=bool(data.get("argocd_plugin", False)),
        )
    except (KeyError, TypeError) as err:
        raise GenerateError(f"{path} is missing {err}") from err


def add_env(repo: Path, env: str, profile_name: str | None = None) -> list[Path]:
    """Add overlays/<env> (+ its Argo CD Application and servegate.yaml mapping) to ``repo``."""
    options = read_answers(repo)
    if (repo / "overlays" / env).exists():
        raise GenerateError(f"overlays/{env} already exists in {repo}")
    validate_common(options)
    profile = _env_profile(options, env, profile_name or env, repo)
    with tempfile.TemporaryDirectory(prefix="servegate-add-") as tmp:
        staged = Path(tmp)
        _render_overlay(options, env, profile, staged)
        plan = _plan_copy(staged, repo, force=False)
        config = _add_mapping(
            repo / "servegate.yaml",
            {f"overlays/{env}": profile.name, f"argocd/applications/{env}.yaml": profile.name},
        )
        for src, dest in plan:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)
    (repo / "servegate.yaml").write_text(config, encoding="utf-8")
    answers_path = repo / ANSWERS_FILE
    answers = json.loads(answers_path.read_text(encoding="utf-8"))
    answers["environments"][env] = profile.name
    answers_path.write_text(json.dumps(answers, indent=2) + "\n", encoding="utf-8")
    return [dest.relative_to(repo) for _, dest in plan] + [Path("servegate.yaml")]


def _add_mapping(config: Path, mappings: dict[str, str]) -> str:
    """servegate.yaml text with ``path: profile`` entries added, comments kept (round-trip)."""
    from io import StringIO

    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    yaml = YAML()
    yaml.preserve_quotes = True
    try:
        data = yaml.load(config.read_text(encoding="utf-8"))
    except (OSError, YAMLError) as err:
        raise GenerateError(f"cannot read {config}: {err}".splitlines()[0]) from err
    if not isinstance(data, dict):
        raise GenerateError(f"{config} is not a mapping")
    if data.get("environments") is None:
        data["environments"] = {}
    for path, profile in mappings.items():
        data["environments"][path] = profile
    out = StringIO()
    yaml.dump(data, out)
    return out.getvalue()

"""Render the cookiecutter template of a model's GitOps repo (``servegate new``, ``add env``).

Inputs are validated and resolved here (:func:`resolve`), before cookiecutter runs: the KServe
version decides the deployment-mode names and whether Standard-mode canaries get traffic, the
mesh decides namespace labels, Pod Security and the AuthorizationPolicy, the framework decides
the ``protocolVersion`` a default ServingRuntime serves. Everything is rendered into a temporary
folder first and copied into place only when rendering succeeded; writes go through
:mod:`servegate.safewrite` (never through a symlink that leaves the repo, atomically). The repo
template (``generator/``) renders the shared part; the overlay template
(``generator/overlay/``) renders one environment and is reused by ``servegate add env``. No
cookiecutter hooks: the template runs no code.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from servegate import install, kserve_runtimes, kserve_versions, profiles, safewrite
from servegate.datafiles import data_dir
from servegate.suggest import did_you_mean

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
#: Accepted spellings of --deployment-mode -> (mode, note shown when it is not the plain name).
MODE_ALIASES: dict[str, str] = {
    "knative": "knative",
    "standard": "standard",
    "serverless": "knative",
    "raw": "standard",
    "rawdeployment": "standard",
}
MESHES: dict[str, str] = {
    "istio-cni": "Istio sidecars with the Istio CNI node agent (no privileged init container)",
    "ambient": "Istio ambient mode (ztunnel; no sidecars)",
    "sidecar": "Istio sidecars without CNI (istio-init needs NET_ADMIN/NET_RAW: privileged PSS)",
    "none": "no service mesh (no mTLS, no AuthorizationPolicy)",
}
#: --ingress-gateway -> (principal of its pods, what it is)
INGRESS_GATEWAYS: dict[str, tuple[str, str]] = {
    "istio-ingressgateway": (
        "cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account",
        "Istio's classic ingress gateway (istioctl default profile)",
    ),
    "istio-gateway": (
        "cluster.local/ns/istio-ingress/sa/istio-ingressgateway",
        "Helm chart istio/gateway, release istio-ingressgateway in namespace istio-ingress",
    ),
    "gateway-api": (
        "cluster.local/ns/kserve/sa/kserve-ingress-gateway-istio",
        "Gateway API: KServe's Gateway kserve/kserve-ingress-gateway with gatewayClassName istio",
    ),
}
STORAGE_AUTH: dict[str, str] = {
    "none": "no credentials (public bucket, or node or cluster-wide credentials)",
    "irsa": "AWS IAM role for the ServiceAccount (eks.amazonaws.com/role-arn)",
    "workload-identity": "GKE Workload Identity (iam.gke.io/gcp-service-account)",
    "secret": "a Secret listed on the ServiceAccount (KServe's annotated-Secret pattern)",
}
PROTOCOLS = ("v1", "v2", "grpc-v1", "grpc-v2")
STORAGE_SCHEMES = ("gs", "s3", "pvc", "hf", "oci", "https")
DEFAULT_ENVS = ("dev", "staging", "prod")
DEFAULT_K8S_VERSION = "1.37"
#: kube-prometheus-stack's Prometheus selects PrometheusRules and PodMonitors labelled
#: ``release: <Helm release name>`` (``ruleSelectorNilUsesHelmValues`` and
#: ``podMonitorSelectorNilUsesHelmValues`` default true: charts/kube-prometheus-stack/values.yaml,
#: templates/prometheus/prometheus.yaml); this is the chart's usual release name.
DEFAULT_PROMETHEUS_RELEASE = "kube-prometheus-stack"
ANSWERS_FILE = ".servegate-answers.json"
CONFIG_FILE = "servegate.yaml"
#: KServe derives longer names (``<model>-predictor-00001-deployment``) from the model name.
MAX_MODEL_NAME = 40

_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_PREFIX = re.compile(r"^([a-z][-a-z0-9]*)?$")
#: A Kubernetes label value (it becomes the ``release`` label of the rules and monitors).
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$")
_GIT_URL = re.compile(r"^(https://[^\s@/]+/\S+|ssh://\S+|git@[^\s:]+:\S+)$")
_PRINCIPAL = re.compile(r"^[a-z0-9.-]+/ns/[a-z0-9]([-a-z0-9]*[a-z0-9])?/sa/[a-z0-9.-]+$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$")
_GSA = re.compile(
    r"^[a-z][-a-z0-9]{4,28}[a-z0-9]@[a-z][-a-z0-9]{4,28}[a-z0-9]\.iam\.gserviceaccount\.com$"
)


class GenerateError(Exception):
    """Bad input or a refused write: one line for the user, exit code 2."""


def unknown(what: str, value: str, choices: Sequence[str]) -> GenerateError:
    return GenerateError(
        f"unknown {what} {value!r}{did_you_mean(value, choices)}; one of: {', '.join(choices)}"
    )


@dataclass(frozen=True, slots=True)
class Options:
    model_name: str = "sklearn-iris"
    framework: str = "sklearn"
    storage_uri: str = "gs://kfserving-examples/models/sklearn/1.0/model"
    deployment_mode: str = "knative"
    envs: tuple[str, ...] = DEFAULT_ENVS
    canary: bool = True
    git_repo_url: str = ""
    namespace_prefix: str = "ml-"
    k8s_version: str = DEFAULT_K8S_VERSION
    kserve_version: str = kserve_versions.DEFAULT
    mesh: str = "istio-cni"
    ingress_gateway: str = "istio-ingressgateway"
    gateway_principal: str = ""
    """Overrides the principal of ``ingress_gateway`` (``<trust domain>/ns/<ns>/sa/<sa>``)."""
    storage_auth: str = "none"
    storage_identity: str = ""
    """Role ARN (irsa), Google service account (workload-identity) or Secret name (secret)."""
    protocol_version: str = ""
    """Empty: the one KServe's default runtimes serve for the framework (v1 where they can)."""
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


@dataclass(frozen=True, slots=True)
class Resolved:
    """Validated options and what follows from them; ``notes`` are told to the user."""

    options: Options
    profiles: dict[str, profiles.Profile]
    version: kserve_versions.KServeVersion
    principal: str
    protocol: str
    """``protocolVersion`` to write; empty when KServe's default (v1) is served."""
    notes: tuple[str, ...] = ()

    @property
    def mode_name(self) -> str:
        return self.version.mode_name(self.options.deployment_mode)

    def canary_percent(self, env: str) -> int:
        return self.profiles[env].canary_percent if self.options.canary else 0


@dataclass(slots=True)
class Written:
    """What a command wrote, relative to the repo."""

    created: list[Path] = field(default_factory=list)
    replaced: list[Path] = field(default_factory=list)
    merged: list[Path] = field(default_factory=list)
    """Settings files kept and only added to (servegate.yaml)."""
    notes: list[str] = field(default_factory=list)

    @property
    def all(self) -> list[Path]:
        return [*self.created, *self.replaced, *self.merged]


# --- validation ---------------------------------------------------------------------------------


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
    for env in envs:
        if not _DNS_LABEL.match(env):
            raise GenerateError(f"invalid environment name {env!r}: use a DNS-1123 label")
    return envs


def normalize_mode(value: str, kserve_version: str = kserve_versions.DEFAULT) -> tuple[str, str]:
    """(``knative``/``standard``, note) for any accepted spelling of --deployment-mode."""
    mode = MODE_ALIASES.get(value.strip().lower())
    if mode is None:
        raise unknown(
            "deployment mode", value, ("knative", "standard", "Serverless", "RawDeployment")
        )
    note = ""
    if value.strip().lower() not in DEPLOYMENT_MODES:
        try:
            name = kserve_versions.parse(kserve_version).mode_name(mode)
        except kserve_versions.UnsupportedVersion:
            name = mode
        note = (
            f"--deployment-mode {value}: KServe's {'legacy ' if value[0].isupper() else ''}"
            f"name of {mode} mode; the annotation says {name!r}, the name KServe "
            f"{kserve_version} uses"
        )
    return mode, note


def choice(what: str, value: str, choices: Sequence[str]) -> str:
    """``value`` when it is one of ``choices``; GenerateError suggesting the nearest otherwise."""
    if value not in choices:
        raise unknown(what, value, choices)
    return value


def validate_common(options: Options) -> None:
    """Check every input except the environments."""
    check_model_name(options.model_name)
    choice("framework", options.framework, list(FRAMEWORKS))
    choice("deployment mode", options.deployment_mode, DEPLOYMENT_MODES)
    scheme, _ = storage_location(options.storage_uri)
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
    try:
        kserve_versions.parse(options.kserve_version)
    except kserve_versions.UnsupportedVersion as err:
        raise GenerateError(str(err)) from None
    choice("mesh", options.mesh, list(MESHES))
    choice("ingress gateway", options.ingress_gateway, list(INGRESS_GATEWAYS))
    if options.gateway_principal and not _PRINCIPAL.match(options.gateway_principal):
        raise GenerateError(
            f"invalid --gateway-principal {options.gateway_principal!r}: expected "
            "<trust domain>/ns/<namespace>/sa/<service account>, e.g. "
            f"{INGRESS_GATEWAYS['istio-ingressgateway'][0]}"
        )
    if options.ingress_gateway == "gateway-api" and options.deployment_mode == "knative":
        raise GenerateError(
            "--ingress-gateway gateway-api applies to Standard mode only: KServe routes Knative "
            "mode through Knative's Istio gateways (use istio-ingressgateway or istio-gateway)"
        )
    _validate_storage_auth(options, scheme)
    if options.protocol_version:
        choice("protocol version", options.protocol_version, PROTOCOLS)
    options.source()


def _validate_storage_auth(options: Options, scheme: str) -> None:
    auth, identity = options.storage_auth, options.storage_identity
    choice("storage auth", auth, list(STORAGE_AUTH))
    if auth == "none":
        if identity:
            raise GenerateError(
                "--storage-identity needs --storage-auth irsa|workload-identity|secret"
            )
        return
    if auth == "irsa":
        if scheme != "s3":
            raise GenerateError(f"--storage-auth irsa is for s3:// models, not {scheme}://")
        if not _ROLE_ARN.match(identity):
            raise GenerateError(
                f"--storage-auth irsa needs --storage-identity <IAM role ARN> "
                f"(arn:aws:iam::<account>:role/<name>), got {identity!r}"
            )
    elif auth == "workload-identity":
        if scheme != "gs":
            raise GenerateError(
                f"--storage-auth workload-identity is for gs:// models, not {scheme}://"
            )
        if not _GSA.match(identity):
            raise GenerateError(
                "--storage-auth workload-identity needs --storage-identity "
                f"<name>@<project>.iam.gserviceaccount.com, got {identity!r}"
            )
    elif identity and (not _DNS_SUBDOMAIN.match(identity) or len(identity) > 253):
        raise GenerateError(f"invalid --storage-identity {identity!r}: a Secret name")


def _env_profile(options: Options, env: str, profile: str, repo: Path | None) -> profiles.Profile:
    if not _DNS_LABEL.match(env):
        raise GenerateError(f"invalid environment name {env!r}: use a DNS-1123 label")
    namespace = options.namespace(env)
    if len(namespace) > 63:
        raise GenerateError(f"namespace {namespace!r} is longer than 63 characters")
    try:
        found = profiles.get(profile, repo)
    except profiles.ProfileError as err:
        raise GenerateError(str(err)) from err
    _check_mesh(options, env, found)
    return found


def _check_mesh(options: Options, env: str, profile: profiles.Profile) -> None:
    declared = profile.data.get("mesh")
    if declared is not None and declared != options.mesh:
        raise GenerateError(
            f"environment {env!r}: profile {profile.name!r} says its cluster runs mesh "
            f"{declared!r}, not --mesh {options.mesh}"
        )
    if options.mesh == "sidecar" and not profile.data.get("allowPrivilegedNamespace"):
        raise GenerateError(
            f"--mesh sidecar needs a privileged namespace (Istio's istio-init container needs "
            f"NET_ADMIN and NET_RAW; Istio: Install Istio with Pod Security Admission), and "
            f"profile {profile.name!r} does not allow one (allowPrivilegedNamespace): "
            "use --mesh istio-cni or --mesh ambient"
        )


def _protocol(options: Options, version: str) -> tuple[str, str]:
    """(protocolVersion to write or "", note) for the framework under the default runtimes."""
    fmt = FRAMEWORKS[options.framework]
    runtimes = kserve_runtimes.default_runtimes(version)
    served = kserve_runtimes.protocols_served(runtimes, fmt)
    if options.protocol_version:
        if options.protocol_version not in served:
            raise GenerateError(
                f"no default KServe {version} runtime serves {fmt} over "
                f"{options.protocol_version} (served: {', '.join(served) or 'none'})"
            )
        return ("" if options.protocol_version == "v1" else options.protocol_version), ""
    if "v1" in served:
        return "", ""
    if not served:
        raise GenerateError(f"no default KServe {version} runtime auto-selects {fmt}")
    names = sorted(
        r.name for r in kserve_runtimes.supporting_runtimes(runtimes, fmt, protocol=served[0])
    )
    return served[0], (
        f"{fmt}: KServe's default runtimes serve it over {served[0]} only "
        f"({', '.join(names)}); writing protocolVersion: {served[0]}"
    )


def resolve(options: Options, repo: Path | None = None) -> Resolved:
    """Validate every input and settle what follows from them. Raises GenerateError."""
    validate_common(options)
    envs = parse_envs(options.envs)
    found = {env: _env_profile(options, env, env, repo) for env in envs}
    return _resolve(options, found)


def _resolve(options: Options, found: dict[str, profiles.Profile]) -> Resolved:
    version = kserve_versions.parse(options.kserve_version)
    options = replace(options, kserve_version=version.label)
    notes: list[str] = []
    with_canary = [e for e, p in found.items() if options.canary and p.canary_percent]
    if options.deployment_mode == "standard" and with_canary:
        why = []
        if not version.routes_canary:
            why.append(f"KServe {version.label} does not route spec.canary")
        if options.ingress_gateway != "gateway-api":
            why.append("Gateway API is not the ingress (--ingress-gateway gateway-api)")
        if why:
            if options.ingress_gateway == "gateway-api":
                raise GenerateError(
                    "Standard-mode canaries (spec.canary) receive traffic only with KServe newer "
                    f"than v0.20.0 (kserve#5912), not {version.label}: use --no-canary, or "
                    "Knative mode with an Istio ingress gateway"
                )
            options = replace(options, deployment_mode="knative")
            notes.append(
                "Standard-mode canaries (spec.canary) receive traffic only with KServe newer than "
                "v0.20.0 and Gateway API enabled (kserve#5912); here "
                + " and ".join(why)
                + f", so environments {', '.join(with_canary)} would get a canary that gets no "
                "traffic: generating Knative mode (canaryTrafficPercent) instead; "
                "use --no-canary to keep Standard mode"
            )
    if options.deployment_mode == "standard":
        zero = [e for e, p in found.items() if p.data["autoscaling"]["minReplicas"] == 0]
        if zero:
            notes.append(
                f"environments {', '.join(zero)}: minReplicas 0 (scale to zero) needs Knative "
                "mode; Standard mode (HPA) gets minReplicas 1"
            )
    if options.mesh in ("ambient", "none"):
        notes.append(
            f"--mesh {options.mesh}: the model pods have no istio-proxy, so nothing emits the "
            "Istio request metrics the alerts, dashboards and AnalysisTemplates read (ambient: "
            "only a waypoint proxy would); metric-driven promotion needs --mesh istio-cni"
        )
    if options.mesh in ("none", "sidecar"):
        what = (
            "policy.mesh: none (no mTLS rules)"
            if options.mesh == "none"
            else "environment profiles with allowPrivilegedNamespace"
        )
        notes.append(
            f"--mesh {options.mesh}: servegate check reads this repo's {what} as relaxing the "
            "operator's policy (repo.policy-weakening) until the operator allows it: "
            "allowRepoWeakening in the operator configuration, or --allow-repo-weakening"
        )
    protocol, note = _protocol(options, version.label)
    if note:
        notes.append(note)
    principal = options.gateway_principal or INGRESS_GATEWAYS[options.ingress_gateway][0]
    return Resolved(options, found, version, principal, protocol, tuple(notes))


# --- rendering ----------------------------------------------------------------------------------


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


def _common_values(r: Resolved) -> dict[str, Any]:
    o = r.options
    scheme, bucket = storage_location(o.storage_uri)
    return {
        "repo_name": "repo",
        "model_name": o.model_name,
        "framework": FRAMEWORKS[o.framework],
        "storage_uri": o.storage_uri,
        "storage_scheme": scheme,
        "storage_bucket": bucket if scheme != "pvc" else "",
        "deployment_mode": o.deployment_mode,
        "mode_name": r.mode_name,
        "kserve_version": r.version.label,
        "model_format_annotation": _yes(r.version.writes_model_format_annotation),
        "protocol_version": r.protocol,
        "canary": _yes(o.canary),
        "mesh": o.mesh,
        "gateway_principal": r.principal,
        "ingress_gateway": o.ingress_gateway,
        "storage_auth": o.storage_auth,
        "storage_identity": o.storage_identity
        or (f"{o.model_name}-storage" if o.storage_auth == "secret" else ""),
        "git_repo_url": o.repo_url,
        "prometheus_release": o.prometheus_release,
        "namespace_prefix": o.namespace_prefix,
        "k8s_version": o.k8s_version,
        "argocd_plugin": _yes(o.argocd_plugin),
    }


def _overlay_values(r: Resolved, env: str, profile: profiles.Profile) -> dict[str, Any]:
    auto = profile.data["autoscaling"]
    knative = r.options.deployment_mode == "knative"
    level = profile.data["podSecurity"]
    return {
        **_common_values(r),
        "env": env,
        "namespace": r.options.namespace(env),
        "profile": profile.data,
        "pss_enforce": "privileged" if r.options.mesh == "sidecar" else level,
        "pss_level": level,
        "min_replicas": auto["minReplicas"] if knative else max(1, auto["minReplicas"]),
        "canary_percent": r.canary_percent(env),
    }


def _render_overlay(r: Resolved, env: str, profile: profiles.Profile, into: Path) -> None:
    generator = data_dir("generator")
    with tempfile.TemporaryDirectory(prefix="servegate-overlay-") as tmp:
        # cookiecutter finds shared partials in <template>/templates: stage one beside a copy
        template = Path(tmp) / "overlay"
        shutil.copytree(generator / "overlay", template)
        shutil.copytree(generator / "templates", template / "templates")
        rendered = _render(template, _overlay_values(r, env, profile), Path(tmp) / "out")
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
        "git_repo_url": options.repo_url,
        "namespace_prefix": options.namespace_prefix,
        "k8s_version": options.k8s_version,
        "prometheus_release": options.prometheus_release,
        "kserve_version": options.kserve_version,
        "mesh": options.mesh,
        "ingress_gateway": options.ingress_gateway,
        "gateway_principal": options.gateway_principal,
        "storage_auth": options.storage_auth,
        "storage_identity": options.storage_identity,
        "protocol_version": options.protocol_version,
        "environments": env_profiles,
        "servegate_source": source.location,
        "servegate_rev": source.rev,
        "argocd_plugin": options.argocd_plugin,
    }


def render_repo(r: Resolved, out: Path) -> Path:
    """Render the whole repo of resolved options into the new folder ``out``."""
    values = _common_values(r)
    source = r.options.source()
    values["servegate_spec"] = source.spec
    values["servegate_schema_url"] = source.schema_url or ""
    values["environments"] = {
        env: {
            "profile": p.name,
            "namespace": r.options.namespace(env),
            "canaryPercent": r.canary_percent(env),
        }
        for env, p in r.profiles.items()
    }
    out.mkdir(parents=True)
    rendered = _render(data_dir("generator"), values, out)
    for env, profile in r.profiles.items():
        _render_overlay(r, env, profile, rendered)
    if r.options.mesh == "none":  # no mesh: no Istio policy objects at all
        for name in ("peerauthentication.yaml", "authorizationpolicy.yaml"):
            (rendered / "base" / name).unlink()
    answers = _answers(r.options, {env: p.name for env, p in r.profiles.items()})
    (rendered / ANSWERS_FILE).write_text(json.dumps(answers, indent=2) + "\n", encoding="utf-8")
    return rendered


# --- writing ------------------------------------------------------------------------------------


def _is_empty(directory: Path) -> bool:
    return not directory.exists() or not any(directory.iterdir())


def generate(options: Options, target: Path, *, force: bool = False) -> Written:
    """Scaffold the repo into ``target``.

    Refuses a non-empty ``target`` unless ``force``. With ``force``: a file is replaced only
    when its content differs, and every replaced file is listed; an existing ``servegate.yaml``
    (the repo's committed settings) is never replaced: missing environment mappings are added
    to it, and nothing else changes; no symlink below ``target`` is written through. On any
    error nothing is written.
    """
    if target.exists() and not target.is_dir():
        raise GenerateError(f"{target} exists and is not a directory")
    if not force and not _is_empty(target):
        raise GenerateError(f"{target} is not empty; use --force to write into it")
    existing_profiles = target if force and (target / profiles.PROFILE_DIR).is_dir() else None
    r = resolve(options, existing_profiles)
    result = Written(notes=list(r.notes))
    with tempfile.TemporaryDirectory(prefix="servegate-new-") as tmp:
        rendered = render_repo(r, Path(tmp) / "out")
        files: list[tuple[Path, bytes]] = []
        for src in sorted(p for p in rendered.rglob("*") if p.is_file()):
            rel = src.relative_to(rendered)
            data = src.read_bytes()
            dest = target / rel
            try:
                safewrite.landing(target, rel, symlinks="none")
            except safewrite.UnsafeWrite as err:
                raise GenerateError(f"{err}; nothing was written") from None
            if not dest.exists():
                result.created.append(rel)
            elif not dest.is_file():
                raise GenerateError(f"{dest} exists and is not a file; nothing was written")
            elif rel.as_posix() == CONFIG_FILE:
                text = dest.read_text(encoding="utf-8")
                mappings = _mappings(r)
                merged = add_mappings(text, mappings, dest, keep_existing=True)
                if merged == text:
                    continue
                data = merged.encode("utf-8")
                result.merged.append(rel)
            elif dest.read_bytes() == data:
                continue
            else:
                result.replaced.append(rel)
            files.append((rel, data))
        if not target.exists():
            target.mkdir(parents=True)
        try:
            safewrite.write_all(target, files, symlinks="none")
        except safewrite.UnsafeWrite as err:
            raise GenerateError(str(err)) from None
    return result


def _mappings(r: Resolved, envs: Iterable[str] | None = None) -> dict[str, str]:
    chosen = list(r.profiles) if envs is None else list(envs)
    out: dict[str, str] = {}
    for env in chosen:
        out[f"overlays/{env}"] = r.profiles[env].name
        out[f"argocd/applications/{env}.yaml"] = r.profiles[env].name
    return out


def read_answers(repo: Path) -> Options:
    """The Options a repo was generated with (from its answers file)."""
    path = repo / ANSWERS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise GenerateError(
            f"{path} is missing or unreadable: is {repo} a repo made by `servegate new`?"
        ) from err
    if not isinstance(data, dict) or not isinstance(data.get("environments"), dict):
        raise GenerateError(f"{path} is not an answers file of `servegate new`")
    d = Options()
    try:
        return Options(
            model_name=str(data["model_name"]),
            framework=str(data["framework"]),
            storage_uri=str(data["storage_uri"]),
            deployment_mode=str(data["deployment_mode"]),
            envs=tuple(data["environments"]),
            canary=bool(data["canary"]),
            git_repo_url=str(data["git_repo_url"]),
            namespace_prefix=str(data["namespace_prefix"]),
            k8s_version=str(data["k8s_version"]),
            # answers files written before the option existed: the default it then had
            prometheus_release=str(data.get("prometheus_release", DEFAULT_PROMETHEUS_RELEASE)),
            # answers of older servegate versions lack these: what those versions generated
            kserve_version=str(data.get("kserve_version", "0.20")),
            mesh=str(data.get("mesh", "istio-cni")),
            ingress_gateway=str(data.get("ingress_gateway", d.ingress_gateway)),
            gateway_principal=str(data.get("gateway_principal", "")),
            storage_auth=str(data.get("storage_auth", "none")),
            storage_identity=str(data.get("storage_identity", "")),
            protocol_version=str(data.get("protocol_version", "")),
            # answers of older repos lack these: the servegate running now, no plugin
            servegate_source=str(data.get("servegate_source", "")),
            servegate_rev=str(data.get("servegate_rev", "")),
            argocd_plugin=bool(data.get("argocd_plugin", False)),
        )
    except (KeyError, TypeError) as err:
        raise GenerateError(f"{path} is missing {err}") from err


def add_env(repo: Path, env: str, profile_name: str | None = None) -> Written:
    """Add overlays/<env> (+ its Argo CD Application and servegate.yaml mapping) to ``repo``.

    servegate.yaml gains two lines; every other line keeps its bytes. Writes go only where the
    repo's real root contains them (never through a symlink that leaves it), atomically.
    """
    options = read_answers(repo)
    if (repo / "overlays" / env).exists() or (repo / "overlays" / env).is_symlink():
        raise GenerateError(f"overlays/{env} already exists in {repo}")
    validate_common(options)
    parse_envs([env])
    profile = _env_profile(options, env, profile_name or env, repo)
    known = {e: p for e in options.envs if (p := _known_profile(repo, e)) is not None}
    r = _resolve(replace(options, envs=(*options.envs, env)), {**known, env: profile})
    result = Written(notes=[n for n in r.notes if "protocolVersion" not in n])
    answers_path = repo / ANSWERS_FILE
    with tempfile.TemporaryDirectory(prefix="servegate-add-") as tmp:
        staged = Path(tmp)
        _render_overlay(r, env, profile, staged)
        files: list[tuple[Path, bytes]] = []
        for src in sorted(p for p in staged.rglob("*") if p.is_file()):
            rel = src.relative_to(staged)
            if (repo / rel).exists() or (repo / rel).is_symlink():
                raise GenerateError(f"{rel} already exists in {repo}; nothing was written")
            files.append((rel, src.read_bytes()))
            result.created.append(rel)
        config = repo / CONFIG_FILE
        try:
            text = config.read_text(encoding="utf-8")
        except OSError as err:
            raise GenerateError(f"cannot read {config}: {err.strerror}") from None
        mapping = {f"overlays/{env}": profile.name, f"argocd/applications/{env}.yaml": profile.name}
        files.append((Path(CONFIG_FILE), add_mappings(text, mapping, config).encode("utf-8")))
        result.merged.append(Path(CONFIG_FILE))
        answers = json.loads(answers_path.read_text(encoding="utf-8"))
        answers["environments"][env] = profile.name
        files.append((Path(ANSWERS_FILE), (json.dumps(answers, indent=2) + "\n").encode()))
        result.replaced.append(Path(ANSWERS_FILE))
        try:
            safewrite.write_all(repo, files, symlinks="inside")
        except safewrite.UnsafeWrite as err:
            raise GenerateError(f"{err}; nothing was written") from None
    return result


def _known_profile(repo: Path, env: str) -> profiles.Profile | None:
    """The profile an existing environment was generated with, when it still loads."""
    try:
        data = json.loads((repo / ANSWERS_FILE).read_text(encoding="utf-8"))
        return profiles.get(str(data["environments"][env]), repo)
    except (OSError, ValueError, KeyError, TypeError, profiles.ProfileError):
        return None


# --- servegate.yaml: add mappings, keep every other byte ---------------------------------------


def add_mappings(
    text: str, mappings: dict[str, str], path: Path, *, keep_existing: bool = False
) -> str:
    """``text`` of a servegate.yaml with ``path: profile`` entries added under ``environments``.

    Lines that are not added keep their bytes (comments, quoting, order, blank lines). An entry
    already mapped to another profile is an error, or kept as it is with ``keep_existing``.
    Raises GenerateError when the file cannot be edited this way (then edit it by hand).
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.error import YAMLError

    def load(source: str) -> Any:
        try:
            return YAML().load(source)
        except YAMLError as err:
            raise GenerateError(f"cannot read {path}: {err}".splitlines()[0]) from None

    data = load(text)
    if data is None:
        data = CommentedMap()
    if not isinstance(data, CommentedMap):
        raise GenerateError(f"{path} is not a YAML mapping")
    envs = data.get("environments")
    if envs is not None and not isinstance(envs, CommentedMap):
        raise GenerateError(f"{path}: 'environments' is not a mapping")
    current = {str(k): str(v) for k, v in (envs or {}).items()}
    new: dict[str, str] = {}
    for key, value in mappings.items():
        if key in current:
            if current[key] != value and not keep_existing:
                raise GenerateError(
                    f"{path}: {key} is already mapped to {current[key]!r}; nothing was written"
                )
            continue
        new[key] = value
    if not new:
        return text
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    if envs and not envs.fa.flow_style():
        last = list(envs)[-1]
        line, col = envs.lc.key(last)
        indent = " " * col
        at = line + 1
        lines[at:at] = [f"{indent}{k}: {v}\n" for k, v in new.items()]
    elif envs is not None or "environments" in data:
        line, _ = data.lc.key("environments")
        head = lines[line]
        if not re.match(r"^environments\s*:\s*(\{\s*\}|null|~)?\s*(#.*)?$", head.rstrip("\n")):
            raise GenerateError(
                f"{path}:{line + 1}: cannot add to a flow-style 'environments' mapping: "
                f"add {', '.join(new)} by hand"
            )
        block = [f"  {k}: {v}\n" for k, v in {**current, **new}.items()]
        lines[line : line + 1] = ["environments:\n", *block]
    else:
        lines += ["environments:\n", *[f"  {k}: {v}\n" for k, v in new.items()]]
    result = "".join(lines)
    after = load(result)
    expected = {**current, **new}
    others = {k: v for k, v in data.items() if k != "environments"}
    if (
        not isinstance(after, dict)
        or {str(k): str(v) for k, v in (after.get("environments") or {}).items()} != expected
        or {k: v for k, v in after.items() if k != "environments"} != others
    ):
        raise GenerateError(f"{path}: cannot add {', '.join(new)} safely: add them by hand")
    return result

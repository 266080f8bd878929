"""The in-cluster canary loop: an Argo Workflows ``WorkflowTemplate`` and the ``CronWorkflow``
that runs it, built with the Argo Workflows SDK (``servegate canary render``).

Every run downloads the model repo, runs ``servegate canary analyze`` against the cluster's
Prometheus and ``servegate canary step`` on the decision, checks the changed repo with
``servegate check``, and opens a pull request with the change and the analysis as evidence
(hold: nothing to do). Nothing is pushed to the default branch: a human (or the repo's merge
policy) merges, and Argo CD syncs. The pod meets Pod Security "restricted"; parameters reach
the script as environment variables, never spliced into its source. The committed copy is
``argo/workflows/canary-workflow.yaml``; its ServiceAccount and the executor's Role are in
``argo/workflows/canary-rbac.yaml``.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Any

RUN_AS = 65532
SERVEGATE_IMAGE = "ghcr.io/servegate/servegate:0.1.0"

SCRIPT = """\
import base64, io, json, os, pathlib, subprocess, sys, tarfile, urllib.request

repo, env = os.environ["GITOPS_REPO"], os.environ["ENVIRONMENT"]
api = "https://api.github.com/repos/" + repo
headers = {"Authorization": "Bearer " + os.environ["GITHUB_TOKEN"],
           "Accept": "application/vnd.github+json"}

def call(method, path, body=None, raw=False):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(api + path, method=method, data=data, headers=headers)
    with urllib.request.urlopen(req, timeout=60) as resp:
        return resp.read() if raw else json.load(resp)

base = os.environ.get("BASE_BRANCH") or call("GET", "")["default_branch"]
src = pathlib.Path("/work/src")
with tarfile.open(fileobj=io.BytesIO(call("GET", "/tarball/" + base, raw=True))) as tar:
    tar.extractall(src, filter="data")
root = next(src.iterdir())
before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
report = "/work/analysis.json"
analyze = subprocess.run(["servegate", "canary", "analyze", env, "--repo", str(root),
                          "--prometheus", os.environ["PROMETHEUS_URL"], "--format", "json",
                          "--output", report])
if analyze.returncode == 2:
    sys.exit("servegate canary analyze could not decide (see above)")
analysis = json.loads(pathlib.Path(report).read_text())
print(env + ": " + analysis["decision"] + ": " + analysis["reason"])
subprocess.run(["servegate", "canary", "step", env, "--repo", str(root), "--analysis", report,
                "--steps", os.environ["STEPS"]], check=True)
changed = sorted(p for p in root.rglob("*") if p.is_file() and before.get(p) != p.read_bytes())
if not changed:
    sys.exit(0)
subprocess.run(["servegate", "check", str(root)], check=True)
branch = "servegate/canary-" + env + "-" + os.environ["WORKFLOW_NAME"]
sha = call("GET", "/git/ref/heads/" + base)["object"]["sha"]
call("POST", "/git/refs", {"ref": "refs/heads/" + branch, "sha": sha})
title = "canary " + env + ": " + analysis["decision"]
for path in changed:
    rel = path.relative_to(root).as_posix()
    current = call("GET", "/contents/" + rel + "?ref=" + branch)
    call("PUT", "/contents/" + rel, {"message": title, "branch": branch, "sha": current["sha"],
         "content": base64.b64encode(path.read_bytes()).decode()})
rows = "\\n".join("| " + m["template"] + "/" + m["metric"] + " | " + m["phase"] + " | "
                  + (m["measurements"][-1]["value"] if m["measurements"] else "") + " | "
                  + str(m.get("stableValue") or "") + " |" for m in analysis["metrics"])
body = ("`servegate canary analyze " + env + "`: **" + analysis["decision"] + "** ("
        + analysis["reason"] + ")\\n\\ncanary: " + ", ".join(analysis["canaryWorkloads"])
        + "\\nstable: " + ", ".join(analysis["stableWorkloads"])
        + "\\n\\n| metric | phase | canary | stable |\\n|---|---|---|---|\\n" + rows)
pr = call("POST", "/pulls", {"title": title, "head": branch, "base": base, "body": body})
print(pr["html_url"])
"""


@dataclass(frozen=True, slots=True)
class CanarySettings:
    """What a team changes: names, the repo and environment, Prometheus, cadence, image."""

    name: str = "servegate-canary"
    gitops_repo: str = "acme/fraud-gitops"
    base_branch: str = ""
    """Empty: the repo's default branch."""
    env: str = "prod"
    prometheus_url: str = "http://prometheus-operated.monitoring.svc:9090"
    steps: str = "10,25,50"
    schedule: str = "*/10 * * * *"
    image: str = SERVEGATE_IMAGE
    service_account: str = "servegate-canary"
    git_secret: str = "servegate-canary-github"  # noqa: S105 - a Secret's name, not its value


def _snake(name: str) -> str:
    """SDK module name of a class name: TTLStrategy -> ttl_strategy, PodGC -> pod_gc."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def _models(*argo: str, core: tuple[str, ...] = ()) -> Any:
    """SDK model classes by short name, imported lazily (the SDK is large)."""
    import types

    found = {}
    for short in argo:
        module = importlib.import_module(
            "argo_workflows.model.io_argoproj_workflow_v1alpha1_" + _snake(short)
        )
        found[short] = getattr(module, "IoArgoprojWorkflowV1alpha1" + short)
    for short in core:
        module = importlib.import_module("argo_workflows.model." + _snake(short))
        found[short] = getattr(module, short)
    return types.SimpleNamespace(**found)


def build(settings: CanarySettings | None = None) -> list[Any]:
    """[WorkflowTemplate, CronWorkflow] as SDK model objects."""
    s = settings or CanarySettings()
    m = _models(
        "WorkflowTemplate",
        "WorkflowSpec",
        "Template",
        "ScriptTemplate",
        "Arguments",
        "Parameter",
        "CronWorkflow",
        "CronWorkflowSpec",
        "WorkflowTemplateRef",
        "TTLStrategy",
        "PodGC",
        "RetryStrategy",
        "ExecutorConfig",
        core=(
            "ObjectMeta",
            "SecurityContext",
            "PodSecurityContext",
            "SeccompProfile",
            "Capabilities",
            "ResourceRequirements",
            "EnvVar",
            "EnvVarSource",
            "SecretKeySelector",
            "Volume",
            "VolumeMount",
            "EmptyDirVolumeSource",
        ),
    )
    labels = {"app.kubernetes.io/name": s.name, "app.kubernetes.io/part-of": "servegate"}
    wf = "{{workflow.parameters.%s}}"

    def env(name: str, value: str) -> Any:
        return m.EnvVar(name=name, value=value)

    token = m.EnvVar(
        name="GITHUB_TOKEN",
        value_from=m.EnvVarSource(
            secret_key_ref=m.SecretKeySelector(name=s.git_secret, key="token")
        ),
    )
    script = m.Template(
        name="analyze-and-step",
        script=m.ScriptTemplate(
            name="main",
            image=s.image,
            command=["python3"],
            source=SCRIPT,
            env=[
                env("GITOPS_REPO", wf % "gitops-repo"),
                env("BASE_BRANCH", wf % "base-branch"),
                env("ENVIRONMENT", wf % "env"),
                env("PROMETHEUS_URL", wf % "prometheus-url"),
                env("STEPS", wf % "steps"),
                env("WORKFLOW_NAME", "{{workflow.name}}"),
                env("HOME", "/tmp"),  # noqa: S108 - a per-pod emptyDir
                env("XDG_CACHE_HOME", "/tmp/cache"),  # noqa: S108 - a per-pod emptyDir
                token,
            ],
            volume_mounts=[
                m.VolumeMount(name="work", mount_path="/work"),
                m.VolumeMount(name="tmp", mount_path="/tmp"),  # noqa: S108 - emptyDir
            ],
            security_context=m.SecurityContext(
                allow_privilege_escalation=False,
                capabilities=m.Capabilities(drop=["ALL"]),
                read_only_root_filesystem=True,
                run_as_non_root=True,
                run_as_user=RUN_AS,
                run_as_group=RUN_AS,
                seccomp_profile=m.SeccompProfile(type="RuntimeDefault"),
            ),
            resources=m.ResourceRequirements(
                requests={"cpu": "250m", "memory": "512Mi"}, limits={"memory": "512Mi"}
            ),
        ),
        retry_strategy=m.RetryStrategy(limit="2", retry_policy="OnError"),
    )
    parameters = [
        ("gitops-repo", s.gitops_repo),
        ("base-branch", s.base_branch),
        ("env", s.env),
        ("prometheus-url", s.prometheus_url),
        ("steps", s.steps),
    ]
    template = m.WorkflowTemplate(
        api_version="argoproj.io/v1alpha1",
        kind="WorkflowTemplate",
        metadata=m.ObjectMeta(name=s.name, labels=labels),
        spec=m.WorkflowSpec(
            entrypoint="analyze-and-step",
            service_account_name=s.service_account,
            # no token in the script's container; Argo gives the executor (init and wait
            # containers) the token itself (argo-workflows docs/service-accounts.md)
            automount_service_account_token=False,
            executor=m.ExecutorConfig(service_account_name=s.service_account),
            arguments=m.Arguments(parameters=[m.Parameter(name=k, value=v) for k, v in parameters]),
            security_context=m.PodSecurityContext(
                run_as_non_root=True,
                run_as_user=RUN_AS,
                run_as_group=RUN_AS,
                fs_group=RUN_AS,
                seccomp_profile=m.SeccompProfile(type="RuntimeDefault"),
            ),
            volumes=[
                m.Volume(name="work", empty_dir=m.EmptyDirVolumeSource(size_limit="1Gi")),
                m.Volume(name="tmp", empty_dir=m.EmptyDirVolumeSource(size_limit="1Gi")),
            ],
            active_deadline_seconds=15 * 60,
            ttl_strategy=m.TTLStrategy(seconds_after_completion=24 * 3600),
            pod_gc=m.PodGC(strategy="OnPodSuccess"),
            templates=[script],
        ),
    )
    cron = m.CronWorkflow(
        api_version="argoproj.io/v1alpha1",
        kind="CronWorkflow",
        metadata=m.ObjectMeta(name=s.name, labels=labels),
        spec=m.CronWorkflowSpec(
            schedules=[s.schedule],
            concurrency_policy="Forbid",
            starting_deadline_seconds=120,
            successful_jobs_history_limit=3,
            failed_jobs_history_limit=3,
            workflow_spec=m.WorkflowSpec(
                workflow_template_ref=m.WorkflowTemplateRef(name=s.name),
            ),
        ),
    )
    return [template, cron]


def as_dicts(settings: CanarySettings | None = None) -> list[dict[str, Any]]:
    """The objects as plain data, keys in the API's camelCase, apiVersion and kind first."""
    from argo_workflows.api_client import ApiClient

    out = []
    for obj in build(settings):
        data: dict[str, Any] = ApiClient.sanitize_for_serialization(obj)
        out.append({"apiVersion": data.pop("apiVersion"), "kind": data.pop("kind"), **data})
    return out


def render_yaml(settings: CanarySettings | None = None) -> str:
    from servegate.yamlwrite import dump_all

    header = (
        "# Generated by `servegate canary render`; do not edit by hand (a test compares it).\n"
        "# Every 10 minutes: canary analyze against Prometheus, canary step on the decision,\n"
        "# servegate check, and a pull request with the change (none on hold).\n"
        "# Apply with canary-rbac.yaml; the GitHub token is the Secret servegate-canary-github.\n"
    )
    return header + dump_all(as_dicts(settings), readable=True)

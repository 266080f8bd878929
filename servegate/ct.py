"""The continuous-training pipeline: an Argo Workflows ``WorkflowTemplate`` built with its SDK.

fetch data -> train -> evaluate (quality gate) -> push the model -> commit the new
``storageUri`` to a branch of the GitOps repo -> open a pull request. The commit edits the file
that decides the staging environment's ``storageUri``: the staging overlay when it pins one,
else the base it builds on (a repo made by ``servegate new`` keeps it in
``base/inferenceservice.yaml``; environments with a canary pin their own, so production moves
only through its canary). Every pod meets Pod Security "restricted" (non-root, RuntimeDefault
seccomp, no privilege escalation, all capabilities dropped, read-only root filesystem) and every
image is pinned to a version tag.

The workflow ships its identities: the pods' ServiceAccount mounts no token
(``automountServiceAccountToken: false``); the emissary executor runs as its own ServiceAccount
whose Role may only ``create`` and ``patch`` ``workflowtaskresults`` (Argo Workflows'
documented minimum, docs/workflow-rbac.md), with the token Secret Argo mounts into the executor
containers only (``workflow/controller/workflowpod.go``: ``exec-sa-token``;
docs/service-account-secrets.md: ``<name>.service-account-token``). ``servegate ct render``
prints all of it; ``argo/workflows/`` holds the committed copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RUN_AS = 65532  # the conventional "nonroot" uid/gid of distroless images
AWS_CLI_IMAGE = "docker.io/amazon/aws-cli:2.22.35"
PYTHON_IMAGE = "docker.io/library/python:3.12.8-slim"
GIT_IMAGE = "docker.io/alpine/git:v2.47.2"

EVALUATE_SCRIPT = """\
import json, sys
metric, threshold = "{{inputs.parameters.metric}}", float("{{inputs.parameters.threshold}}")
with open("/work/metrics.json", encoding="utf-8") as f:
    score = float(json.load(f)[metric])
with open("/work/score", "w", encoding="utf-8") as f:
    f.write(str(score))
print(f"{metric} = {score} (gate: >= {threshold})")
if score < threshold:
    sys.exit(f"quality gate failed: {metric} {score} < {threshold}; model not pushed")
"""

# POSIX sh, git, find, grep and sed (alpine/git): clone, edit, commit, push. Every input arrives
# in the environment, never spliced into the script, and the URI is checked before sed sees it.
COMMIT_SCRIPT = """\
set -eu
case "$STORAGE_URI" in
  *://*) ;;
  *) echo "ct: storage URI '$STORAGE_URI' has no scheme" >&2; exit 1 ;;
esac
case "$STORAGE_URI" in
  *[!A-Za-z0-9._~/:@%+=-]*) echo "ct: refusing storage URI '$STORAGE_URI'" >&2; exit 1 ;;
esac
export GIT_TERMINAL_PROMPT=0
auth=""
if [ -n "${GIT_TOKEN:-}" ]; then
  basic=$(printf 'x-access-token:%s' "$GIT_TOKEN" | base64 | tr -d '\\n')
  auth="http.extraHeader=Authorization: Basic $basic"
fi
git_() { if [ -n "$auth" ]; then git -c "$auth" "$@"; else git "$@"; fi; }
dest="${WORKDIR:-/work}/gitops"
rm -rf "$dest"
git_ clone --quiet --depth 1 "$REPO_URL" "$dest"
cd "$dest"
git checkout --quiet -b "$BRANCH"
# the folder that decides the environment's storageUri: the overlay if it pins one, else base
files=""
for dir in "$OVERLAY" "$BASE"; do
  [ -d "$dir" ] || continue
  files=$(find "$dir" -type f \\( -name '*.yaml' -o -name '*.yml' \\) \\
    -exec grep -lE '^[[:space:]]*storageUri:' {} + | sort || true)
  [ -n "$files" ] && break
done
[ -n "$files" ] || { echo "ct: no storageUri under $OVERLAY or $BASE" >&2; exit 1; }
for f in $files; do
  sed -i -E "s|^([[:space:]]*storageUri:[[:space:]]*)[^[:space:]]+|\\1$STORAGE_URI|" "$f"
done
if git diff --quiet; then echo "ct: storageUri is already $STORAGE_URI" >&2; exit 1; fi
git -c user.name=servegate-ct -c user.email=servegate-ct@invalid \\
  commit --quiet -a -m "ct: storageUri -> $STORAGE_URI" -m "$(echo $files)"
git_ push --quiet origin "HEAD:refs/heads/$BRANCH"
echo "ct: pushed $BRANCH: storageUri -> $STORAGE_URI in" $files
"""

# Pure standard library against the GitHub REST API: the branch exists, open the pull request.
OPEN_PR_SCRIPT = """\
import json, os, urllib.request
repo, branch = os.environ["GITOPS_REPO"], os.environ["BRANCH"]
api = "https://api.github.com/repos/" + repo

def call(method, path, body=None):
    req = urllib.request.Request(api + path, method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": "Bearer " + os.environ["GIT_TOKEN"],
                 "Accept": "application/vnd.github+json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)

base = call("GET", "")["default_branch"]
pr = call("POST", "/pulls", {"title": "ct: new model " + os.environ["STORAGE_URI"],
          "head": branch, "base": base,
          "body": "Trained and evaluated by " + os.environ["WORKFLOW"] + "; the model is at "
                  + os.environ["STORAGE_URI"] + ". `servegate check --base` gates it."})
print(pr["html_url"])
"""


@dataclass(frozen=True, slots=True)
class CTSettings:
    """What a team changes: names, where data and models live, images, the quality gate."""

    name: str = "servegate-ct"
    model: str = "fraud"
    data_uri: str = "s3://datasets/fraud/latest/"
    model_bucket: str = "s3://models/fraud"
    gitops_repo: str = "acme/fraud-gitops"
    """GitHub ``OWNER/REPO`` of the model's GitOps repo (made by ``servegate new``)."""
    gitops_repo_url: str = ""
    """Its clone URL; default ``https://github.com/<gitops_repo>.git``."""
    staging_overlay: str = "overlays/staging"
    base: str = "base"
    train_image: str = "ghcr.io/acme/fraud-trainer:1.0.0"
    metric: str = "auc"
    threshold: str = "0.90"
    service_account: str = "servegate-ct"
    executor_service_account: str = "servegate-ct-executor"
    s3_secret: str = "servegate-ct-s3"  # noqa: S105 - a Secret's name, not its value
    git_secret: str = "servegate-ct-github"  # noqa: S105 - a Secret's name, not its value


def _models() -> Any:
    """The SDK's model classes, imported lazily (the package is large)."""
    import importlib
    import types

    argo = "io_argoproj_workflow_v1alpha1_"
    # short name -> SDK module; Argo's own classes are IoArgoprojWorkflowV1alpha1<Short>
    names = {
        "WorkflowTemplate": argo + "workflow_template",
        "WorkflowSpec": argo + "workflow_spec",
        "Template": argo + "template",
        "DAGTemplate": argo + "dag_template",
        "DAGTask": argo + "dag_task",
        "ScriptTemplate": argo + "script_template",
        "Arguments": argo + "arguments",
        "Inputs": argo + "inputs",
        "Outputs": argo + "outputs",
        "Parameter": argo + "parameter",
        "ValueFrom": argo + "value_from",
        "RetryStrategy": argo + "retry_strategy",
        "TTLStrategy": argo + "ttl_strategy",
        "PodGC": argo + "pod_gc",
        "ExecutorConfig": argo + "executor_config",
        "ObjectMeta": "object_meta",
        "Container": "container",
        "SecurityContext": "security_context",
        "PodSecurityContext": "pod_security_context",
        "SeccompProfile": "seccomp_profile",
        "Capabilities": "capabilities",
        "ResourceRequirements": "resource_requirements",
        "EnvVar": "env_var",
        "EnvVarSource": "env_var_source",
        "SecretKeySelector": "secret_key_selector",
        "Volume": "volume",
        "VolumeMount": "volume_mount",
        "EmptyDirVolumeSource": "empty_dir_volume_source",
        "PersistentVolumeClaim": "persistent_volume_claim",
        "PersistentVolumeClaimSpec": "persistent_volume_claim_spec",
        "VolumeResourceRequirements": "volume_resource_requirements",
    }
    found = {}
    for short, module in names.items():
        mod = importlib.import_module("argo_workflows.model." + module)
        prefix = "IoArgoprojWorkflowV1alpha1" if module.startswith(argo) else ""
        found[short] = getattr(mod, prefix + short)
    return types.SimpleNamespace(**found)


def build(settings: CTSettings | None = None) -> Any:
    """The WorkflowTemplate as an SDK model object."""
    s = settings or CTSettings()
    m = _models()

    def container_security() -> Any:
        return m.SecurityContext(
            allow_privilege_escalation=False,
            capabilities=m.Capabilities(drop=["ALL"]),
            read_only_root_filesystem=True,
            run_as_non_root=True,
            run_as_user=RUN_AS,
            run_as_group=RUN_AS,
            seccomp_profile=m.SeccompProfile(type="RuntimeDefault"),
        )

    def resources(cpu: str, memory: str) -> Any:
        return m.ResourceRequirements(
            requests={"cpu": cpu, "memory": memory}, limits={"memory": memory}
        )

    def secret_env(name: str, secret: str, key: str) -> Any:
        ref = m.SecretKeySelector(name=secret, key=key)
        return m.EnvVar(name=name, value_from=m.EnvVarSource(secret_key_ref=ref))

    mounts = [
        m.VolumeMount(name="work", mount_path="/work"),
        m.VolumeMount(name="tmp", mount_path="/tmp"),  # noqa: S108 - an emptyDir, per pod
    ]
    aws_env = [
        secret_env("AWS_ACCESS_KEY_ID", s.s3_secret, "AWS_ACCESS_KEY_ID"),
        secret_env("AWS_SECRET_ACCESS_KEY", s.s3_secret, "AWS_SECRET_ACCESS_KEY"),
        m.EnvVar(name="HOME", value="/tmp"),  # noqa: S108 - writable emptyDir
    ]

    def param(name: str, value: str | None = None) -> Any:
        return m.Parameter(name=name, value=value) if value is not None else m.Parameter(name=name)

    def container_template(name: str, image: str, args: list[str], **extra: Any) -> Any:
        return m.Template(
            name=name,
            container=m.Container(
                name="main",
                image=image,
                command=extra.pop("command", None) or ["/bin/sh", "-c"],
                args=args,
                env=extra.pop("env", None) or aws_env,
                volume_mounts=mounts,
                security_context=container_security(),
                resources=resources(extra.pop("cpu", "500m"), extra.pop("memory", "512Mi")),
            ),
            **extra,
        )

    def script_template(name: str, source: str, **extra: Any) -> Any:
        return m.Template(
            name=name,
            script=m.ScriptTemplate(
                name="main",
                image=extra.pop("image", PYTHON_IMAGE),
                command=extra.pop("command", ["python"]),
                source=source,
                env=extra.pop("env", [m.EnvVar(name="HOME", value="/tmp")]),  # noqa: S108
                volume_mounts=mounts,
                security_context=container_security(),
                resources=resources("100m", "128Mi"),
            ),
            **extra,
        )

    wf = "{{workflow.parameters.%s}}"
    templates = [
        m.Template(
            name="ct",
            dag=m.DAGTemplate(
                tasks=[
                    m.DAGTask(name="fetch-data", template="fetch-data"),
                    m.DAGTask(name="train", template="train", depends="fetch-data"),
                    m.DAGTask(
                        name="evaluate",
                        template="evaluate",
                        depends="train",
                        arguments=m.Arguments(
                            parameters=[
                                param("metric", wf % "metric"),
                                param("threshold", wf % "threshold"),
                            ]
                        ),
                    ),
                    m.DAGTask(name="push-model", template="push-model", depends="evaluate"),
                    m.DAGTask(
                        name="commit-storage-uri",
                        template="commit-storage-uri",
                        depends="push-model",
                        arguments=m.Arguments(
                            parameters=[
                                param("repo-url", wf % "gitops-repo-url"),
                                param("overlay", wf % "staging-overlay"),
                                param("base", wf % "base"),
                                param("branch", "ct/{{workflow.name}}"),
                                param(
                                    "storage-uri",
                                    "{{tasks.push-model.outputs.parameters.storage-uri}}",
                                ),
                            ]
                        ),
                    ),
                    m.DAGTask(
                        name="open-pr",
                        template="open-pr",
                        depends="commit-storage-uri",
                        arguments=m.Arguments(
                            parameters=[
                                param("gitops-repo", wf % "gitops-repo"),
                                param("branch", "ct/{{workflow.name}}"),
                                param(
                                    "storage-uri",
                                    "{{tasks.push-model.outputs.parameters.storage-uri}}",
                                ),
                            ]
                        ),
                    ),
                ]
            ),
        ),
        container_template(
            "fetch-data",
            AWS_CLI_IMAGE,
            [f'aws s3 sync --only-show-errors "{wf % "data-uri"}" /work/data/'],
            command=["/bin/sh", "-c"],
            retry_strategy=m.RetryStrategy(limit="2", retry_policy="OnError"),
        ),
        container_template(
            "train",
            s.train_image,
            ["train --data /work/data --model /work/model --metrics /work/metrics.json"],
            env=[m.EnvVar(name="HOME", value="/tmp")],  # noqa: S108 - writable emptyDir
            cpu="2",
            memory="4Gi",
        ),
        script_template(
            "evaluate",
            EVALUATE_SCRIPT,
            inputs=m.Inputs(parameters=[param("metric"), param("threshold")]),
            outputs=m.Outputs(
                parameters=[m.Parameter(name="score", value_from=m.ValueFrom(path="/work/score"))]
            ),
        ),
        container_template(
            "push-model",
            AWS_CLI_IMAGE,
            [
                f'dest="{wf % "model-bucket"}/{{{{workflow.name}}}}" && '
                'aws s3 sync --only-show-errors /work/model/ "$dest/" && '
                'printf %s "$dest" > /work/storage-uri'
            ],
            outputs=m.Outputs(
                parameters=[
                    m.Parameter(
                        name="storage-uri", value_from=m.ValueFrom(path="/work/storage-uri")
                    )
                ]
            ),
        ),
        script_template(
            "commit-storage-uri",
            COMMIT_SCRIPT,
            image=GIT_IMAGE,
            command=["sh"],
            env=[
                m.EnvVar(name="HOME", value="/tmp"),  # noqa: S108 - writable emptyDir
                m.EnvVar(name="WORKDIR", value="/work"),
                m.EnvVar(name="REPO_URL", value="{{inputs.parameters.repo-url}}"),
                m.EnvVar(name="OVERLAY", value="{{inputs.parameters.overlay}}"),
                m.EnvVar(name="BASE", value="{{inputs.parameters.base}}"),
                m.EnvVar(name="BRANCH", value="{{inputs.parameters.branch}}"),
                m.EnvVar(name="STORAGE_URI", value="{{inputs.parameters.storage-uri}}"),
                secret_env("GIT_TOKEN", s.git_secret, "token"),
            ],
            inputs=m.Inputs(
                parameters=[
                    param("repo-url"),
                    param("overlay"),
                    param("base"),
                    param("branch"),
                    param("storage-uri"),
                ]
            ),
        ),
        script_template(
            "open-pr",
            OPEN_PR_SCRIPT,
            env=[
                m.EnvVar(name="HOME", value="/tmp"),  # noqa: S108 - writable emptyDir
                m.EnvVar(name="GITOPS_REPO", value="{{inputs.parameters.gitops-repo}}"),
                m.EnvVar(name="BRANCH", value="{{inputs.parameters.branch}}"),
                m.EnvVar(name="STORAGE_URI", value="{{inputs.parameters.storage-uri}}"),
                m.EnvVar(name="WORKFLOW", value="{{workflow.name}}"),
                secret_env("GIT_TOKEN", s.git_secret, "token"),
            ],
            inputs=m.Inputs(
                parameters=[param("gitops-repo"), param("branch"), param("storage-uri")]
            ),
        ),
    ]
    spec = m.WorkflowSpec(
        entrypoint="ct",
        service_account_name=s.service_account,
        # the steps get no Kubernetes token; only the executor, as its own account
        automount_service_account_token=False,
        executor=m.ExecutorConfig(service_account_name=s.executor_service_account),
        arguments=m.Arguments(
            parameters=[
                param("model", s.model),
                param("data-uri", s.data_uri),
                param("model-bucket", s.model_bucket),
                param("gitops-repo", s.gitops_repo),
                param(
                    "gitops-repo-url",
                    s.gitops_repo_url or f"https://github.com/{s.gitops_repo}.git",
                ),
                param("staging-overlay", s.staging_overlay),
                param("base", s.base),
                param("metric", s.metric),
                param("threshold", s.threshold),
            ]
        ),
        security_context=m.PodSecurityContext(
            run_as_non_root=True,
            run_as_user=RUN_AS,
            run_as_group=RUN_AS,
            fs_group=RUN_AS,
            seccomp_profile=m.SeccompProfile(type="RuntimeDefault"),
        ),
        volumes=[m.Volume(name="tmp", empty_dir=m.EmptyDirVolumeSource())],
        volume_claim_templates=[
            m.PersistentVolumeClaim(
                metadata=m.ObjectMeta(name="work"),
                spec=m.PersistentVolumeClaimSpec(
                    access_modes=["ReadWriteOnce"],
                    resources=m.VolumeResourceRequirements(requests={"storage": "20Gi"}),
                ),
            )
        ],
        active_deadline_seconds=6 * 3600,
        ttl_strategy=m.TTLStrategy(seconds_after_completion=7 * 24 * 3600),
        pod_gc=m.PodGC(strategy="OnPodSuccess"),
        templates=templates,
    )
    return m.WorkflowTemplate(
        api_version="argoproj.io/v1alpha1",
        kind="WorkflowTemplate",
        metadata=m.ObjectMeta(
            name=s.name,
            labels={"app.kubernetes.io/name": s.name, "app.kubernetes.io/part-of": "servegate"},
        ),
        spec=spec,
    )


def as_dict(settings: CTSettings | None = None) -> dict[str, Any]:
    """The WorkflowTemplate as plain data, keys in the API's camelCase."""
    from argo_workflows.api_client import ApiClient

    data: dict[str, Any] = ApiClient.sanitize_for_serialization(build(settings))
    # apiVersion and kind first, as every manifest reads
    head = {"apiVersion": data.pop("apiVersion"), "kind": data.pop("kind")}
    return {**head, **data}


def identities(settings: CTSettings | None = None) -> list[dict[str, Any]]:
    """The workflow's ServiceAccounts, the executor's Role and RoleBinding, and its token Secret.

    Steps run as ``service_account`` with no token; the emissary executor runs as
    ``executor_service_account``, which may only create and patch ``workflowtaskresults``
    (Argo Workflows docs/workflow-rbac.md). Argo mounts the executor's token from the Secret
    ``<account>.service-account-token`` (docs/service-account-secrets.md); Kubernetes fills it.
    """
    s = settings or CTSettings()
    labels = {"app.kubernetes.io/name": s.name, "app.kubernetes.io/part-of": "servegate"}
    executor = s.executor_service_account
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": s.service_account, "labels": labels},
            "automountServiceAccountToken": False,
        },
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": executor, "labels": labels},
            "automountServiceAccountToken": False,
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": f"{executor}.service-account-token",
                "labels": labels,
                "annotations": {"kubernetes.io/service-account.name": executor},
            },
            "type": "kubernetes.io/service-account-token",
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": executor, "labels": labels},
            "rules": [
                {
                    "apiGroups": ["argoproj.io"],
                    "resources": ["workflowtaskresults"],
                    "verbs": ["create", "patch"],
                }
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": executor, "labels": labels},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": executor},
            "subjects": [{"kind": "ServiceAccount", "name": executor}],
        },
    ]


def render_yaml(settings: CTSettings | None = None) -> str:
    from servegate.yamlwrite import dump_all

    header = (
        "# Generated by `servegate ct render`; do not edit by hand (a test compares it).\n"
        "# Continuous training: fetch data, train, evaluate (quality gate), push the model,\n"
        "# commit the new storageUri where the staging environment takes it from (its overlay,\n"
        "# else base/) and open a pull request. With the workflow's ServiceAccounts and the\n"
        "# executor's least-privilege RBAC (workflowtaskresults create/patch).\n"
    )
    return header + dump_all([*identities(settings), as_dict(settings)], readable=True)

"""The Argo CD plugin contract, tested as Argo CD runs it: a subprocess in the app directory,
parameters in the environment, manifests on stdout, findings on stderr, the exit code."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import PRIVILEGED_POD, application, restricted_pod, write_tree

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SERVEGATE = BIN / "servegate"
KUBECTL = BIN / "kubectl"

# Fine at Pod Security baseline, not at restricted (no runAsNonRoot, no seccomp, caps kept).
BASELINE_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: plain
spec:
  containers:
  - name: app
    image: busybox:1.36
"""


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly generated model repo (``servegate new --no-input``), made once per module."""
    path = tmp_path_factory.mktemp("generated") / "repo"
    done = subprocess.run(
        [str(SERVEGATE), "new", str(path), "--no-input"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return path


@pytest.fixture
def repo(generated: Path, tmp_path: Path) -> Path:
    # no .git: the checkout is the app dir less ARGOCD_APP_SOURCE_PATH, as Argo CD sets it
    shutil.copytree(generated, tmp_path / "repo")
    return tmp_path / "repo"


def source_path(app_dir: Path) -> str:
    """ARGOCD_APP_SOURCE_PATH of an app dir in a test repo (the folder named ``repo``)."""
    parts = app_dir.resolve().parts
    if "repo" not in parts:
        return ""
    return "/".join(parts[len(parts) - parts[::-1].index("repo") :])


def allowing(tmp_path: Path) -> str:
    """An operator configuration that lets Applications choose the policy."""
    path = tmp_path / "operator.yaml"
    path.write_text("version: 1\nallowPluginEnv: true\n", encoding="utf-8")
    return str(path)


def generate(app_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "ARGOCD_APP_NAME": "fraud-prod",
        "ARGOCD_APP_NAMESPACE": "ml-prod",
        "ARGOCD_APP_SOURCE_PATH": source_path(app_dir),
        **env,
    }
    return subprocess.run(
        [str(SERVEGATE), "argocd", "generate"],
        cwd=app_dir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=90,  # Argo CD's default exec timeout for the repo server
    )


def kustomize(app_dir: Path) -> list[Any]:
    done = subprocess.run(
        [str(KUBECTL), "kustomize", str(app_dir)], capture_output=True, text=True, check=True
    )
    return list(yaml.safe_load_all(done.stdout))


def add_resource(overlay: Path, name: str, text: str) -> None:
    (overlay / name).write_text(text, encoding="utf-8")
    kfile = overlay / "kustomization.yaml"
    data = yaml.safe_load(kfile.read_text(encoding="utf-8"))
    data["resources"].append(name)
    kfile.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def test_clean_overlay_prints_exactly_what_kustomize_renders(repo: Path) -> None:
    overlay = repo / "overlays/prod"
    done = generate(overlay, ARGOCD_ENV_SERVEGATE_ENV="prod")
    assert done.returncode == 0, done.stderr
    printed = list(yaml.safe_load_all(done.stdout))
    expected = kustomize(overlay)
    assert printed == expected
    assert len(printed) > 1
    assert {o["kind"] for o in printed} >= {"InferenceService", "Namespace"}
    assert "config.kubernetes.io/origin" not in done.stdout


def test_privileged_pod_blocks_the_sync(repo: Path) -> None:
    overlay = repo / "overlays/prod"
    add_resource(overlay, "debug-pod.yaml", PRIVILEGED_POD)
    done = generate(overlay, ARGOCD_ENV_SERVEGATE_ENV="prod")
    assert done.returncode == 1
    assert done.stdout == ""
    assert "pss.privileged" in done.stderr
    assert "Pod ml-sklearn-iris-prod/debug" in done.stderr
    assert "overlays/prod/debug-pod.yaml" in done.stderr
    assert "fraud-prod" in done.stderr


def test_argocd_env_parameters_are_honoured_when_the_operator_allows(
    repo: Path, tmp_path: Path
) -> None:
    overlay = repo / "overlays/dev"
    add_resource(overlay, "plain-pod.yaml", BASELINE_POD)
    operator = allowing(tmp_path)
    strict = generate(
        overlay, ARGOCD_ENV_SERVEGATE_SELECT="pss", SERVEGATE_OPERATOR_CONFIG=operator
    )
    assert strict.returncode == 1, strict.stdout
    assert strict.stdout == ""
    assert "pss.run-as-non-root" in strict.stderr
    # a lower level is honoured, but the Namespace still enforces restricted: its pods are
    # judged there, as admission will (servegate.podsecurity)
    lowered = generate(
        overlay,
        ARGOCD_ENV_SERVEGATE_SELECT="pss",
        ARGOCD_ENV_SERVEGATE_PSS_LEVEL="baseline",
        SERVEGATE_OPERATOR_CONFIG=operator,
    )
    assert lowered.returncode == 1 and "pss.run-as-non-root" in lowered.stderr
    relaxed = generate(
        overlay,
        ARGOCD_ENV_SERVEGATE_SELECT="pss.privileged,pss.host-namespaces",
        SERVEGATE_OPERATOR_CONFIG=operator,
    )
    assert relaxed.returncode == 0, relaxed.stderr
    kinds = sorted(d["kind"] for d in yaml.safe_load_all(relaxed.stdout))
    assert "Pod" in kinds and "InferenceService" in kinds


@pytest.mark.parametrize(
    "variables",
    [
        {"ARGOCD_ENV_SERVEGATE_IGNORE": "pss"},
        {"ARGOCD_ENV_SERVEGATE_SELECT": "kserve.storage-uri"},
        {"ARGOCD_ENV_SERVEGATE_PSS_LEVEL": "baseline"},
        {"ARGOCD_ENV_SERVEGATE_POLICIES": "/tmp"},
        {"ARGOCD_ENV_SERVEGATE_ENV": "dev"},  # prod's canary requirement would go
    ],
)
def test_an_application_cannot_relax_the_gate(repo: Path, variables: dict[str, str]) -> None:
    """Whatever an Application's plugin env says, a privileged pod is never printed."""
    overlay = repo / "overlays/prod"
    add_resource(overlay, "debug-pod.yaml", PRIVILEGED_POD)
    done = generate(overlay, **variables)
    assert done.returncode != 0 and done.stdout == ""
    assert "Traceback" not in done.stderr


def test_a_plugin_env_that_tightens_is_applied(repo: Path) -> None:
    overlay = repo / "overlays/dev"
    add_resource(overlay, "plain-pod.yaml", BASELINE_POD)
    done = generate(
        overlay, ARGOCD_ENV_SERVEGATE_PSS_LEVEL="restricted", ARGOCD_ENV_SERVEGATE_ENV="prod"
    )
    assert done.returncode == 1 and "pss.run-as-non-root" in done.stderr


def test_an_application_cannot_pick_an_older_kubernetes_version(repo: Path, tmp_path: Path) -> None:
    """An older Kubernetes version judges pods at an older Pod Security version, which admits
    more (the probe/lifecycle host check exists from v1.34): the Application's K8S_VERSION
    counts only when it is no older than what the operator (else servegate.yaml) targets."""
    from servegate.schema.validate import newest_version

    newest = ".".join(map(str, newest_version()))
    overlay = repo / "overlays/prod"
    for name in ("K8S_VERSION", "SERVEGATE_K8S_VERSION"):
        older = generate(overlay, **{f"ARGOCD_ENV_{name}": "1.33"})
        assert older.returncode == 2 and older.stdout == ""
        assert f"{name}=1.33 is older than the Kubernetes version the gate targets" in older.stderr
    assert generate(overlay, ARGOCD_ENV_K8S_VERSION=newest).returncode == 0
    pinned = tmp_path / "operator.yaml"
    pinned.write_text('version: 1\nk8sVersion: "1.33"\n', encoding="utf-8")
    same = generate(overlay, ARGOCD_ENV_K8S_VERSION="1.33", SERVEGATE_OPERATOR_CONFIG=str(pinned))
    assert same.returncode == 0, same.stderr
    config = repo / "servegate.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(re.sub(r"(?m)^k8sVersion: .*$", 'k8sVersion: "1.34"', text), "utf-8")
    assert generate(overlay, ARGOCD_ENV_K8S_VERSION="1.34").returncode == 0
    assert generate(overlay, ARGOCD_ENV_K8S_VERSION="1.33").returncode == 2


NESTED_EXEMPTION = (
    "version: 1\nexemptions:\n"
    "  - {rule: pss, resource: {kind: Pod, name: debug}, reason: the folder says so}\n"
)


@pytest.mark.parametrize(
    ("source", "refused"),
    [
        ("overlays/prod", False),
        ("overlays/x/../prod", False),  # Argo CD joins the path cleaned
        ("./overlays/prod/", False),
        ("overlays//prod/.", False),
        ("deploy", False),  # a symlinked folder: the logical path leads there
        ("Overlays/prod", True),  # names another folder: the root cannot be told
    ],
)
def test_the_source_path_finds_the_root_or_is_refused(
    repo: Path, source: str, refused: bool
) -> None:
    """The plugin reads the root servegate.yaml of the checkout, however the Application
    spells its path; a path that does not lead to the app dir is refused, never guessed (the
    app dir's own servegate.yaml would become the root's and its exemptions count)."""
    overlay = repo / "overlays/prod"
    add_resource(overlay, "debug-pod.yaml", PRIVILEGED_POD)
    (overlay / "servegate.yaml").write_text(NESTED_EXEMPTION, encoding="utf-8")
    (repo / "deploy").symlink_to("overlays/prod")
    app_dir = repo / "deploy" if source == "deploy" else overlay
    done = generate(app_dir, ARGOCD_APP_SOURCE_PATH=source, PWD=str(app_dir))
    assert done.stdout == ""
    if refused:
        assert done.returncode == 2 and "cannot tell the repo root" in done.stderr
    else:
        assert done.returncode == 1 and "pss.privileged" in done.stderr
        assert "overlays/prod/servegate.yaml" in done.stderr  # reported as nested


CHILD_PATCH = """\
    kustomize:
      patches:
      - target: {kind: Pod}
        patch: '[{"op": "add", "path": "/spec/hostPID", "value": true}]'
"""


@pytest.mark.parametrize("parent", ["directory", "kustomize", "base"])
def test_an_app_of_apps_is_judged_by_what_its_applications_deploy(
    tmp_path: Path, parent: str
) -> None:
    """A child Application with kustomize settings syncs through Argo CD's built-in kustomize,
    not the plugin: the parent's plugin run judges what it deploys before printing it."""
    repo = tmp_path / "repo"
    tree = {
        "overlays/prod/kustomization.yaml": "resources: [pod.yaml]\n",
        "overlays/prod/pod.yaml": restricted_pod("evil"),
        "apps/child.yaml": application("child", "overlays/prod", CHILD_PATCH),
    }
    if parent == "kustomize":
        tree["apps/kustomization.yaml"] = "resources: [child.yaml]\n"
    child = repo / "apps/child.yaml"
    if parent == "base":  # the Applications come from a base outside the app folder
        tree["shared/child.yaml"] = tree.pop("apps/child.yaml")
        tree["shared/kustomization.yaml"] = "resources: [child.yaml]\n"
        tree["apps/kustomization.yaml"] = "resources: [../shared]\n"
        child = repo / "shared/child.yaml"
    write_tree(repo, tree)
    refused = generate(repo / "apps")
    assert refused.returncode == 1 and refused.stdout == ""
    assert "pss.host-namespaces" in refused.stderr and "Application argocd/child" in refused.stderr
    child.write_text(application("child", "overlays/prod"), "utf-8")
    clean = generate(repo / "apps")
    assert clean.returncode == 0, clean.stderr
    assert [d["kind"] for d in yaml.safe_load_all(clean.stdout)] == ["Application"]


def test_a_broken_operator_configuration_is_a_usage_error(repo: Path, tmp_path: Path) -> None:
    bad = tmp_path / "operator.yaml"
    bad.write_text("version: 1\nallowRepoWeaknening: true\n", encoding="utf-8")
    done = generate(repo / "overlays/prod", SERVEGATE_OPERATOR_CONFIG=str(bad))
    assert done.returncode == 2 and done.stdout == ""
    assert "allowRepoWeaknening" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("variable", "value", "needle"),
    [
        ("ARGOCD_ENV_K8S_VERSION", "banana", "--k8s-version"),
        ("ARGOCD_ENV_SERVEGATE_ENV", "nosuchenv", "nosuchenv"),
        ("ARGOCD_ENV_SERVEGATE_PSS_LEVEL", "lax", "baseline or restricted"),
    ],
)
def test_bad_parameters_are_usage_errors(
    repo: Path, variable: str, value: str, needle: str
) -> None:
    operator = allowing(repo.parent)
    done = generate(repo / "overlays/prod", **{variable: value}, SERVEGATE_OPERATOR_CONFIG=operator)
    assert done.returncode == 2
    assert done.stdout == ""
    assert needle in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_discover_claims_every_app_naming_servegate_yaml_when_there_is_one(
    repo: Path, tmp_path: Path
) -> None:
    found = subprocess.run(
        [str(SERVEGATE), "argocd", "discover"],
        cwd=repo / "overlays/prod",
        env={**os.environ, "ARGOCD_APP_SOURCE_PATH": "overlays/prod"},
        capture_output=True,
        text=True,
    )
    assert found.returncode == 0
    assert Path(found.stdout.strip()) == (repo / "servegate.yaml").resolve()
    other = tmp_path / "other"
    (other / ".git").mkdir(parents=True)
    # no servegate.yaml: still claimed (Argo CD would otherwise build the app unchecked)
    none = subprocess.run(
        [str(SERVEGATE), "argocd", "discover"], cwd=other, capture_output=True, text=True
    )
    assert none.returncode == 0
    assert Path(none.stdout.strip()) == other.resolve()


def test_plugin_config_runs_servegate() -> None:
    plugin = yaml.safe_load((ROOT / "argo/cmp/plugin.yaml").read_text(encoding="utf-8"))
    assert plugin["apiVersion"] == "argoproj.io/v1alpha1"
    assert plugin["kind"] == "ConfigManagementPlugin"
    assert plugin["spec"]["generate"]["command"] == ["servegate", "argocd", "generate"]
    assert plugin["spec"]["discover"]["find"]["command"] == ["servegate", "argocd", "discover"]


REPO_SERVER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: argocd-repo-server
spec:
  selector:
    matchLabels: {app.kubernetes.io/name: argocd-repo-server}
  template:
    metadata:
      labels: {app.kubernetes.io/name: argocd-repo-server}
    spec:
      containers:
      - name: argocd-repo-server
        image: quay.io/argoproj/argocd:v3.1.0
      volumes:
      - name: var-files
        emptyDir: {}
      - name: plugins
        emptyDir: {}
"""


def test_component_adds_a_hardened_sidecar(tmp_path: Path) -> None:
    install = tmp_path / "install"
    shutil.copytree(ROOT / "argo/cmp", tmp_path / "cmp")
    install.mkdir()
    (install / "repo-server.yaml").write_text(REPO_SERVER, encoding="utf-8")
    (install / "kustomization.yaml").write_text(
        "resources: [repo-server.yaml]\ncomponents: [../cmp]\n", encoding="utf-8"
    )
    objects = kustomize(install)
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    config_map = next(o for o in objects if o["kind"] == "ConfigMap")
    pod = deployment["spec"]["template"]["spec"]
    names = [c["name"] for c in pod["containers"]]
    assert sorted(names) == ["argocd-repo-server", "servegate"]
    sidecar = next(c for c in pod["containers"] if c["name"] == "servegate")
    sc = sidecar["securityContext"]
    assert sc["runAsNonRoot"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert not sidecar["image"].endswith(":latest")
    volumes = {v["name"]: v for v in pod["volumes"]}
    # kustomize's hashed ConfigMap name must reach the volume that mounts plugin.yaml
    assert volumes["servegate-cmp-plugin"]["configMap"]["name"] == config_map["metadata"]["name"]
    plugin = yaml.safe_load(config_map["data"]["plugin.yaml"])
    assert plugin["kind"] == "ConfigManagementPlugin"
    mounts = {m["name"] for m in sidecar["volumeMounts"]}
    assert mounts >= {"var-files", "plugins", "servegate-cmp-plugin", "servegate-tmp"}


def test_model_repo_inside_a_monorepo(generated: Path, tmp_path: Path) -> None:
    mono = tmp_path / "mono"
    (mono / ".git").mkdir(parents=True)
    shutil.copytree(generated, mono / "models/fraud")
    overlay = mono / "models/fraud/overlays/prod"
    done = generate(overlay, ARGOCD_APP_SOURCE_PATH="models/fraud/overlays/prod")
    assert done.returncode == 0, done.stderr
    assert list(yaml.safe_load_all(done.stdout)) == kustomize(overlay)


FLAGS = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: flags
  namespace: ml
data:
  ENABLE_DEBUG: "n"
  USE_GPU: "y"
  MODE: "0o10"
  SWITCH: "on"
  RATE: "1e3"
  DAY: "2024-01-01"
  "y": "yes"
"""


@pytest.mark.parametrize("kustomized", [True, False], ids=["kustomize", "directory"])
def test_generate_keeps_every_scalar_typed_as_checked(tmp_path: Path, kustomized: bool) -> None:
    from oracle import kubernetes_decode, same

    app = tmp_path / "repo" / "apps" / "flags"
    app.mkdir(parents=True)
    (tmp_path / "repo" / ".git").mkdir()
    (app / "cm.yaml").write_text(FLAGS + "  PLAIN: n\n" * kustomized, encoding="utf-8")
    if kustomized:
        (app / "kustomization.yaml").write_text("resources: [cm.yaml]\n", encoding="utf-8")
        source = subprocess.run(
            [str(KUBECTL), "kustomize", str(app)], capture_output=True, text=True, check=True
        ).stdout
    else:
        source = FLAGS
    done = generate(app, ARGOCD_APP_SOURCE_PATH="apps/flags")
    assert done.returncode == 0, done.stderr
    # Argo CD decodes stdout with sigs.k8s.io/yaml, as kubectl decodes what kustomize wrote
    # (or, for a directory app, the file itself)
    printed, expected = kubernetes_decode(done.stdout), kubernetes_decode(source)
    assert isinstance(printed, list) and isinstance(expected, list)
    assert same(printed, expected)
    data = printed[0]["data"]
    assert (data["ENABLE_DEBUG"], data["MODE"], data["y"]) == ("n", "0o10", "yes")
    if kustomized:
        assert data["PLAIN"] == "n"  # kustomize reads YAML 1.2 and writes "n" quoted


def test_generate_refuses_a_directory_app_whose_plain_n_is_a_boolean(tmp_path: Path) -> None:
    app = tmp_path / "repo" / "apps" / "flags"
    app.mkdir(parents=True)
    (tmp_path / "repo" / ".git").mkdir()
    (app / "cm.yaml").write_text(FLAGS + "  PLAIN: n\n", encoding="utf-8")
    done = generate(app, ARGOCD_APP_SOURCE_PATH="apps/flags")
    assert (done.returncode, done.stdout) == (1, "")
    assert "cm.yaml:14" in done.stderr and "schema.invalid" in done.stderr

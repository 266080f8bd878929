"""The CT WorkflowTemplate: committed copy is fresh, valid against the upstream CRD (strictly),
hardened in every pod, and accepted by ``servegate check`` at Pod Security restricted."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from helpers import upstream_dir

from servegate.ct import COMMIT_SCRIPT, as_dict, identities, render_yaml

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "argo/workflows/ct-workflowtemplate.yaml"
SERVEGATE = Path(sys.executable).parent / "servegate"


def strict(schema: Any) -> Any:
    """Forbid unknown fields wherever the CRD lists properties and does not preserve unknowns."""
    if isinstance(schema, dict):
        out = {k: strict(v) for k, v in schema.items()}
        if (
            "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    return schema


def crd_schema() -> dict[str, Any]:
    path = upstream_dir() / "crds/argo-workflows/argoproj.io_workflowtemplates.yaml"
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    crd = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1")
    schema: dict[str, Any] = version["schema"]["openAPIV3Schema"]
    return schema


def test_committed_file_is_a_fresh_render(tmp_path: Path) -> None:
    out = tmp_path / "ct.yaml"
    done = subprocess.run(
        [str(SERVEGATE), "ct", "render", "--out", str(out)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8") == COMMITTED.read_text(encoding="utf-8"), (
        "argo/workflows/ct-workflowtemplate.yaml is stale: run "
        "`servegate ct render --out argo/workflows/ct-workflowtemplate.yaml`"
    )
    assert render_yaml() == out.read_text(encoding="utf-8")


def test_validates_strictly_against_the_upstream_crd() -> None:
    schema = strict(crd_schema())
    docs = list(yaml.safe_load_all(COMMITTED.read_text(encoding="utf-8")))
    doc = next(d for d in docs if d["kind"] == "WorkflowTemplate")
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
    assert [f"{list(e.path)}: {e.message}" for e in errors] == []
    # the strict schema does catch a misspelt field (the check above can fail)
    doc["spec"]["templates"][1]["container"]["securityContxt"] = {}
    assert list(jsonschema.Draft7Validator(schema).iter_errors(doc))


def test_pipeline_steps_and_quality_gate() -> None:
    spec = as_dict()["spec"]
    dag = next(t for t in spec["templates"] if t["name"] == spec["entrypoint"])["dag"]
    order = {t["name"]: t.get("depends") for t in dag["tasks"]}
    assert order == {
        "fetch-data": None,
        "train": "fetch-data",
        "evaluate": "train",
        "push-model": "evaluate",
        "commit-storage-uri": "push-model",
        "open-pr": "commit-storage-uri",
    }
    evaluate = next(t for t in spec["templates"] if t["name"] == "evaluate")
    assert "sys.exit" in evaluate["script"]["source"]  # a failing gate stops the DAG
    commit = next(t for t in spec["templates"] if t["name"] == "commit-storage-uri")
    assert commit["script"]["source"] == COMMIT_SCRIPT
    # inputs reach the script through the environment, never spliced into its text
    assert "{{" not in commit["script"]["source"]
    params = {p["name"]: p.get("value") for p in spec["arguments"]["parameters"]}
    assert params["staging-overlay"] == "overlays/staging"
    assert params["base"] == "base"


def test_ships_its_identities_with_least_privilege() -> None:
    spec = as_dict()["spec"]
    assert spec["serviceAccountName"] == "servegate-ct"
    assert spec["automountServiceAccountToken"] is False  # the steps get no token
    assert spec["executor"] == {"serviceAccountName": "servegate-ct-executor"}
    docs = {(d["kind"], d["metadata"]["name"]): d for d in identities()}
    assert docs[("ServiceAccount", "servegate-ct")]["automountServiceAccountToken"] is False
    assert docs[("Role", "servegate-ct-executor")]["rules"] == [
        {
            "apiGroups": ["argoproj.io"],
            "resources": ["workflowtaskresults"],
            "verbs": ["create", "patch"],
        }
    ]
    binding = docs[("RoleBinding", "servegate-ct-executor")]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "servegate-ct-executor"}]
    token = docs[("Secret", "servegate-ct-executor.service-account-token")]
    assert token["type"] == "kubernetes.io/service-account-token"
    assert "data" not in token and "stringData" not in token
    committed = [
        (d["kind"], d["metadata"]["name"])
        for d in yaml.safe_load_all(COMMITTED.read_text(encoding="utf-8"))
    ]
    assert set(docs) <= set(committed)


def test_every_pod_is_hardened_and_every_image_pinned() -> None:
    spec = as_dict()["spec"]
    pod = spec["securityContext"]
    assert pod["runAsNonRoot"] is True
    assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
    containers = [t.get("container") or t.get("script") for t in spec["templates"]]
    containers = [c for c in containers if c]
    assert len(containers) == 6
    for c in containers:
        sc = c["securityContext"]
        assert sc["allowPrivilegeEscalation"] is False
        assert sc["capabilities"] == {"drop": ["ALL"]}
        assert sc["runAsNonRoot"] is True
        assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
        tag = c["image"].rpartition("/")[2].partition(":")[2]
        assert tag and tag != "latest", c["image"]


def test_passes_servegate_check_restricted(tmp_path: Path) -> None:
    pytest.importorskip("servegate.schema.validate", reason="schema module not landed yet")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".git").mkdir()
    (repo / "ct.yaml").write_text(COMMITTED.read_text(encoding="utf-8"), encoding="utf-8")
    crds = upstream_dir() / "crds/argo-workflows"
    done = subprocess.run(
        [
            str(SERVEGATE),
            "check",
            str(repo),
            "--select",
            "pss",
            "--pss-level",
            "restricted",
            "--crds",
            str(crds),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = yaml.safe_load(done.stdout)
    assert report["summary"]["resources"] == 6
    assert report["findings"] == []


def test_render_refuses_unpinned_image() -> None:
    done = subprocess.run(
        [str(SERVEGATE), "ct", "render", "--train-image", "acme/trainer:latest"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert "pin a version" in done.stderr


def _git(cwd: Path, *args: str) -> str:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(cwd),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, env=env, check=True
    )
    return done.stdout


STAGING_PATCH = "overlays/staging/inferenceservice-patch.yaml"


@pytest.mark.parametrize(
    ("options", "pin", "changed"),
    [
        ({}, False, ["base/inferenceservice.yaml"]),
        ({"deployment_mode": "standard", "mesh": "ambient"}, False, ["base/inferenceservice.yaml"]),
        # staging pins its own model: the overlay, not base, decides staging's storageUri
        ({}, True, [STAGING_PATCH]),
    ],
    ids=["knative", "standard", "overlay-pins-model"],
)
def test_commit_step_edits_where_storage_uri_lives(
    tmp_path: Path, options: dict[str, Any], pin: bool, changed: list[str]
) -> None:
    """The step's script, run for real with sh, git, find and sed against a freshly generated
    repo pushed to a temporary git remote: it changes the right file, commits, pushes, exit 0."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    from test_generator import kustomize, make_repo

    repo = make_repo(tmp_path, **options)
    if pin:
        patch = repo / STAGING_PATCH
        patch.write_text(
            patch.read_text().replace(
                "    model:\n", "    model:\n      storageUri: gs://kfserving-examples/old\n", 1
            )
        )
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "initial")
    remote = tmp_path / "remote.git"
    _git(tmp_path, "clone", "-q", "--bare", str(repo), str(remote))
    script = tmp_path / "commit.sh"
    script.write_text(COMMIT_SCRIPT, encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    new_uri = "s3://models/fraud/servegate-ct-x7k2p"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "GIT_CONFIG_NOSYSTEM": "1",
        "WORKDIR": str(work),
        "REPO_URL": remote.as_uri(),
        "OVERLAY": "overlays/staging",
        "BASE": "base",
        "BRANCH": "ct/servegate-ct-x7k2p",
        "STORAGE_URI": new_uri,
    }
    done = subprocess.run(["sh", str(script)], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    files = _git(tmp_path, "--git-dir", str(remote), "diff", "--name-only", "main", env["BRANCH"])
    assert files.split() == changed
    message = _git(tmp_path, "--git-dir", str(remote), "log", "-1", "--format=%s", env["BRANCH"])
    assert message.strip() == f"ct: storageUri -> {new_uri}"
    checkout = tmp_path / "checkout"
    _git(tmp_path, "clone", "-q", "-b", env["BRANCH"], str(remote), str(checkout))
    isvc = next(
        o for o in kustomize(checkout / "overlays/staging") if o["kind"] == "InferenceService"
    )
    assert isvc["spec"]["predictor"]["model"]["storageUri"] == new_uri
    # once merged, the same URI again changes nothing: the step fails rather than open an
    # empty PR (before the merge a second run would race the first's commit timestamp)
    _git(tmp_path, "--git-dir", str(remote), "update-ref", "refs/heads/main", env["BRANCH"])
    again = subprocess.run(
        ["sh", str(script)], capture_output=True, text=True, env={**env, "BRANCH": "ct/again"}
    )
    assert again.returncode != 0 and "already" in again.stderr, again.stderr


@pytest.mark.parametrize("uri", ["s3://models/x; rm -rf /", "s3://models/$(id)", "models/x", ""])
def test_commit_step_refuses_a_hostile_storage_uri(tmp_path: Path, uri: str) -> None:
    script = tmp_path / "commit.sh"
    script.write_text(COMMIT_SCRIPT, encoding="utf-8")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "STORAGE_URI": uri}
    done = subprocess.run(["sh", str(script)], capture_output=True, text=True, env=env)
    assert done.returncode == 1 and "ct:" in done.stderr

"""The CT WorkflowTemplate: committed copy is fresh, valid against the upstream CRD (strictly),
hardened in every pod, and accepted by ``servegate check`` at Pod Security restricted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from helpers import upstream_dir

from servegate.ct import as_dict, render_yaml

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
    doc = yaml.safe_load(COMMITTED.read_text(encoding="utf-8"))
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
        "open-pr": "push-model",
    }
    evaluate = next(t for t in spec["templates"] if t["name"] == "evaluate")
    assert "sys.exit" in evaluate["script"]["source"]  # a failing gate stops the DAG
    open_pr = next(t for t in spec["templates"] if t["name"] == "open-pr")
    assert "storageUri" in open_pr["script"]["source"]
    params = {p["name"]: p.get("value") for p in spec["arguments"]["parameters"]}
    assert params["staging-overlay"] == "overlays/staging"


def test_every_pod_is_hardened_and_every_image_pinned() -> None:
    spec = as_dict()["spec"]
    pod = spec["securityContext"]
    assert pod["runAsNonRoot"] is True
    assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
    containers = [t.get("container") or t.get("script") for t in spec["templates"]]
    containers = [c for c in containers if c]
    assert len(containers) == 5
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
    assert report["summary"]["resources"] == 1
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

"""The canary WorkflowTemplate and CronWorkflow: the committed copy is what the SDK builder
renders, validates strictly against the upstream CRDs, passes `servegate check` with its
ServiceAccount and Role (0 findings, Pod Security restricted), and passes parameters to its
script through the environment only."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml
from helpers import Run, upstream_dir
from test_ct import strict

from servegate.canary_workflow import SCRIPT, CanarySettings, as_dicts, render_yaml

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "argo/workflows/canary-workflow.yaml"
RBAC = ROOT / "argo/workflows/canary-rbac.yaml"
SERVEGATE = Path(sys.executable).parent / "servegate"


def crd_schema(plural: str) -> dict[str, Any]:
    path = upstream_dir() / f"crds/argo-workflows/argoproj.io_{plural}.yaml"
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    crd = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1")
    schema: dict[str, Any] = version["schema"]["openAPIV3Schema"]
    return schema


def test_committed_file_is_what_the_sdk_builder_renders(tmp_path: Path) -> None:
    out = tmp_path / "canary.yaml"
    done = subprocess.run(
        [str(SERVEGATE), "canary", "render", "--out", str(out)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8") == COMMITTED.read_text(encoding="utf-8"), (
        "argo/workflows/canary-workflow.yaml is stale: run "
        "`servegate canary render --out argo/workflows/canary-workflow.yaml`"
    )
    assert render_yaml() == out.read_text(encoding="utf-8")


def test_validates_strictly_against_the_upstream_crds() -> None:
    docs = list(yaml.safe_load_all(COMMITTED.read_text(encoding="utf-8")))
    assert [d["kind"] for d in docs] == ["WorkflowTemplate", "CronWorkflow"]
    validators = {
        plural: jsonschema_rs.Draft7Validator(strict(crd_schema(plural)))
        for plural in ("workflowtemplates", "cronworkflows")
    }
    for doc, plural in zip(docs, validators, strict=True):
        assert [e.message for e in validators[plural].iter_errors(doc)] == []
    docs[0]["spec"]["templates"][0]["script"]["securityContxt"] = {}
    assert list(validators["workflowtemplates"].iter_errors(docs[0]))


def test_runs_analyze_step_check_and_opens_a_pull_request() -> None:
    template, cron = as_dicts(CanarySettings(env="staging", schedule="0 * * * *"))
    assert (
        cron["spec"]["workflowSpec"]["workflowTemplateRef"]["name"] == template["metadata"]["name"]
    )
    assert cron["spec"]["schedules"] == ["0 * * * *"]
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    params = {p["name"]: p["value"] for p in template["spec"]["arguments"]["parameters"]}
    assert params["env"] == "staging"
    script = template["spec"]["templates"][0]["script"]
    source = script["source"]
    compile(source, "canary-script", "exec")  # it is Python
    for step in ('"canary", "analyze"', '"canary", "step"', '"servegate", "check"', '"/pulls"'):
        assert step in source
    assert "{{" not in source  # parameters arrive as environment variables, not as code
    env = {e["name"]: e.get("value") for e in script["env"]}
    assert env["ENVIRONMENT"] == "{{workflow.parameters.env}}"
    assert source == SCRIPT


def test_pod_is_restricted_and_the_token_stays_with_the_executor() -> None:
    spec = as_dicts()[0]["spec"]
    assert spec["automountServiceAccountToken"] is False
    assert spec["executor"]["serviceAccountName"] == spec["serviceAccountName"]
    sc = spec["templates"][0]["script"]["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["readOnlyRootFilesystem"] is True and sc["runAsNonRoot"] is True
    rbac = list(yaml.safe_load_all(RBAC.read_text(encoding="utf-8")))
    role = next(d for d in rbac if d["kind"] == "Role")
    assert role["rules"] == [
        {
            "apiGroups": ["argoproj.io"],
            "resources": ["workflowtaskresults"],
            "verbs": ["create", "patch"],
        }
    ]


def test_passes_servegate_check_with_zero_findings(tmp_path: Path, cli: Callable[..., Run]) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".git").mkdir()
    for path in (COMMITTED, RBAC):
        (repo / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    # the derived CronWorkflow/WorkflowTemplate schemas ship with servegate (schemas/crds)
    run = cli("check", repo, "--pss-level", "restricted", "--format", "json")
    assert run.json()["findings"] == [] and run.code == 0
    assert run.json()["summary"]["resources"] == 5


def test_settings_kubectl_would_retype_stay_strings() -> None:
    """An environment named ``y`` or steps ``0o10`` are strings once kubectl decodes the file
    (go-yaml v2 reads a plain ``y`` as true and ``0o10`` as 8)."""
    from oracle import kubernetes_decode

    text = render_yaml(CanarySettings(env="y", steps="0o10"))
    decoded = kubernetes_decode(text)
    assert isinstance(decoded, list), decoded
    params = {
        p["name"]: p.get("value")
        for doc in decoded
        for p in doc["spec"].get("arguments", {}).get("parameters", [])
    }
    assert params["env"] == "y" and params["steps"] == "0o10", params

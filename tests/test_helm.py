"""servegate.helm: Helm charts rendered with ``helm template`` as Argo CD renders them, or refused.

No ``helm`` binary can be installed here: Debian has no ``helm`` package and no PyPI wheel ships
the ``helm`` binary (``helm-python-sdk`` is a ctypes binding to a third-party C wrapper over the
Helm v4 Go SDK, not the CLI Argo CD runs). So the rendering test with the real helm runs only
where one is on PATH; the "no helm" path is tested for real, and one test uses a stand-in
``helm`` script (a shell script that records its arguments and prints a fixed manifest) to
check what servegate passes to helm and does with its output. It is a stand-in, not helm.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import Run, write_tree

from servegate import helm

CHART = {
    "chart/Chart.yaml": "apiVersion: v2\nname: model\nversion: 0.1.0\n",
    "chart/values.yaml": "hostNetwork: false\n",
    "chart/values-prod.yaml": "hostNetwork: true\n",
    "chart/templates/pod.yaml": (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: {{ .Release.Name }}, namespace: ml}\n"
        "spec:\n  hostNetwork: {{ .Values.hostNetwork }}\n"
        "  containers: [{name: c, image: registry.example.com/i:1.0}]\n"
    ),
}
APP = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: model-prod, namespace: argocd}
spec:
  project: ml
  source:
    repoURL: https://git.example.com/ml/model.git
    path: chart
    helm:
      releaseName: model
      valueFiles: [values-prod.yaml]
      parameters: [{name: image.tag, value: "1,2"}, {name: s, value: "x", forceString: true}]
      valuesObject: {replicas: 2}
  destination: {server: https://kubernetes.default.svc, namespace: ml}
"""


def test_without_helm_a_chart_is_an_error_finding(
    tmp_path: Path, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(helm.HELM_VARIABLE, str(tmp_path / "no-such-helm"))
    write_tree(tmp_path, CHART)
    run = cli("check", tmp_path, "--format", "json")
    assert run.code == 1
    found = [f for f in run.json()["findings"] if f["rule"] == "argocd.source-unchecked"]
    assert [(f["file"], f["line"]) for f in found] == [("chart/Chart.yaml", 1)]
    assert "no helm binary" in found[0]["message"]
    # and the chart's templates are never read as manifests (they are Go templates)
    assert not [f for f in run.json()["findings"] if f["rule"].startswith("yaml.")]


def test_an_application_helm_source_without_helm_names_the_application(
    tmp_path: Path, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(helm.HELM_VARIABLE, str(tmp_path / "no-such-helm"))
    write_tree(tmp_path, {**CHART, "apps/app.yaml": APP})
    run = cli("check", tmp_path, "--format", "json")
    found = [f for f in run.json()["findings"] if f["rule"] == "argocd.source-unchecked"]
    assert [(f["file"], f["resource"]["name"]) for f in found] == [("apps/app.yaml", "model-prod")]


def test_dependencies_must_be_vendored_and_symlinks_stay_in_the_repo(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "c/Chart.yaml": (
                "apiVersion: v2\nname: c\nversion: 1.0.0\ndependencies:\n"
                "- {name: redis, version: 1.0.0, repository: https://charts.example.com}\n"
                "- {name: vendored, version: 1.0.0, repository: oci://registry.example.com}\n"
                "- {name: local, version: 1.0.0, repository: file://../lib}\n"
            ),
            "c/charts/vendored/Chart.yaml": "apiVersion: v2\nname: vendored\nversion: 1.0.0\n",
            "lib/Chart.yaml": "apiVersion: v2\nname: local\nversion: 1.0.0\n",
        },
    )
    outside = tmp_path.parent / f"{tmp_path.name}-secret"
    outside.write_text("x")
    os.symlink(outside, tmp_path / "c/values-secret.yaml")
    problems = helm.problems(tmp_path, "c")
    assert len(problems) == 2
    assert "values-secret.yaml is a symlink that leaves the repo" in problems[0]
    assert "'redis' from https://charts.example.com is not vendored" in problems[1]


def test_argv_is_argo_cds_helm_template(tmp_path: Path) -> None:
    options, entries = helm.options_for(
        {
            "releaseName": "r",
            "parameters": [
                {"name": "a", "value": "1,2"},
                {"name": "b", "value": "x", "forceString": True},
            ],
            "valuesObject": {"k": 1},
            "valueFiles": ["v.yaml"],
            "skipCrds": False,
            "skipTests": True,
            "apiVersions": ["monitoring.coreos.com/v1"],
            "kubeVersion": "1.30",
        },
        "app",
        "ml",
    )
    options.value_files.append("chart/v.yaml")
    assert entries == {"valueFiles[0]": "v.yaml"}
    args = helm.argv("helm", "chart", options, tmp_path, "/tmp/inline.yaml")
    assert args == [
        "helm",
        "template",
        "chart",
        "--name-template",
        "r",
        "--namespace",
        "ml",
        "--kube-version",
        "1.30",
        "--set",
        "a=1\\,2",
        "--set-string",
        "b=x",
        "--values",
        str(tmp_path / "chart/v.yaml"),
        "--values",
        "/tmp/inline.yaml",
        "--api-versions",
        "monitoring.coreos.com/v1",
        "--include-crds",
        "--skip-tests",
    ]
    assert json.loads(options.values or "") == {"k": 1}


def test_objects_are_located_at_their_template() -> None:
    out = (
        "---\n# Source: model/templates/pod.yaml\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\n"
        "---\n# Source: model/charts/sub/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\n"
        "metadata: {name: b}\n"
    )
    found = helm._objects(out, "charts/model")
    assert [(f, b["kind"]) for f, b in found] == [
        ("charts/model/templates/pod.yaml", "Pod"),
        ("charts/model/charts/sub/templates/cm.yaml", "ConfigMap"),
    ]


def test_a_stand_in_helm_gets_the_applications_values_and_its_output_is_checked(
    tmp_path: Path, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stand-in for helm (see the module docstring): what servegate runs, and that what
    helm prints is checked like any rendered object and names the Application."""
    repo = tmp_path / "repo"
    write_tree(repo, {**CHART, "apps/app.yaml": APP})
    record = tmp_path / "argv.json"
    stand_in = tmp_path / "helm"
    stand_in.write_text(
        "#!/usr/bin/env python3\nimport json, os, sys\n"
        f"json.dump({{'argv': sys.argv[1:], 'home': os.environ.get('HOME')}}, open({str(record)!r}, 'w'))\n"
        "print('---\\n# Source: model/templates/pod.yaml\\napiVersion: v1\\nkind: Pod\\n"
        "metadata: {name: model, namespace: ml}\\nspec:\\n  hostNetwork: true\\n"
        "  containers: [{name: c, image: registry.example.com/i:1.0}]')\n"
    )
    stand_in.chmod(stand_in.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv(helm.HELM_VARIABLE, str(stand_in))
    run = cli("check", repo, "--format", "json")
    seen = json.loads(record.read_text())
    args = seen["argv"]
    assert args[0] == "template" and args[1].endswith("/chart/chart")  # a copy, not the repo
    assert not args[1].startswith(str(repo))
    assert args[2:6] == ["--name-template", "model", "--namespace", "ml"]
    assert ["--values", str(repo / "chart/values-prod.yaml")] == args[args.index("--values") :][:2]
    assert "--include-crds" in args and "image.tag=1\\,2" in args
    assert not seen["home"].startswith(str(repo))
    host = [f for f in run.json()["findings"] if f["rule"] == "pss.host-namespaces"]
    assert [(f["file"], f["resource"]["name"]) for f in host] == [
        ("chart/templates/pod.yaml", "model")
    ]
    assert "Application argocd/model-prod" in host[0]["message"]


@pytest.mark.skipif(
    shutil.which("helm") is None,
    reason="no helm binary on PATH (none can be "
    "installed from Debian or PyPI here; see the module docstring)",
)
def test_real_helm_renders_the_applications_values(tmp_path: Path, cli: Callable[..., Run]) -> None:
    write_tree(tmp_path, {**CHART, "apps/app.yaml": APP})
    run = cli("check", tmp_path, "--format", "json")
    host = [f for f in run.json()["findings"] if f["rule"] == "pss.host-namespaces"]
    assert [f["resource"]["name"] for f in host] == ["model"]  # values-prod.yaml's hostNetwork

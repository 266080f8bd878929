"""Batched rendering (servegate.batching) gives each root exactly what rendering it alone gives,
errors included, and the planner keeps apart the roots kustomize could mix up."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from helpers import Tree

from servegate.batching import BATCH_ANNOTATION, plan, split
from servegate.discover import discover
from servegate.origins import strip_build_annotations
from servegate.render import Rendered, render_all, render_batch
from servegate.yamlsafe import load_plain

BASE = {
    "app/base/kustomization.yaml": """
        resources: [deploy.yaml, role.yaml]
        configMapGenerator:
        - name: settings
          literals: [mode=base]
        """,
    "app/base/deploy.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers:
              - name: web
                image: nginx:1.27
                envFrom: [{configMapRef: {name: settings}}]
        """,
    "app/base/role.yaml": """
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata: {name: reader}
        rules: [{apiGroups: [""], resources: [pods], verbs: [get]}]
        """,
}


def overlay(namespace: str | None, prefix: str = "", extra: str = "") -> str:
    lines = ["resources: [../../base]"]
    if namespace:
        lines.append(f"namespace: {namespace}")
    if prefix:
        lines.append(f"namePrefix: {prefix}")
    return "\n".join(lines) + "\n" + extra


REPO: dict[str, str | bytes] = {
    **BASE,
    "app/overlays/dev/kustomization.yaml": overlay("ml-dev", "dev-"),
    "app/overlays/prod/kustomization.yaml": overlay(
        "ml-prod",
        extra="configMapGenerator:\n- name: settings\n  behavior: merge\n  literals: [mode=prod]\n",
    ),
    # another app whose Deployment needs a ConfigMap "settings" it does not generate
    "other/kustomization.yaml": "namespace: ml-other\nresources: [deploy.yaml]\n",
    "other/deploy.yaml": BASE["app/base/deploy.yaml"],
    "other2/kustomization.yaml": "namespace: ml-other2\nresources: [deploy.yaml]\n",
    "other2/deploy.yaml": BASE["app/base/deploy.yaml"],
    "plain/kustomization.yaml": "resources: [cm.yaml]\n",
    "plain/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\n",
    "broken/kustomization.yaml": "namespace: ml-broken\nresources: [missing.yaml]\n",
}


def normalized(result: Rendered, repo: Path) -> tuple[str | None, list[Any]]:
    """(error, objects) with kustomize's origin made repo-relative (wrappers differ)."""
    bodies = result.objects if result.objects is not None else load_plain(result.output or "")
    out = []
    for body in bodies:
        origin = strip_build_annotations(body)
        where = origin and os.path.relpath(os.path.join(result.wrapper, origin), repo)
        out.append((where, body))
    return result.error, out


def both_ways(repo: Path, tmp: Path) -> tuple[list[Rendered], list[Rendered]]:
    found = discover([repo], repo)
    (tmp / "a").mkdir()
    (tmp / "b").mkdir()
    batched = render_all(repo, found.roots, tmp / "a", discovery=found, workers=1)
    alone = render_all(repo, found.roots, tmp / "b", discovery=found, batch=False)
    return batched, alone


def test_batched_equals_alone(tree: Tree, tmp_path_factory: pytest.TempPathFactory) -> None:
    repo = tree(REPO)
    batched, alone = both_ways(repo, tmp_path_factory.mktemp("scratch"))
    assert [r.kdir for r in batched] == [r.kdir for r in alone]
    assert sum("batch-" in r.wrapper for r in batched) >= 2, "some roots really were batched"
    for b, a in zip(batched, alone, strict=True):
        assert normalized(b, repo) == normalized(a, repo), b.kdir
    broken = next(r for r in batched if r.kdir == "broken")
    assert broken.output is None and broken.error and "missing.yaml" in broken.error
    other = next(r for r in batched if r.kdir == "other")
    deploy = next(o for o in other.objects or [] if o["kind"] == "Deployment")
    env = deploy["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    assert env == [{"configMapRef": {"name": "settings"}}], "no hash from another root's map"


def test_plan_keeps_conflicting_roots_apart(tree: Tree) -> None:
    repo = tree(
        {
            **REPO,
            "same-ns/kustomization.yaml": "namespace: ml-dev\nresources: [cm.yaml]\n",
            "same-ns/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
        }
    )
    found = discover([repo], repo)
    batches = plan(found, found.roots, workers=1)
    assert sorted(r for b in batches for r in b) == sorted(found.roots)
    where = {root: i for i, b in enumerate(batches) for root in b}
    assert batches[where["plain"]] == ["plain"], "a root without namespace: renders alone"
    assert where["app/overlays/dev"] != where["app/overlays/prod"], "they share a base"
    assert where["same-ns"] != where["app/overlays/dev"], "same namespace"
    assert where["other"] in (where["app/overlays/dev"], where["app/overlays/prod"])


def test_plan_balances_workers_and_caps_size(tree: Tree) -> None:
    files: dict[str, str | bytes] = {}
    for i in range(60):
        files[f"m{i}/kustomization.yaml"] = f"namespace: ns{i}\nresources: [cm.yaml]\n"
        files[f"m{i}/cm.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
    repo = tree(files)
    found = discover([repo], repo)
    assert [len(b) for b in plan(found, found.roots, workers=2)] == [24, 24, 12]
    assert [len(b) for b in plan(found, found.roots[:10], workers=2)] == [5, 5]


def test_conflicting_batch_falls_back_to_single_roots(tree: Tree, tmp_path: Path) -> None:
    repo = tree(
        {
            "x/kustomization.yaml": "namespace: same\nresources: [cm.yaml]\n",
            "x/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: x}\n",
            "y/kustomization.yaml": "namespace: same\nresources: [cm.yaml]\n",
            "y/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: y}\n",
        }
    )
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    results = render_batch(repo, ["x", "y"], scratch)  # forced together: an id conflict
    assert [r.error for r in results] == [None, None]
    data = [[o["data"] for o in load_plain(r.output or "")] for r in results]
    assert data == [[{"a": "x"}], [{"a": "y"}]]
    assert all("wrap-" in r.wrapper for r in results), "each was rendered alone"


def test_split_refuses_unstamped_output() -> None:
    stamped = f'kind: A\nmetadata:\n  annotations:\n    {BATCH_ANNOTATION}: "0"\n  name: a\n'
    parts = split(stamped, 1)
    assert parts is not None
    assert parts[0][1] == [{"kind": "A", "metadata": {"annotations": {}, "name": "a"}}]
    assert BATCH_ANNOTATION not in parts[0][0]
    assert split("kind: A\nmetadata: {name: a}\n", 1) is None
    assert split(stamped.replace('"0"', '"3"'), 1) is None


def test_timed_out_batch_goes_to_single_roots(
    tree: Tree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import servegate.render

    repo = tree(REPO)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(servegate.render, "RENDER_TIMEOUT_S", 0.001)  # a real timeout
    results = render_batch(repo, ["other", "other2", "app/overlays/dev"], scratch)
    assert [r.error_is_transient for r in results] == [True, True, True]
    assert len(list(scratch.glob("batch-*"))) == 1, "no halving after a timeout"
    assert len(list(scratch.glob("wrap-*"))) == 3

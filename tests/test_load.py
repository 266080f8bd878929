"""Loading the units of a check (servegate/load.py): kustomize starts on the first roots while
the rest of the sources are read, yet a root any of whose inputs has a YAML problem is never
handed to kustomize (its file's yaml.* finding says why), in a batch or alone, and every other
root is rendered and checked as before."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import CLI, PRIVILEGED_POD, Tree

import servegate.render

OVERLAY = "namespace: {ns}\nresources: [pod.yaml]\n"


def test_a_root_with_an_unreadable_input_is_never_rendered(
    tree: Tree, cli: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files: dict[str, str | bytes] = {}
    for name in ("a", "b", "c", "d"):
        files[f"apps/{name}/kustomization.yaml"] = OVERLAY.format(ns=f"ns-{name}")
        files[f"apps/{name}/pod.yaml"] = PRIVILEGED_POD
    files["apps/c/pod.yaml"] = PRIVILEGED_POD + "kind: Pod\n"  # a duplicate key
    repo = tree(files)
    started: list[list[str]] = []
    real = servegate.render.render_batch

    def spy(repo_root: Path, kdirs: Any, *args: Any, **kwargs: Any) -> Any:
        started.append(list(kdirs))
        return real(repo_root, kdirs, *args, **kwargs)

    monkeypatch.setattr(servegate.render, "render_batch", spy)
    monkeypatch.setenv("SERVEGATE_CACHE_DIR", str(tmp_path / "cache"))
    run = cli("check", repo, "--format", "json")
    assert run.code == 1, run.err
    found = run.json()["findings"]
    assert {(f["rule"], f["file"]) for f in found if f["file"].startswith("apps/c/")} == {
        ("yaml.duplicate-key", "apps/c/pod.yaml")
    }, "c is not rendered, so nothing but its YAML problem is reported"
    checked = {f["file"] for f in found if f["rule"] == "pss.privileged"}
    assert checked == {"apps/a/pod.yaml", "apps/b/pod.yaml", "apps/d/pod.yaml"}
    assert started and all("apps/c" not in batch for batch in started)
    assert sorted(k for batch in started for k in batch) == ["apps/a", "apps/b", "apps/d"]

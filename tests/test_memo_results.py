"""Findings in the memo (servegate/memo/results.py): a warm check reuses the findings of
unchanged units without rendering them, and any change to a unit's inputs or plan is seen."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from helpers import Tree

import servegate.render
from servegate.memo import Memo, results
from servegate.model import UnitResult
from servegate.rules.pss.privileged import RULE as PRIVILEGED

POD = """
apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  securityContext: {{runAsNonRoot: true, seccompProfile: {{type: RuntimeDefault}}}}
  containers:
  - name: app
    image: registry.example.com/app@sha256:{digest}
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {{drop: [ALL]}}
      privileged: {privileged}
"""
DIGEST = "a" * 64
FILES: dict[str, str | bytes] = {
    "apps/a/kustomization.yaml": "namespace: team-a\nresources: [pod.yaml]\n",
    "apps/a/pod.yaml": POD.format(name="a", digest=DIGEST, privileged="true"),
    "apps/b/kustomization.yaml": "namespace: team-b\nresources: [pod.yaml]\n",
    "apps/b/pod.yaml": POD.format(name="b", digest=DIGEST, privileged="false").replace(
        "runAsNonRoot: true, ", ""
    ),
    "plain/pod.yaml": POD.format(name="p", digest=DIGEST, privileged="true"),
}


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("SERVEGATE_CACHE_DIR", str(directory))
    return directory


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The roots each check hands to kustomize (a spy on the real renderer, which still runs)."""
    seen: list[str] = []

    class Spy(servegate.render.Rendering):
        def __init__(self, repo_root: Path, kdirs: Any, *args: Any, **kwargs: Any) -> None:
            seen.extend(kdirs)
            super().__init__(repo_root, kdirs, *args, **kwargs)

    monkeypatch.setattr(servegate.render, "Rendering", Spy)
    yield seen


def check(cli: Callable[..., Any], repo: Path, *args: str) -> dict[str, Any]:
    done = cli("check", str(repo), "--format", "json", *args)
    assert done.code in (0, 1), done.err
    report: dict[str, Any] = done.json()
    return report


def where(report: dict[str, Any], rule: str = "pss.privileged") -> list[str]:
    return sorted(f["file"] for f in report["findings"] if f["rule"] == rule)


def test_warm_run_reuses_results_and_renders_nothing(
    tree: Tree, cli: Callable[..., Any], cache_dir: Path, renders: list[str]
) -> None:
    repo = tree(FILES)
    cold = check(cli, repo)
    assert sorted(renders) == ["apps/a", "apps/b"]
    assert where(cold) == ["apps/a/pod.yaml", "plain/pod.yaml"]
    assert [p for p in (cache_dir / "results-v7").rglob("*") if p.is_file()], "units were stored"
    renders.clear()
    warm = check(cli, repo)
    assert renders == [], "nothing rendered or re-checked"
    assert warm == cold
    junit = cli("check", str(repo), "--format", "junit")
    assert junit.code == 1 and renders, "JUnit lists every resource: it does not reuse results"
    renders.clear()
    assert check(cli, repo, "--no-result-cache") == cold and sorted(renders) == ["apps/a", "apps/b"]


def test_changed_inputs_are_checked_again(
    tree: Tree, cli: Callable[..., Any], cache_dir: Path, renders: list[str]
) -> None:
    repo = tree(FILES)
    check(cli, repo)
    renders.clear()
    (repo / "apps/a/pod.yaml").write_text(
        POD.format(name="a", digest=DIGEST, privileged="false"), encoding="utf-8"
    )
    (repo / "plain/pod.yaml").write_text(
        POD.format(name="p", digest=DIGEST, privileged="false"), encoding="utf-8"
    )
    after = check(cli, repo)
    assert renders == ["apps/a"], "only the changed root"
    assert where(after) == []
    # a file kustomize could read although no kustomization lists it
    renders.clear()
    (repo / "apps/b/notes.txt").write_text("x", encoding="utf-8")
    check(cli, repo)
    assert renders == ["apps/b"]


def test_context_changes_are_checked_again(
    tree: Tree, cli: Callable[..., Any], cache_dir: Path, renders: list[str]
) -> None:
    repo = tree(FILES)
    full = check(cli, repo)
    assert where(full)
    # --select: the same units, other rules
    only_images = check(cli, repo, "--select", "image")
    assert where(only_images) == [] and only_images["summary"]["resources"] == 3
    # a policy parameter in servegate.yaml
    (repo / "servegate.yaml").write_text(
        "version: 1\npolicy:\n  allowedRegistries: [other.example.com]\n", encoding="utf-8"
    )
    strict = check(cli, repo)
    assert len(where(strict, "image.registry")) == 3
    # an exemption is applied to reused findings too (it is not part of the key)
    (repo / "servegate.yaml").write_text(
        "version: 1\nexemptions:\n- rule: pss.privileged\n  resource: {kind: Pod, name: a}\n"
        "  reason: test\n  expires: 2999-01-01\n",
        encoding="utf-8",
    )
    renders.clear()
    exempt = check(cli, repo)
    assert where(exempt) == ["plain/pod.yaml"]
    assert renders == []
    assert [f["file"] for f in exempt["suppressed"]] == ["apps/a/pod.yaml"]
    # --pss-level: restricted-only checks come and go with it
    assert where(exempt, "pss.run-as-non-root") == ["apps/b/pod.yaml"]
    assert where(check(cli, repo, "--pss-level", "baseline"), "pss.run-as-non-root") == []
    assert where(check(cli, repo), "pss.run-as-non-root") == ["apps/b/pod.yaml"]


def test_damaged_entries_are_misses(tmp_path: Path) -> None:
    store = results.ResultMemo(Memo(tmp_path))
    key = "cd" * 32
    assert store.get(key) is None
    finding = PRIVILEGED.finding("m", "a.yaml", 3, unit="root:a")
    voidable = replace(finding, suppressed="why", unless="mesh-strict:istio-system")
    unit = UnitResult([voidable], 2, ["a.yaml"], ["mesh-policy:istio-system:STRICT"])
    store.put(key, unit)
    assert store.get(key) == unit
    got = store.get(key)
    assert got is not None and got.findings[0].unless == "mesh-strict:istio-system"
    raw = Memo(tmp_path).store(results.STAGE, results.VERSION)
    assert raw is not None
    raw.put(key, ([["x"]], 1, []))
    assert store.get(key) is None


def test_a_kustomize_timeout_is_not_reused(
    tree: Tree,
    cli: Callable[..., Any],
    cache_dir: Path,
    renders: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo = tree(FILES)
    with monkeypatch.context() as m:
        m.setattr(servegate.render, "RENDER_TIMEOUT_S", 0.001)  # a real timeout of kustomize
        slow = check(cli, repo)
    assert {f["rule"] for f in slow["findings"] if f["file"].startswith("apps/")} == {
        "repo.kustomize-error"
    }, slow["findings"]
    renders.clear()
    again = check(cli, repo)
    assert sorted(renders) == ["apps/a", "apps/b"], "the timed-out roots are rendered again"
    assert where(again) == ["apps/a/pod.yaml", "plain/pod.yaml"]

"""The paths each kustomization names, in the memo (servegate/memo/paths.py): a pre-commit run
reads only the kustomizations that changed, and agrees with discovering the whole repo."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_tree

from bench.synth import scaffold_template, synth
from servegate import scope
from servegate.discover import discover, discover_changed
from servegate.memo import Memo
from servegate.memo.paths import path_entries


def test_shortcut_with_the_path_entry_memo(tmp_path: Path) -> None:
    """Remembered by content digest: a second run agrees with full discovery, and an edited
    kustomization is read afresh."""
    synth(tmp_path / "repo", 6, template=scaffold_template(tmp_path / "tpl"))
    repo = tmp_path / "repo"
    memo = Memo(tmp_path / "cache")
    changed = {"models/model-0001/overlays/prod/extra.yaml"}
    for _ in range(2):  # a file no kustomization names, in an overlay's folder
        fast = discover_changed(repo, changed, memo)
        assert fast is not None and fast.roots == ["models/model-0001/overlays/prod"]
    assert list((tmp_path / "cache").glob("paths-v3/*/*")), "the memo was written"
    overlay = repo / "models/model-0001/overlays/prod"
    (overlay / "extra.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: e}\n")
    kfile = overlay / "kustomization.yaml"
    kfile.write_text(kfile.read_text().replace("resources:\n", "resources:\n  - extra.yaml\n"))
    fast = discover_changed(repo, changed, memo)
    full = scope.narrow(discover([repo]), changed)
    assert fast is not None and full.roots == ["models/model-0001/overlays/prod"]
    assert scope.narrow(fast, changed).roots == full.roots


def test_only_changed_kustomizations_are_read(tmp_path: Path) -> None:
    repo = write_tree(
        tmp_path / "repo",
        {
            "a/kustomization.yaml": "resources: [x.yaml]\n",
            "b/kustomization.yaml": "resources: []\n",
        },
    )
    kfiles = {"a": "a/kustomization.yaml", "b": "b/kustomization.yaml"}
    memo = Memo(tmp_path / "cache")
    read: list[str] = []

    def reader(kdir: str, kfile: str, raw: bytes) -> set[str]:
        read.append(kdir)
        return {f"{kdir}/x.yaml"} if b"x.yaml" in raw else set()

    assert path_entries(memo, repo, kfiles, reader) == {"a": {"a/x.yaml"}, "b": set()}
    assert sorted(read) == ["a", "b"]
    read.clear()
    assert path_entries(Memo(tmp_path / "cache"), repo, kfiles, reader)["a"] == {"a/x.yaml"}
    assert read == [], "unchanged: nothing read"
    (repo / "b/kustomization.yaml").write_text("resources: [x.yaml]\n", encoding="utf-8")
    assert path_entries(Memo(tmp_path / "cache"), repo, kfiles, reader)["b"] == {"b/x.yaml"}
    assert read == ["b"]


@pytest.mark.parametrize("memo_on", [False, True])
def test_the_memo_off_reads_everything_and_writes_nothing(tmp_path: Path, memo_on: bool) -> None:
    repo = write_tree(tmp_path / "repo", {"a/kustomization.yaml": "resources: [x.yaml]\n"})
    memo = Memo(tmp_path / "cache") if memo_on else Memo.off()
    found = path_entries(memo, repo, {"a": "a/kustomization.yaml"}, lambda d, f, r: {d})
    assert found == {"a": {"a"}}
    assert (tmp_path / "cache").exists() is memo_on

"""servegate.argocd_directory: the files an Argo CD directory source applies, by Argo CD's rules
(argoproj/argo-cd reposerver/repository/repository.go findManifests; docs/user-guide/directory.md)."""

from __future__ import annotations

import os
from pathlib import Path

from servegate.argocd_directory import select

MANIFEST = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"


def _tree(root: Path, files: list[str]) -> None:
    for rel in files:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(MANIFEST)


def test_top_folder_only_without_recurse_dot_files_and_json_included(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        [
            "app/a.yaml",
            "app/b.yml",
            "app/c.json",
            "app/.hidden.yaml",
            "app/README.md",
            "app/sub/d.yaml",
            "app/.dir/e.yaml",
            "app/f.yaml.sealed",
        ],
    )
    found = select(tmp_path, "app", {})
    assert found.files == ["app/.hidden.yaml", "app/a.yaml", "app/b.yml", "app/c.json"]


def test_recurse_enters_every_folder_dot_folders_too(tmp_path: Path) -> None:
    _tree(tmp_path, ["app/a.yaml", "app/sub/d.yaml", "app/.dir/e.yaml", "app/x/.y/z.yml"])
    found = select(tmp_path, "app", {"recurse": True})
    assert sorted(found.files) == [
        "app/.dir/e.yaml",
        "app/a.yaml",
        "app/sub/d.yaml",
        "app/x/.y/z.yml",
    ]


def test_include_and_exclude_are_gobwas_globs_that_cross_slashes(tmp_path: Path) -> None:
    _tree(tmp_path, ["app/a.yaml", "app/b.json", "app/env-use2/c.yaml", "app/env-usw2/d.yaml"])
    # docs/user-guide/directory.md: exclude applied first, then include; {a,b} alternatives
    found = select(
        tmp_path, "app", {"recurse": True, "include": "*.yaml", "exclude": "{b.json,env-usw2/*}"}
    )
    assert sorted(found.files) == ["app/a.yaml", "app/env-use2/c.yaml"]  # '*' crosses '/'


def test_a_pattern_that_does_not_compile_matches_nothing(tmp_path: Path) -> None:
    _tree(tmp_path, ["app/a.yaml"])
    assert select(tmp_path, "app", {"include": "[a"}).files == []  # include: nothing included
    assert select(tmp_path, "app", {"exclude": "[a"}).files == ["app/a.yaml"]  # excludes nothing


def test_disable_extension_filter_leaves_it_to_the_patterns(tmp_path: Path) -> None:
    _tree(tmp_path, ["app/a.yaml.sealed", "app/b.yaml", "app/notes.txt"])
    found = select(tmp_path, "app", {"disableExtensionFilter": True, "include": "*.sealed"})
    assert found.files == ["app/a.yaml.sealed"]
    assert sorted(select(tmp_path, "app", {"disableExtensionFilter": True}).files) == [
        "app/a.yaml.sealed",
        "app/b.yaml",
        "app/notes.txt",
    ]


def test_skip_marker_jsonnet_and_symlinks(tmp_path: Path) -> None:
    _tree(tmp_path, ["app/a.yaml", "other/b.yaml"])
    (tmp_path / "app/skipped.yaml").write_text("# +argocd:skip-file-rendering\n" + MANIFEST)
    (tmp_path / "app/gen.jsonnet").write_text("{}")
    os.symlink(tmp_path / "other/b.yaml", tmp_path / "app/linked.yaml")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.yaml"
    outside.write_text(MANIFEST)
    os.symlink(outside, tmp_path / "app/escape.yaml")
    os.symlink(tmp_path / "missing.yaml", tmp_path / "app/dangling.yaml")
    found = select(tmp_path, "app", {})
    assert found.files == ["app/a.yaml", "app/linked.yaml"]
    assert found.jsonnet == ["app/gen.jsonnet"]
    assert [p for p, _ in found.problems] == ["app/escape.yaml"]  # Argo CD refuses the source


def test_the_repo_root_as_the_source(tmp_path: Path) -> None:
    _tree(tmp_path, ["a.yaml", "sub/b.yaml"])
    assert select(tmp_path, ".", {}).files == ["a.yaml"]

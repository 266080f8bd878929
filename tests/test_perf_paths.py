"""The fast paths of a warm check give what the plain ones gave: environment lookup by folder,
the persistent stat index of input digests, and string-based discovery."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from conftest import write_tree

from servegate.config import Config


def _environment_by_scan(environments: dict[str, str], rel: str) -> str | None:
    """The former O(entries) lookup: exact, else the longest folder above, "" matches all."""
    rel = rel.strip("/")
    best: tuple[int, str] | None = None
    for key, env in environments.items():
        if (rel == key or rel.startswith(key + "/") or not key) and (
            best is None or len(key) > best[0]
        ):
            best = (len(key), env)
    return best[1] if best else None


def test_environment_for_exact_longest_and_empty_key() -> None:
    config = Config(
        environments={
            "overlays": "dev",
            "overlays/prod": "prod",
            "overlays/prod/eu": "prod-eu",
            "argocd/applications/prod.yaml": "staging",
        }
    )
    assert config.environment_for("overlays/prod") == "prod"  # exact
    assert config.environment_for("/overlays/prod/") == "prod"  # slashes stripped
    assert config.environment_for("overlays/prod/eu/x.yaml") == "prod-eu"  # longest above
    assert config.environment_for("overlays/prod/us") == "prod"
    assert config.environment_for("overlays/production") == "dev"  # a folder, not a prefix
    assert config.environment_for("argocd/applications/prod.yaml") == "staging"
    assert config.environment_for("argocd/applications/dev.yaml") is None
    assert config.environment_for("elsewhere") is None
    config.environments[""] = "default"
    assert config.environment_for("elsewhere/deep/file.yaml") == "default"
    assert config.environment_for("") == "default"
    assert config.environment_for("overlays/prod/us") == "prod"  # a longer key still wins


def test_environment_for_agrees_with_a_scan_of_every_entry() -> None:
    rng = random.Random(7)
    parts = ["a", "b", "ab", "a.b", "", "c"]
    for _ in range(300):
        keys = {
            "/".join(rng.choice(parts) for _ in range(rng.randint(0, 3))): f"e{i}"
            for i in range(rng.randint(0, 6))
        }
        config = Config(environments=keys)
        for _ in range(20):
            rel = "/".join(rng.choice(parts) for _ in range(rng.randint(0, 4)))
            assert config.environment_for(rel) == _environment_by_scan(keys, rel), (keys, rel)


# --- discovery on strings ---------------------------------------------------------------------


def _tricky_repo(root: Path) -> Path:
    """Entries pathlib normalises ("./", "//", a trailing "/"), symlinks in and out of the
    repo, a symlink loop, "..", absolute and remote references."""
    write_tree(
        root,
        {
            "base/kustomization.yaml": (
                "resources:\n- ./cm.yaml\n- sub//deep.yaml\n- sub/\n"
                "patches:\n- path: ./p.yaml\n- p.yaml/\n"
            ),
            "base/cm.yaml": "kind: ConfigMap\nmetadata: {name: cm}\n",
            "base/p.yaml": "kind: ConfigMap\nmetadata: {name: cm}\ndata: {a: b}\n",
            "base/sub/deep.yaml": "kind: Secret\nmetadata: {name: s}\n",
            "base/sub/kustomization.yaml": "resources: [deep.yaml]\n",
            "over/kustomization.yaml": (
                "resources:\n- ../base\n- ../link/cm.yaml\n- linkdir/../base/cm.yaml\n"
                "- ../../outside\n- /etc/passwd\n- ''\n- .\n- ./../base/\n"
                "- https://github.com/x/y\ngenerators: [../gen.yaml]\n"
                "configMapGenerator:\n- name: c\n  files: [k=../base/cm.yaml, missing.txt]\n"
            ),
            "over2/kustomization.yaml": (
                "resources:\n- ../plain/loop1.yaml/..\n- ../link/../base/cm.yaml\n"
            ),
            "gen.yaml": "apiVersion: builtin\nkind: X\n",
            "plain/a.yaml": "kind: ConfigMap\nmetadata: {name: plain}\n",
        },
    )
    os.symlink("base", root / "link")
    os.symlink("../base", root / "over/linkdir")
    os.symlink("/etc", root / "plain/etc")
    os.symlink("/etc/hostname", root / "plain/host.yaml")
    os.symlink("loop2", root / "plain/loop1.yaml")
    os.symlink("loop1.yaml", root / "plain/loop2")
    return root


@pytest.mark.parametrize("memo_on", [False, True])
def test_discovery_of_tricky_paths(tmp_path: Path, memo_on: bool) -> None:
    from servegate.discover import discover
    from servegate.memo import Memo

    root = _tricky_repo(tmp_path / "repo").resolve()
    d = discover([root], root, Memo(tmp_path / "cache") if memo_on else Memo.off())
    assert d.roots == ["over", "over2"]  # "over" lists itself: a cycle, and a root of its own
    assert d.plain_files == ["plain/a.yaml", "plain/loop1.yaml"]
    assert [(f.rule, f.file, f.line) for f in d.findings] == [
        ("repo.symlink-escape", "plain/etc", 1),
        ("repo.symlink-escape", "plain/host.yaml", 1),
        ("repo.kustomize-escape", "over/kustomization.yaml", 5),
        ("repo.kustomize-escape", "over/kustomization.yaml", 6),
        ("repo.remote-base", "over/kustomization.yaml", 10),
        ("repo.kustomize-error", "over/kustomization.yaml", 7),  # '' is the folder itself
    ]
    base, over, over2 = (
        d.kustomizations["base"],
        d.kustomizations["over"],
        d.kustomizations["over2"],
    )
    assert (base.dirs, base.files) == (
        ["base/sub"],
        ["base/cm.yaml", "base/sub/deep.yaml", "base/p.yaml", "base/p.yaml"],
    )
    assert [(p.file, p.kind, p.name) for p in base.patches] == [
        ("base/p.yaml", "ConfigMap", "cm")
    ] * 2
    assert over.blocked and over.dirs == ["base", "over", "over", "base"]
    assert over.files == [
        "link/cm.yaml",
        "base/cm.yaml",  # the symlink's target is read too
        "over/base/cm.yaml",  # relpath is lexical: "linkdir/.." is not followed
        "base/cm.yaml",  # ... but kustomize resolves it, so the real file is an input
        "gen.yaml",
    ]
    assert over.data_files == ["base/cm.yaml", "over/missing.txt"]  # generator files
    assert (over2.dirs, over2.files) == ([], ["plain", "base/cm.yaml"])


def test_memoized_realpath_equals_os_realpath(tmp_path: Path) -> None:
    from servegate.discover import _Paths, join

    root = _tricky_repo(tmp_path / "repo").resolve()
    scan = _Paths(root)
    names = ["base", "sub", "link", "over", "linkdir", "plain", "etc", "loop1.yaml", "..", ".", "x"]
    rng = random.Random(3)
    probes = [str(root), "/", "//x/../..", f"{root}/plain/loop2/x/..", f"{root}//base/./sub/"]
    for _ in range(2000):
        tail = "/".join(rng.choice(names) for _ in range(rng.randint(1, 5)))
        probes.append(f"{root}/{tail}")
    for path in probes:
        assert scan.real(path) == os.path.realpath(path), path
    fresh = _Paths(root)  # entries of kustomization folders, resolved on from the folder
    for _ in range(2000):
        directory = f"{root}/" + "/".join(rng.choice(names) for _ in range(rng.randint(0, 3)))
        entry = "/".join(rng.choice([*names, "", "/etc"]) for _ in range(rng.randint(1, 4)))
        path = join(directory.rstrip("/"), entry)
        assert fresh.real_entry(directory.rstrip("/"), entry, path) == os.path.realpath(path)


def test_walk_lists_what_os_walk_lists_and_names_the_symlinks(tmp_path: Path) -> None:
    from servegate.discover import _walk

    root = _tricky_repo(tmp_path / "repo")
    (root / "base/.hidden").mkdir()
    (root / "base/.hidden/x.yaml").write_text("a: 1\n")
    ours = []
    for here, dirs, files, links in _walk(str(root)):
        ours.append((here, sorted(dirs), sorted(files)))
        assert links == {n for n in dirs + files if os.path.islink(os.path.join(here, n))}
        dirs[:] = [d for d in dirs if not d.startswith(".")]  # pruned as discovery does
    theirs = []
    for here, dirs, files in os.walk(root):
        theirs.append((here, sorted(dirs), sorted(files)))
        dirs[:] = [d for d in dirs if not d.startswith(".")]
    assert ours == theirs
    assert any(here.endswith("/plain") and "etc" in dirs for here, dirs, _ in ours)
    assert not any(".hidden" in here for here, _, _ in ours)


def test_origin_file_by_string_equals_relpath() -> None:
    from servegate.origins import _relative

    rng = random.Random(5)
    parts = ["r", "repo", "a", "..", "b.yaml", "repo2"]
    roots = [Path("/r/repo"), Path("/"), Path("/r/repo/a"), Path("rel/repo")]
    for _ in range(2000):
        absolute = os.path.normpath("/" + "/".join(rng.choice(parts) for _ in range(5)))
        for root in roots:
            expected = Path(os.path.relpath(absolute, root)).as_posix()
            assert _relative(absolute, root) == expected, (absolute, root)

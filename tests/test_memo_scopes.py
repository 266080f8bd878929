"""A whole repo's discovery remembered by its tree (servegate/memo/scopes.py): a check of an
unchanged repo gets exactly what discovering it gives, any change to the tree is a miss, and
a discovery that depends on anything outside the tree is never remembered."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import application, write_tree

from servegate import scope
from servegate.discover import Discovery
from servegate.memo import Memo, digests, scopes
from servegate.options import CheckOptions
from servegate.render import render_keys

KUSTOMIZATION = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ml}\nspec:\n  containers: []\n"


@pytest.fixture(autouse=True)
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written by a test are seconds old: trust their stat as if written long ago."""
    monkeypatch.setattr(digests, "RACY_NS", -3600 * 10**9)
    monkeypatch.setattr(scopes, "_RACY_NS", -3600 * 10**9)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = write_tree(
        tmp_path / "repo",
        {
            ".git/config": '[remote "origin"]\n\turl = https://git.example.com/ml/model.git\n',
            "base/kustomization.yaml": KUSTOMIZATION + "resources: [pod.yaml]\n",
            "base/pod.yaml": POD,
            "base/extra.txt": "x\n",
            "overlays/dev/kustomization.yaml": KUSTOMIZATION
            + "resources: [../../base]\npatches:\n- path: patch.yaml\n"
            + "configMapGenerator:\n- name: c\n  files: [../../base/extra.txt]\n",
            "overlays/dev/patch.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n",
            "overlays/prod/kustomization.yaml": KUSTOMIZATION + "resources: [../../base]\n",
            "plain/pod.yaml": POD,
            "argocd/apps.yaml": application("dev", "overlays/dev")
            + "---\n"
            + application("base", "base", "    kustomize: {namePrefix: x-}\n"),
            "README.md": "hello\n",
        },
    )
    (root / "plain/linked.yaml").symlink_to("pod.yaml")
    return root


def _scope(repo: Path, memo: Memo, **options: object) -> Discovery:
    return scope.discover_scope(CheckOptions(paths=(repo,), **options), memo)  # type: ignore[arg-type]


def _fresh(repo: Path) -> Discovery:
    return _scope(repo, Memo.off())


def _no_discovery(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("discovered again")

    monkeypatch.setattr(scope, "discover", refuse)


def test_an_unchanged_repo_gets_the_discovery_it_had(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    first = _scope(repo, Memo(cache))
    assert first.deployed is not None and first.deployed.actions, "an Application's settings"
    assert first.roots and first.plain_files and first.kustomizations
    assert list((cache / "scopes-v2").rglob("*")), "remembered"
    with monkeypatch.context() as patched:
        _no_discovery(patched)
        second = _scope(repo, Memo(cache))
    assert second == first == _fresh(repo)
    # documents keep their lines, read back from the memo
    k = second.kustomizations["overlays/dev"]
    assert k.document is not None and k.document.line_of(("patches", 0, "path")) == 5
    assert k.patches and k.patches[0].document.data["metadata"]["name"] == "p"


def _edit(path: str, text: str) -> Callable[[Path], None]:
    def change(repo: Path) -> None:
        target = repo / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    return change


def _relink(repo: Path) -> None:
    link = repo / "plain/linked.yaml"
    link.unlink()
    link.symlink_to("../base/pod.yaml")  # an existing file: only the link changes


CHANGES: dict[str, Callable[[Path], None]] = {
    "kustomization edited": _edit(
        "overlays/prod/kustomization.yaml", KUSTOMIZATION + "resources: [../../base, x.yaml]\n"
    ),
    "patch edited": _edit(
        "overlays/dev/patch.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: q}\n"
    ),
    "manifest added": _edit("plain/more.yaml", POD.replace("name: p", "name: q")),
    "kustomization added": _edit("overlays/qa/kustomization.yaml", KUSTOMIZATION),
    "Application edited": _edit("argocd/apps.yaml", application("prod", "overlays/prod")),
    "dot-file manifest added": _edit("plain/.hidden.json", '{"apiVersion": "v1", "kind": "X"}'),
    "chart added": _edit("charts/c/Chart.yaml", "name: c\nversion: 0.1.0\n"),
    "data file edited": _edit("base/extra.txt", "y\n"),
    "README edited": _edit("README.md", "bye\n"),
    "remote changed": _edit(".git/config", '[remote "o"]\n\turl = https://other.example/x.git\n'),
    "folder removed": lambda repo: shutil.rmtree(repo / "overlays/prod"),
    "folder added": lambda repo: (repo / "plain/sub").mkdir(),
    "file removed": lambda repo: (repo / "plain/pod.yaml").unlink(),
    "symlink retargeted": _relink,
}


#: Changes discovery does not see (what they change is rendered or loaded later): still misses.
SAME_DISCOVERY = ("folder added", "data file edited", "README edited", "symlink retargeted")


@pytest.mark.parametrize("change", list(CHANGES))
def test_any_change_to_the_tree_is_a_miss(
    repo: Path, tmp_path: Path, change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    memo = Memo(cache)
    before = _scope(repo, memo)
    key = scopes.scope_key(memo, repo.resolve(), ["."], True)
    CHANGES[change](repo)
    memo = Memo(cache)
    assert scopes.scope_key(memo, repo.resolve(), ["."], True) != key
    after = _scope(repo, memo)
    assert after == _fresh(repo)
    if change not in SAME_DISCOVERY:
        assert after != before, "the change is visible to discovery"


def test_the_operator_s_paths_and_options_are_in_the_key(repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    whole = _scope(repo, Memo(cache))
    one = _scope(repo / "overlays", Memo(cache), root=repo)
    assert one.plain_files != whole.plain_files
    assert one == _scope(repo / "overlays", Memo.off(), root=repo)
    without = _scope(repo, Memo(cache), applications=False)
    assert without == _scope(repo, Memo.off(), applications=False)
    assert without.deployed != whole.deployed


def _entries(cache: Path) -> list[Path]:
    return [p for p in (cache / "scopes-v2").rglob("*") if p.is_file()]


@pytest.mark.parametrize(
    "outside",
    [
        "symlinked folder",
        "symlinked file",
        "symlinked data file",
        "symlink in a dot-folder",
        "escaping reference",
        "remote base",
        "fifo",
    ],
)
def test_a_discovery_that_depends_on_the_outside_is_never_remembered(
    repo: Path, tmp_path: Path, outside: str
) -> None:
    elsewhere = write_tree(tmp_path / "elsewhere", {"x/pod.yaml": POD})
    if outside == "symlinked folder":
        (repo / "plain/x").symlink_to(elsewhere / "x")
    elif outside == "symlinked file":
        (repo / "plain/x.yaml").symlink_to(elsewhere / "x/pod.yaml")
    elif outside == "symlinked data file":
        (repo / "base/extra.txt").unlink()
        (repo / "base/extra.txt").symlink_to(elsewhere / "x/pod.yaml")
    elif outside == "symlink in a dot-folder":
        (repo / ".github").mkdir()
        (repo / ".github/x").symlink_to(elsewhere / "x")
    elif outside == "escaping reference":
        (repo / "overlays/prod/kustomization.yaml").write_text(
            KUSTOMIZATION + "resources: [../../../elsewhere/x]\n"
        )
    elif outside == "remote base":
        (repo / "overlays/prod/kustomization.yaml").write_text(
            KUSTOMIZATION + "resources: [github.com/org/repo//base?ref=v1]\n"
        )
    else:
        os.mkfifo(repo / "plain/pipe.yaml.txt")
    cache = tmp_path / "cache"
    found = _scope(repo, Memo(cache))
    if outside not in ("fifo", "symlinked data file", "symlink in a dot-folder"):
        assert found.findings, "the discovery reports what leaves the repo"
    assert found == _fresh(repo)
    assert _entries(cache) == []


def test_a_damaged_entry_is_a_miss(repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = _scope(repo, Memo(cache))
    for entry in _entries(cache):
        entry.write_bytes(entry.read_bytes()[:-40])
    assert _scope(repo, Memo(cache)) == first


def test_render_keys_are_reused_only_for_the_same_tree(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"

    def keys(memo: Memo) -> dict[str, str]:
        found = _scope(repo, memo)
        return render_keys(found, found.roots, memo)

    computed = keys(Memo(cache))
    assert computed == keys(Memo(tmp_path / "other-cache"))
    from servegate.memo import digests as digest_module

    with monkeypatch.context() as patched:
        patched.setattr(digest_module.InputHasher, "tree", lambda *_: pytest.fail("hashed"))
        assert keys(Memo(cache)) == computed  # from the memo: no tree hashed
    (repo / "base/extra.txt").write_text("changed\n")
    changed = keys(Memo(cache))
    assert changed == keys(Memo(tmp_path / "third-cache"))
    assert changed["overlays/dev"] != computed["overlays/dev"]


@pytest.mark.parametrize("folder", [".svn", ".hg", "vendor/.git"])
def test_a_nested_vcs_folder_that_kustomize_reads_is_in_the_key(
    tmp_path: Path, folder: str
) -> None:
    """Only the repo's own .git is left out of the walk: kustomize reads a ``.svn``/``.hg``
    folder (or a vendored repo's ``.git``) a kustomization names like any other."""
    repo = write_tree(
        tmp_path / "repo",
        {
            "kustomization.yaml": KUSTOMIZATION + f"resources: [{folder}/base]\n",
            f"{folder}/base/kustomization.yaml": KUSTOMIZATION + "resources: [pod.yaml]\n",
            f"{folder}/base/pod.yaml": POD,
        },
    )
    cache = tmp_path / "cache"

    def keys() -> tuple[str | None, dict[str, str]]:
        memo = Memo(cache)
        found = _scope(repo, memo)
        return scopes.scope_key(memo, repo.resolve(), ["."], True), render_keys(
            found, found.roots, memo
        )

    before = keys()
    (repo / f"{folder}/base/pod.yaml").write_text(POD.replace("name: p", "name: q"))
    after = keys()
    assert after[0] != before[0]
    assert after[1]["."] != before[1]["."]
    assert after[1] == render_keys(_fresh(repo), ["."], Memo(tmp_path / "fresh"))


def test_a_discovery_that_reads_the_repo_s_git_folder_is_never_remembered(
    tmp_path: Path,
) -> None:
    repo = write_tree(
        tmp_path / "repo",
        {
            ".git/config": "[core]\n",
            ".git/pod.yaml": POD,
            "kustomization.yaml": KUSTOMIZATION + "resources: [.git/pod.yaml]\n",
        },
    )
    cache = tmp_path / "cache"
    assert _scope(repo, Memo(cache)) == _fresh(repo)
    assert _entries(cache) == []


def test_a_tree_edited_while_it_is_discovered_is_not_remembered(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The entry would hold what discovery read after the edit under the key of the tree
    before it: a later revert of the edit would bring that discovery back."""
    cache = tmp_path / "cache"
    from servegate.discover import discover as real

    target = repo / "overlays/prod/kustomization.yaml"
    original = target.read_text()

    def editing(*args: object, **kwargs: object) -> Discovery:
        found = real(*args, **kwargs)  # type: ignore[arg-type]
        target.write_text(original + "namePrefix: edited-\n")
        return found

    monkeypatch.setattr(scope, "discover", editing)
    memo = Memo(cache)
    _scope(repo, memo)
    assert _entries(cache) == []
    assert str(repo.resolve()) not in memo.trees, "no render keys remembered for it either"

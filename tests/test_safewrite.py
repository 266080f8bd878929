"""Commands that edit a repo never write outside it: ``promote``, ``add env`` and
``new --force`` refuse a symlink that leaves the repo (``new --force``: any symlinked folder),
leave every outside file byte-for-byte unchanged, write nothing on a refusal, and replace files
atomically. The kind behind case 9-write-through-symlink, for every file these commands write."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import Run
from test_generator import make_repo

from servegate import safewrite


def snapshot(root: Path) -> dict[str, bytes]:
    """Every regular file under ``root`` (not following symlinks), by relative path."""
    found: dict[str, bytes] = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = Path(dirpath) / name
            if not path.is_symlink():
                found[path.relative_to(root).as_posix()] = path.read_bytes()
    return found


def outside_link(repo: Path, rel: str, outside: Path) -> Path:
    """Replace repo/rel by a symlink to a copy of it outside the repo; return the copy."""
    src = repo / rel
    copy = outside / rel.replace("/", "_")
    copy.write_bytes(src.read_bytes())
    src.unlink()
    src.symlink_to(copy)
    return copy


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    path = tmp_path / "outside"
    path.mkdir()
    return path


@pytest.mark.parametrize(
    ("rel", "args"),
    [
        ("overlays/prod/inferenceservice-patch.yaml", ("promote", "prod", "--canary", "50")),
        ("overlays/prod/inferenceservice-patch.yaml", ("promote", "prod", "--full")),
        ("servegate.yaml", ("add", "env", "perf", "--profile", "staging")),
        (".servegate-answers.json", ("add", "env", "perf", "--profile", "staging")),
    ],
)
def test_file_symlinked_outside_is_refused(
    tmp_path: Path, outside: Path, cli: Callable[..., Run], rel: str, args: tuple[str, ...]
) -> None:
    repo = make_repo(tmp_path)
    copy = outside_link(repo, rel, outside)
    before_outside = snapshot(outside)
    before_repo = snapshot(repo)
    run = cli(*args, "--repo", repo)
    assert run.code == 2, run.err
    assert "outside the repo" in run.err and "Traceback" not in run.err
    assert len(run.err.strip().splitlines()) == 1
    assert snapshot(outside) == before_outside
    assert snapshot(repo) == before_repo  # nothing half-written either
    assert (repo / rel).is_symlink() and copy.is_file()


@pytest.mark.parametrize("folder", ["argocd/applications", "overlays"])
def test_add_env_refuses_a_folder_symlinked_outside(
    tmp_path: Path, outside: Path, cli: Callable[..., Run], folder: str
) -> None:
    repo = make_repo(tmp_path, envs=("dev",))
    target = outside / "folder"
    (repo / folder).rename(target)
    (repo / folder).symlink_to(target)
    before = snapshot(outside)
    run = cli("add", "env", "perf", "--profile", "staging", "--repo", repo)
    assert run.code == 2, run.err
    assert snapshot(outside) == before
    assert "perf" not in (repo / "servegate.yaml").read_text()


def test_promote_refuses_an_overlay_symlinked_outside(
    tmp_path: Path, outside: Path, cli: Callable[..., Run]
) -> None:
    repo = make_repo(tmp_path)
    (repo / "overlays/prod").rename(outside / "prod")
    (repo / "overlays/prod").symlink_to(outside / "prod")
    before = snapshot(outside)
    run = cli("promote", "prod", "--canary", "50", "--repo", repo)
    assert run.code == 2 and "outside the repo" in run.err
    assert snapshot(outside) == before


def test_promote_writes_through_a_symlink_that_stays_inside(
    tmp_path: Path, cli: Callable[..., Run]
) -> None:
    """A link inside the repo is the repo's own layout: the file it names is edited, the link
    stays a link."""
    repo = make_repo(tmp_path)
    patch = repo / "overlays/prod/inferenceservice-patch.yaml"
    shared = repo / "overlays/prod-patch.yaml"
    patch.rename(shared)
    patch.symlink_to(Path("..") / "prod-patch.yaml")
    run = cli("promote", "prod", "--canary", "50", "--repo", repo)
    assert run.code == 0, run.err
    assert patch.is_symlink()
    assert "canaryTrafficPercent: 50" in shared.read_text()


def test_new_force_refuses_any_symlinked_folder(tmp_path: Path, cli: Callable[..., Run]) -> None:
    target = tmp_path / "repo"
    (target / "elsewhere").mkdir(parents=True)
    (target / "base").symlink_to("elsewhere")  # inside, yet refused: any symlinked folder
    run = cli("new", target, "--no-input", "--force")
    assert run.code == 2 and "symlink" in run.err, run.err
    assert sorted(p.name for p in target.iterdir()) == ["base", "elsewhere"]
    assert list((target / "elsewhere").iterdir()) == []


def test_new_force_refuses_a_file_symlink(
    tmp_path: Path, outside: Path, cli: Callable[..., Run]
) -> None:
    target = tmp_path / "repo"
    target.mkdir()
    kubeconfig = outside / "config"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    (target / "README.md").symlink_to(kubeconfig)
    run = cli("new", target, "--no-input", "--force")
    assert run.code == 2 and "symlink" in run.err
    assert kubeconfig.read_text() == "apiVersion: v1\nkind: Config\n"
    assert [p.name for p in target.iterdir()] == ["README.md"]


def test_atomic_write_keeps_mode_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b.yaml"
    path.parent.mkdir()
    path.write_text("old\n")
    path.chmod(0o600)
    target = safewrite.landing(tmp_path, Path("a/b.yaml"))
    safewrite.write_text(target, "new\n")
    assert path.read_text() == "new\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["b.yaml"]


def test_a_folder_swapped_for_a_symlink_after_the_check_is_not_followed(
    tmp_path: Path, outside: Path
) -> None:
    """Between deciding where a write lands and writing it, a folder on the way becomes a
    symlink: the walk with O_NOFOLLOW refuses it instead of writing outside."""
    repo = tmp_path / "repo"
    (repo / "overlays").mkdir(parents=True)
    target = safewrite.landing(repo, Path("overlays/x.yaml"))
    (repo / "overlays").rmdir()
    (repo / "overlays").symlink_to(outside)
    with pytest.raises(safewrite.UnsafeWrite, match="symlink"):
        safewrite.write_text(target, "x: 1\n")
    assert list(outside.iterdir()) == []


def test_landing_refuses_paths_outside_the_root(tmp_path: Path) -> None:
    with pytest.raises(safewrite.UnsafeWrite):
        safewrite.landing(tmp_path / "repo", Path("../escape.yaml"))
    with pytest.raises(safewrite.UnsafeWrite):
        safewrite.landing(tmp_path / "repo", Path("."))


PATCH = "overlays/prod/inferenceservice-patch.yaml"
#: What each command rewrites or creates (case 9-write-through-symlink found them the same way).
COMMANDS: dict[str, tuple[str, ...]] = {
    "promote-canary": ("promote", "prod", "--canary", "50"),
    "promote-full": ("promote", "prod", "--full"),
    "promote-rollback": ("promote", "prod", "--rollback"),
    "canary-step": ("canary", "step", "prod", "--decision", "rollback"),
    "add-env": ("add", "env", "perf", "--profile", "staging"),
    "new-force": ("new", ".", "--no-input", "--force", "--model-name", "fraud"),
}


def _file_to_outside(repo: Path, outside: Path, rel: str) -> None:
    outside_link(repo, rel, outside)


def _file_relative(repo: Path, outside: Path, rel: str) -> None:
    copy = outside_link(repo, rel, outside)
    (repo / rel).unlink()
    (repo / rel).symlink_to(os.path.relpath(copy, (repo / rel).parent))


def _dangling(repo: Path, outside: Path, rel: str) -> None:
    (repo / rel).unlink()
    (repo / rel).symlink_to(outside / "not-there.yaml")


def _loop(repo: Path, outside: Path, rel: str) -> None:
    (repo / rel).unlink()
    (repo / rel).symlink_to(Path(rel).name)


def _folder_to_outside(repo: Path, outside: Path, rel: str) -> None:
    folder = repo / Path(rel).parent
    folder.rename(outside / "folder")
    folder.symlink_to(outside / "folder")


def _folder_to_parent(repo: Path, outside: Path, rel: str) -> None:
    """The folder becomes a link to the folder above the repo (a write would land beside it)."""
    folder = repo / Path(rel).parent
    folder.rename(outside / "folder")
    folder.symlink_to(os.path.relpath(repo.parent, folder.parent))


SHAPES: dict[str, Callable[[Path, Path, str], None]] = {
    "file": _file_to_outside,
    "file-relative": _file_relative,
    "dangling": _dangling,
    "loop": _loop,
    "folder": _folder_to_outside,
    "folder-to-parent": _folder_to_parent,
}
#: (command, the file whose link the shape makes): every file each command writes.
TARGETS = [
    *((c, PATCH) for c in ("promote-canary", "promote-full", "promote-rollback", "canary-step")),
    ("add-env", "servegate.yaml"),
    ("add-env", ".servegate-answers.json"),
    ("add-env", "argocd/applications/prod.yaml"),
    ("new-force", PATCH),
    ("new-force", "servegate.yaml"),
    ("new-force", "base/inferenceservice.yaml"),
]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_repo(tmp_path_factory.mktemp("generated"))


@pytest.mark.parametrize(
    ("command", "rel", "shape"),
    [
        (command, rel, shape)
        for command, rel in TARGETS
        for shape in SHAPES
        if "/" in rel or not shape.startswith("folder")  # a top-level file's folder: the repo
    ],
)
def test_no_symlink_shape_makes_a_command_write_outside(
    tmp_path: Path,
    generated: Path,
    cli: Callable[..., Run],
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    rel: str,
    shape: str,
) -> None:
    """Each command that writes, against each way a file or folder of the repo can lead out
    of it: nothing outside the repo changes, nothing is created beside it, and a refusal is
    one line (exit 2) that leaves the repo as it was."""
    import shutil

    repo = tmp_path / "work" / "repo"
    shutil.copytree(generated, repo, symlinks=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    SHAPES[shape](repo, outside, rel)
    before_outside, before_repo = snapshot(outside), snapshot(repo)
    beside = sorted(p.name for p in repo.parent.iterdir())
    monkeypatch.chdir(repo)
    run = cli(*COMMANDS[command], *(() if command == "new-force" else ("--repo", ".")))
    assert "Traceback" not in run.err
    assert snapshot(outside) == before_outside
    assert sorted(p.name for p in repo.parent.iterdir()) == beside
    if run.code != 0:
        assert run.code == 2, run.err
        assert len([line for line in run.err.splitlines() if "error" in line]) == 1, run.err
        assert snapshot(repo) == before_repo

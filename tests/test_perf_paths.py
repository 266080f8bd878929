"""The fast paths of a warm check give what the plain ones gave: environment lookup by folder,
the persistent stat index of input digests, and string-based discovery."""

from __future__ import annotations

import hashlib
import os
import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import write_tree

from servegate import cache
from servegate.cache import InputHasher, render_key
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


# --- the stat index of render inputs ----------------------------------------------------------


@pytest.fixture
def indexed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[str]]:
    """The stat index on, in a fresh cache folder; returns a log of the files actually read."""
    monkeypatch.setenv("SERVEGATE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(cache, "_stat_index", True)
    reads: list[str] = []
    real_hash = cache._hash_file

    def logged(path: str) -> bytes:
        reads.append(os.path.basename(path))
        return real_hash(path)

    monkeypatch.setattr(cache, "_hash_file", logged)
    return lambda: reads


def _digest(root: Path, rel: str) -> bytes:
    hasher = InputHasher(root)
    found = hasher.file(rel)
    hasher.save()
    return found


def test_index_is_written_and_trusted_for_old_unchanged_files(
    tmp_path: Path, indexed: Callable[[], list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "a.yaml").write_bytes(b"a: 1\n")
    monkeypatch.setattr(cache, "RACY_NS", -3600 * 10**9)  # as if hashed an hour after the write
    assert _digest(repo, "a.yaml") == hashlib.sha256(b"a: 1\n").digest()
    assert list((tmp_path / "cache" / cache.HASH_FORMAT).iterdir())  # the index file
    assert indexed() == ["a.yaml"]
    assert _digest(repo, "a.yaml") == hashlib.sha256(b"a: 1\n").digest()
    assert indexed() == ["a.yaml"]  # the second run did not read it


def test_recent_files_are_rehashed_even_with_size_and_mtime_restored(
    tmp_path: Path, indexed: Callable[[], list[str]]
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    path = repo / "a.yaml"
    path.write_bytes(b"a: 1\n")
    before = os.stat(path)
    assert _digest(repo, "a.yaml") == hashlib.sha256(b"a: 1\n").digest()
    path.write_bytes(b"a: 2\n")  # same size, within the same second
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(path).st_mtime_ns == before.st_mtime_ns
    assert _digest(repo, "a.yaml") == hashlib.sha256(b"a: 2\n").digest()
    assert indexed() == ["a.yaml", "a.yaml"]


def test_ctime_catches_a_restored_mtime_on_an_old_entry(
    tmp_path: Path, indexed: Callable[[], list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    path = repo / "a.yaml"
    path.write_bytes(b"a: 1\n")
    before = os.stat(path)
    monkeypatch.setattr(cache, "RACY_NS", -3600 * 10**9)  # no racy rule: only the stat decides
    assert _digest(repo, "a.yaml") == hashlib.sha256(b"a: 1\n").digest()
    time.sleep(0.05)  # past the file system's timestamp tick
    path.write_bytes(b"a: 2\n")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    if os.stat(path).st_ctime_ns == before.st_ctime_ns:
        pytest.skip("this file system's ctime did not move in 50 ms")
    assert _digest(repo, "a.yaml") == hashlib.sha256(b"a: 2\n").digest()


def test_changed_and_deleted_files_are_not_trusted(
    tmp_path: Path, indexed: Callable[[], list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    (repo / "d").mkdir(parents=True)
    (repo / "d/a.yaml").write_bytes(b"a: 1\n")
    (repo / "d/b.yaml").write_bytes(b"b: 1\n")
    monkeypatch.setattr(cache, "RACY_NS", -3600 * 10**9)
    first = InputHasher(repo)
    tree = first.tree("d")
    first.save()
    assert [rel for rel, _ in tree] == ["d/a.yaml", "d/b.yaml"]
    (repo / "d/a.yaml").write_bytes(b"a: 10\n")
    (repo / "d/b.yaml").unlink()
    second = InputHasher(repo)
    assert second.tree("d") == [("d/a.yaml", hashlib.sha256(b"a: 10\n").digest())]
    assert second.file("d/b.yaml") == b"missing"
    assert second.file("d") == b"dir"
    second.save()
    (repo / "d/b.yaml").write_bytes(b"b: 1\n")  # back, same bytes: hashed again, same digest
    assert InputHasher(repo).file("d/b.yaml") == hashlib.sha256(b"b: 1\n").digest()


def test_no_cache_means_no_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from servegate.sources import use_parse_cache

    monkeypatch.setenv("SERVEGATE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(cache, "_stat_index", cache._stat_index)  # restored afterwards
    (tmp_path / "a.yaml").write_bytes(b"a: 1\n")
    use_parse_cache(False)
    try:
        _digest(tmp_path, "a.yaml")
        assert not (tmp_path / "cache").exists()
        use_parse_cache(True)
        _digest(tmp_path, "a.yaml")
        assert (tmp_path / "cache" / cache.HASH_FORMAT).is_dir()
    finally:
        use_parse_cache(False)


def test_render_keys_with_and_without_the_index_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = write_tree(
        tmp_path / "repo",
        {
            "base/kustomization.yaml": "resources: [cm.yaml]\n",
            "base/cm.yaml": "kind: ConfigMap\n",
            "base/.hidden/x.txt": "x",
            "over/kustomization.yaml": "resources: [../base]\n",
        },
    )
    monkeypatch.setenv("SERVEGATE_CACHE_DIR", str(tmp_path / "cache"))
    files, dirs = ["over/kustomization.yaml"], ["over", "base"]
    plain = render_key(InputHasher(repo), files, dirs, ["v"])
    monkeypatch.setattr(cache, "_stat_index", True)
    assert render_key(InputHasher(repo), files, dirs, ["v"]) == plain  # writes the index
    assert render_key(InputHasher(repo), files, dirs, ["v"]) == plain  # reads it
    assert InputHasher(repo).tree("base") == [  # walk order; ".hidden" takes the relpath way
        ("base/cm.yaml", hashlib.sha256(b"kind: ConfigMap\n").digest()),
        ("base/kustomization.yaml", hashlib.sha256(b"resources: [cm.yaml]\n").digest()),
        ("base/.hidden/x.txt", hashlib.sha256(b"x").digest()),
    ]


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


@pytest.mark.parametrize("parse_cache", [False, True])
def test_discovery_of_tricky_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parse_cache: bool
) -> None:
    from servegate.discover import discover
    from servegate.sources import use_parse_cache

    monkeypatch.setenv("SERVEGATE_CACHE_DIR", str(tmp_path / "cache"))
    root = _tricky_repo(tmp_path / "repo").resolve()
    use_parse_cache(parse_cache)
    try:
        d = discover([root], root)
    finally:
        use_parse_cache(False)
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


# --- parse results read back once, positions decoded on use -----------------------------------

SAMPLE = b"kind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n---\na: [1, 2]\n"


def test_cached_documents_equal_fresh_ones_and_decode_positions_on_use(tmp_path: Path) -> None:
    from servegate.cache import ParseCache
    from servegate.yamlsafe import Document, load_bytes

    fresh = load_bytes(SAMPLE)
    ParseCache(tmp_path).load(SAMPLE)  # writes the entry
    cached = ParseCache(tmp_path).load(SAMPLE)  # a new run reads it back
    assert cached.documents == fresh.documents
    first = cached.documents[0]
    assert first.line_of(("spec", "containers", 0, "name")) == 6
    assert first.line_of(("spec", "containers", 0, "image")) == 6  # deepest existing node
    assert first.positions == fresh.documents[0].positions
    assert repr(first) == repr(fresh.documents[0])
    damaged = Document({"a": 1}, 3, packed=b"\xff not marshal")
    assert damaged.line_of(("a",)) == 3 and damaged.positions == {}


def test_a_file_loaded_twice_under_one_name_is_unpacked_once(tmp_path: Path) -> None:
    from servegate.cache import ParseCache

    ParseCache(tmp_path).load(SAMPLE)
    parse_cache = ParseCache(tmp_path)
    first = parse_cache.load(SAMPLE, "a.yaml")
    assert parse_cache.load(SAMPLE, "a.yaml") is first  # discovery, then the source files
    assert parse_cache.load(SAMPLE, "b.yaml") is not first  # another file: its own objects
    changed = parse_cache.load(SAMPLE.replace(b"name: p", b"name: q"), "a.yaml")
    assert changed.documents[0].data["metadata"]["name"] == "q"


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

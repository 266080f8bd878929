"""File digests and their stat index (servegate/memo/digests.py): a file is read again unless
its stat is the one recorded when it was hashed, well after its last change."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import write_tree

from servegate.memo import Memo, digests
from servegate.memo.digests import InputHasher


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[str]]:
    """A log of the files actually read."""
    seen: list[str] = []
    real_hash = digests._hash_file

    def logged(path: str) -> bytes:
        seen.append(os.path.basename(path))
        return real_hash(path)

    monkeypatch.setattr(digests, "_hash_file", logged)
    return lambda: seen


def _hasher(memo: Memo, root: Path) -> InputHasher:
    """A new run's hasher (``Memo.hasher`` keeps one per run)."""
    return InputHasher(root, memo.store(digests.STAGE, digests.VERSION))


def _digest(memo: Memo, root: Path, rel: str) -> bytes:
    hasher = _hasher(memo, root)
    found = hasher.file(rel)
    hasher.save()
    return found


def test_index_is_written_and_trusted_for_old_unchanged_files(
    tmp_path: Path, reads: Callable[[], list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    memo = Memo(tmp_path / "cache")
    repo = write_tree(tmp_path / "repo", {"a.yaml": "a: 1\n"})
    monkeypatch.setattr(digests, "RACY_NS", -3600 * 10**9)  # as if hashed an hour after the write
    assert _digest(memo, repo, "a.yaml") == hashlib.sha256(b"a: 1\n").digest()
    assert list((tmp_path / "cache" / "digests-v2").rglob("*")), "the index entry"
    assert reads() == ["a.yaml"]
    assert _digest(memo, repo, "a.yaml") == hashlib.sha256(b"a: 1\n").digest()
    assert reads() == ["a.yaml"]  # the second run did not read it


def test_recent_files_are_rehashed_even_with_size_and_mtime_restored(
    tmp_path: Path, reads: Callable[[], list[str]]
) -> None:
    memo = Memo(tmp_path / "cache")
    repo = write_tree(tmp_path / "repo", {"a.yaml": "a: 1\n"})
    path = repo / "a.yaml"
    before = os.stat(path)
    assert _digest(memo, repo, "a.yaml") == hashlib.sha256(b"a: 1\n").digest()
    path.write_bytes(b"a: 2\n")  # same size, within the same second
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert _digest(memo, repo, "a.yaml") == hashlib.sha256(b"a: 2\n").digest()
    assert reads() == ["a.yaml", "a.yaml"]


def test_ctime_catches_a_restored_mtime_on_an_old_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    memo = Memo(tmp_path / "cache")
    repo = write_tree(tmp_path / "repo", {"a.yaml": "a: 1\n"})
    path = repo / "a.yaml"
    before = os.stat(path)
    monkeypatch.setattr(digests, "RACY_NS", -3600 * 10**9)  # no racy rule: only the stat decides
    assert _digest(memo, repo, "a.yaml") == hashlib.sha256(b"a: 1\n").digest()
    time.sleep(0.05)  # past the file system's timestamp tick
    path.write_bytes(b"a: 2\n")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    if os.stat(path).st_ctime_ns == before.st_ctime_ns:
        pytest.skip("this file system's ctime did not move in 50 ms")
    assert _digest(memo, repo, "a.yaml") == hashlib.sha256(b"a: 2\n").digest()


def test_changed_and_deleted_files_are_not_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    memo = Memo(tmp_path / "cache")
    repo = write_tree(tmp_path / "repo", {"d/a.yaml": "a: 1\n", "d/b.yaml": "b: 1\n"})
    monkeypatch.setattr(digests, "RACY_NS", -3600 * 10**9)
    first = _hasher(memo, repo)
    assert [rel for rel, _ in first.tree("d")] == ["d/a.yaml", "d/b.yaml"]
    first.save()
    (repo / "d/a.yaml").write_bytes(b"a: 10\n")
    (repo / "d/b.yaml").unlink()
    second = _hasher(memo, repo)
    assert second.tree("d") == [("d/a.yaml", hashlib.sha256(b"a: 10\n").digest())]
    assert second.file("d/b.yaml") == b"missing"
    assert second.file("d") == b"dir"
    second.save()
    (repo / "d/b.yaml").write_bytes(b"b: 1\n")  # back, same bytes: hashed again, same digest
    assert _hasher(memo, repo).file("d/b.yaml") == hashlib.sha256(b"b: 1\n").digest()


def test_with_the_memo_off_nothing_is_written(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", {"a.yaml": "a: 1\n"})
    assert _digest(Memo.off(), repo, "a.yaml") == hashlib.sha256(b"a: 1\n").digest()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["repo"]


def test_trees_with_and_without_the_index_agree(tmp_path: Path) -> None:
    repo = write_tree(
        tmp_path / "repo",
        {
            "base/kustomization.yaml": "resources: [cm.yaml]\n",
            "base/cm.yaml": "kind: ConfigMap\n",
            "base/.hidden/x.txt": "x",
        },
    )
    expected = [  # walk order; ".hidden" takes the relpath way
        ("base/cm.yaml", hashlib.sha256(b"kind: ConfigMap\n").digest()),
        ("base/kustomization.yaml", hashlib.sha256(b"resources: [cm.yaml]\n").digest()),
        ("base/.hidden/x.txt", hashlib.sha256(b"x").digest()),
    ]
    memo = Memo(tmp_path / "cache")
    assert _hasher(Memo.off(), repo).tree("base") == expected
    first = _hasher(memo, repo)
    assert first.tree("base") == expected  # writes the index
    first.save()
    assert _hasher(memo, repo).tree("base") == expected  # reads it

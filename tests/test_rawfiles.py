"""servegate.rawfiles.read_bytes reads what ``open(path, "rb").read()`` reads and fails as it
fails, for every kind of file a repo or the memo folder may hold."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from servegate.rawfiles import TooLarge, read_bytes


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 4097, (1 << 20) + 3, 3 << 20])
def test_whole_files_of_any_size(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    path = tmp_path / "f"
    path.write_bytes(data)
    assert read_bytes(str(path)) == data == path.read_bytes()


def test_a_file_that_sizes_itself_zero_is_read_to_its_end() -> None:
    proc = "/proc/self/status"
    if not os.path.exists(proc):
        pytest.skip("no /proc here")
    assert os.stat(proc).st_size == 0
    assert read_bytes(proc).startswith(b"Name:")


def test_errors_are_those_of_open(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_bytes(str(tmp_path / "missing"))
    with pytest.raises(IsADirectoryError):
        read_bytes(str(tmp_path))
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    with pytest.raises(OSError) as looped:
        read_bytes(str(tmp_path / "loop"))
    with pytest.raises(OSError) as opened:
        open(tmp_path / "loop", "rb").close()
    assert looped.value.strerror == opened.value.strerror


def test_the_limit_refuses_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big"
    path.write_bytes(b"x" * 101)
    with pytest.raises(TooLarge) as refused:
        read_bytes(str(path), limit=100)
    assert refused.value.size == 101
    assert read_bytes(str(path), limit=101) == b"x" * 101


def test_no_descriptor_is_left_open(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"data")
    before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    for _ in range(50):
        read_bytes(str(path))
        with pytest.raises(TooLarge):
            read_bytes(str(path), limit=1)
        with pytest.raises(IsADirectoryError):
            read_bytes(str(tmp_path))
    if before is not None:
        assert len(os.listdir("/proc/self/fd")) == before

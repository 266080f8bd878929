"""Whole files read as bytes with the fewest system calls and allocations.

``open(path, "rb").read()`` builds a file object and a buffered reader around the descriptor
and asks for the size twice; a check reads each of its thousands of small files and their memo
entries this way, where that overhead is most of the cost. ``read_bytes`` reads through the
descriptor itself, with the same result and the same errors.
"""

from __future__ import annotations

import os

_CHUNK = 1 << 20


class TooLarge(Exception):
    """The file is larger than the caller's limit (nothing was read)."""

    def __init__(self, size: int) -> None:
        super().__init__(f"{size} bytes")
        self.size = size


def read_bytes(path: str, limit: int | None = None) -> bytes:
    """The bytes of the file at ``path``, read to its end, as ``open(path, "rb").read()``
    returns them; raises OSError as that does (IsADirectoryError for a folder,
    FileNotFoundError, PermissionError...), and TooLarge when the file's size is over
    ``limit`` bytes."""
    fd = os.open(path, os.O_RDONLY)  # not inherited by child processes (PEP 446)
    try:
        size = os.fstat(fd).st_size
        if limit is not None and size > limit:
            raise TooLarge(size)
        first = os.read(fd, size + 1 if size else _CHUNK)
        if not first or len(first) == size:
            return first  # at its end: a regular file reads short only there
        return _rest(fd, [first])  # it changed meanwhile, or sizes itself 0 (/proc): read on
    finally:
        os.close(fd)


def _rest(fd: int, chunks: list[bytes]) -> bytes:
    while True:
        chunk = os.read(fd, _CHUNK)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)

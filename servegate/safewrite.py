"""Write files of a repo without ever writing outside it (``new``, ``add env``, ``promote``).

Opening a path follows symlinks (POSIX ``open(2)``), so a cloned repo that ships
``overlays/prod/inferenceservice-patch.yaml -> ~/.kube/config`` would make an editor of repo
files rewrite the kubeconfig. Every write here therefore

1. decides where the path really lands before anything is written (:func:`landing`): a path
   whose real location is outside the repo's real root is refused; with ``symlinks="none"``
   (``new --force``) any symlink below the root is refused, even one that stays inside;
2. walks to the target folder one component at a time from an open descriptor of the root,
   with ``O_NOFOLLOW`` (a folder swapped for a symlink after step 1 is refused, not followed);
3. writes a temporary file beside the target and renames it over the target (``rename(2)`` is
   atomic and replaces a name, never the file a link points to): readers see the old or the
   new content, never half of it, and a failed write leaves the old file in place.

Errors are :class:`UnsafeWrite` with a one-line reason naming the path (exit code 2 for the
commands that use it).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

Symlinks = Literal["inside", "none"]
"""``inside``: a symlink may be followed when its target stays inside the root;
``none``: no symlink below the root may be followed at all."""


class UnsafeWrite(Exception):
    """A write that would leave the repo or follow a refused symlink (one line, exit code 2)."""


@dataclass(frozen=True, slots=True)
class Landing:
    """Where a write lands: the real root and the path below it, with no symlink left."""

    root: str
    rel: PurePosixPath
    shown: str
    """The path as the user named it (for messages)."""


def _inside(root: str, path: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def landing(root: Path, path: Path, *, symlinks: Symlinks = "inside") -> Landing:
    """Where writing ``path`` (absolute, or relative to ``root``) really lands.

    Raises UnsafeWrite when the path, or a folder above it, is a symlink that resolves outside
    the real ``root`` (or, with ``symlinks="none"``, is a symlink at all), or when the path
    itself names ``root``. The path need not exist; missing folders are created on write.
    """
    real_root = os.path.realpath(root)
    lexical = path if path.is_absolute() else root / path
    try:
        below = Path(os.path.abspath(lexical)).relative_to(os.path.abspath(root))
    except ValueError:
        raise UnsafeWrite(f"{path} is outside {root}: refusing to write it") from None
    if not below.parts:
        raise UnsafeWrite(f"{path} is the repo folder itself, not a file")
    shown = below.as_posix()
    if symlinks == "none":
        current = real_root
        for part in below.parts:
            current = os.path.join(current, part)
            if os.path.islink(current):
                raise UnsafeWrite(
                    f"{shown}: {PurePosixPath(os.path.relpath(current, real_root)).as_posix()} "
                    "is a symlink: refusing to write through it"
                )
        return Landing(real_root, PurePosixPath(below.as_posix()), shown)
    real = os.path.realpath(os.path.join(real_root, *below.parts))
    if not _inside(real_root, real) or real == real_root:
        raise UnsafeWrite(
            f"{shown} resolves to {real}, outside the repo (a symlink): refusing to write it"
        )
    rel = PurePosixPath(Path(real).relative_to(real_root).as_posix())
    return Landing(real_root, rel, shown)


def _open_dir(name: str, parent: int, create: bool) -> int:
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        return os.open(name, flags, dir_fd=parent)
    except FileNotFoundError:
        if not create:
            raise
        with contextlib.suppress(FileExistsError):
            os.mkdir(name, 0o777, dir_fd=parent)
        return os.open(name, flags, dir_fd=parent)


def write_bytes(target: Landing, data: bytes, *, create_dirs: bool = True) -> None:
    """Write ``data`` to ``target`` atomically (temporary file + rename in the same folder).

    The file's permission bits are kept when it exists (new files: 0644 before the umask).
    Raises UnsafeWrite when a folder on the way is (now) a symlink or not a folder, or when
    the target is a symlink or not a regular file.
    """
    flags = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(target.root, flags)
    try:
        for part in target.rel.parent.parts:
            try:
                new_fd = _open_dir(part, fd, create_dirs)
            except OSError as err:
                if err.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise UnsafeWrite(
                        f"{target.shown}: folder {part!r} is a symlink or not a folder: "
                        "refusing to write through it"
                    ) from None
                raise UnsafeWrite(f"{target.shown}: {err.strerror or err}") from None
            os.close(fd)
            fd = new_fd
        _replace(fd, target, data)
    finally:
        os.close(fd)


def _replace(dir_fd: int, target: Landing, data: bytes) -> None:
    name = target.rel.name
    mode, existed = 0o644, False
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        pass
    else:
        if stat.S_ISLNK(st.st_mode) or not stat.S_ISREG(st.st_mode):
            raise UnsafeWrite(f"{target.shown} is a symlink or not a regular file: not replaced")
        mode, existed = stat.S_IMODE(st.st_mode), True
    tmp = f".{name}.servegate-{secrets.token_hex(6)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        out = os.open(tmp, flags, mode, dir_fd=dir_fd)
    except OSError as err:
        raise UnsafeWrite(f"{target.shown}: cannot write: {err.strerror or err}") from None
    try:
        with os.fdopen(out, "wb") as handle:
            if existed:  # the replaced file's bits exactly, whatever the umask
                os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise


def write_text(target: Landing, text: str, *, create_dirs: bool = True) -> None:
    write_bytes(target, text.encode("utf-8"), create_dirs=create_dirs)


def write_all(
    root: Path,
    files: Iterable[tuple[Path, bytes]],
    *,
    symlinks: Symlinks = "inside",
) -> list[Landing]:
    """Check every (path, content) first, then write them all; nothing is written on a refusal.

    Returns where each file landed, in order.
    """
    planned = [(landing(root, path, symlinks=symlinks), data) for path, data in files]
    for target, data in planned:
        write_bytes(target, data)
    return [target for target, _ in planned]

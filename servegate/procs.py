"""The child processes servegate starts (kustomize), and stopping them when servegate stops.

Each child runs in its own process group (a new session), so a terminal's Ctrl-C does not reach
it by accident and servegate can stop it with everything it started (``git``, ``helm``...)
in one ``killpg``. On SIGTERM, SIGINT or SIGHUP (``stopping_children``) servegate kills every
running group at once, refuses to start new ones (``Cancelled`` in the thread that asks), and raises
in the main thread (``Terminated``, or ``KeyboardInterrupt`` for SIGINT), so that ``with``
blocks remove their temporary folders while the stack unwinds and the command exits with the
conventional ``128 + signal`` code (143, 130, 129). SIGTERM sent to servegate alone is how
``kill``, ``timeout``, ``docker stop`` and the kubelet ask it to stop, SIGHUP how a closed
terminal or SSH session does; without this its children would keep running with no parent and
no timeout.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from types import FrameType


class Cancelled(Exception):
    """servegate is stopping: no new child process is started."""


class Terminated(BaseException):
    """Raised in the main thread on SIGTERM (a BaseException, like KeyboardInterrupt, so that
    no ``except Exception`` swallows it); ``code`` is the exit code to end with."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"terminated by signal {signum}")
        self.code = 128 + signum


STOPPING_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
"""The signals that stop servegate with its children (each ends a process by default)."""

_lock = threading.RLock()
_running: dict[int, subprocess.Popen[str]] = {}
_stopping = False


def run(argv: Sequence[str], *, timeout: float, env: dict[str, str]) -> tuple[int | None, str, str]:
    """Run ``argv`` in a new process group: (exit code, stdout, stderr); the exit code is
    None when ``timeout`` (seconds, counted from the start of the process) passed first, and
    the whole group was killed, or when the process ended only after it (a thread that
    waited for the GIL between the start and the wait would otherwise see a late end as in
    time). Raises Cancelled when servegate is stopping, OSError when ``argv[0]`` cannot be
    run."""
    started = time.monotonic()
    with _lock:
        if _stopping:
            raise Cancelled
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            env=env,
            start_new_session=True,
        )
        _running[proc.pid] = proc
    try:
        try:
            left = timeout - (time.monotonic() - started)
            out, err = proc.communicate(timeout=max(left, 0.001))
        except subprocess.TimeoutExpired:
            _stop(proc)
            out, err = proc.communicate()
            return None, out, err
    finally:
        if proc.returncode is None:  # an exception (a signal) while it ran
            _stop(proc)
            proc.wait()
        with _lock:
            _running.pop(proc.pid, None)
    if _stopping:
        raise Cancelled
    if time.monotonic() - started > timeout:
        return None, out, err  # it ended, but after its time
    return proc.returncode, out, err


def _stop(proc: subprocess.Popen[str]) -> None:
    """Kill ``proc``'s process group, while its leader is not yet reaped (so the group id is
    still ours and cannot have been reused)."""
    if proc.returncode is None:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


def stop_all() -> None:
    """Kill every running child's process group; start no new child from now on."""
    global _stopping
    with _lock:
        _stopping = True
        running = list(_running.values())
    for proc in running:
        _stop(proc)


def stopping() -> bool:
    return _stopping


def _on_signal(signum: int, frame: FrameType | None) -> None:
    stop_all()
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated(signum)


@contextmanager
def stopping_children() -> Iterator[None]:
    """Within the block, SIGTERM, SIGINT and SIGHUP stop the children and raise in the main thread
    (see the module's docstring); the previous handlers come back after it. Outside the main
    thread (where Python allows no handler) it changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    global _stopping
    previous = {s: signal.getsignal(s) for s in STOPPING_SIGNALS}
    for s in previous:
        signal.signal(s, _on_signal)
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        with _lock:
            _stopping = False

"""Child processes run in their own process group: a timeout or a stop kills the whole group,
and once servegate is stopping no new child starts."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from servegate import procs

SPAWNS_GRANDCHILD = ["sh", "-c", "sleep 30 & echo $!; wait"]


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return ") Z " in status  # a zombie waiting for its (other) parent


def test_output_and_exit_code() -> None:
    assert procs.run(["sh", "-c", "echo out; echo err >&2; exit 3"], timeout=10, env={}) == (
        3,
        "out\n",
        "err\n",
    )


def test_a_timeout_kills_the_whole_group() -> None:
    started = time.monotonic()
    code, out, _ = procs.run(SPAWNS_GRANDCHILD, timeout=0.5, env={"PATH": os.environ["PATH"]})
    assert code is None and time.monotonic() - started < 10
    grandchild = int(out.split()[0])
    deadline = time.monotonic() + 5
    while not _gone(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(grandchild)


def test_a_process_that_ends_after_its_time_is_a_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """The timeout counts from the start of the process: a thread held up between the start
    and the wait (by the GIL, on a loaded machine) does not see a late end as in time."""
    real = subprocess.Popen.communicate

    def late(self: subprocess.Popen[str], *args: Any, **kwargs: Any) -> Any:
        time.sleep(0.3)  # the process (``true``) has ended by now, after its 0.05 s
        return real(self, *args, **kwargs)

    monkeypatch.setattr(subprocess.Popen, "communicate", late)
    code, _, _ = procs.run(["true"], timeout=0.05, env={"PATH": os.environ["PATH"]})
    assert code is None
    code, _, _ = procs.run(["true"], timeout=10, env={"PATH": os.environ["PATH"]})
    assert code == 0


def test_stop_all_kills_running_children_and_refuses_new_ones() -> None:
    outcome: list[object] = []

    def child() -> None:
        try:
            outcome.append(procs.run(["sleep", "30"], timeout=60, env={"PATH": os.environ["PATH"]}))
        except procs.Cancelled:
            outcome.append("cancelled")

    worker = threading.Thread(target=child)
    with procs.stopping_children():
        worker.start()
        time.sleep(0.3)
        procs.stop_all()
        worker.join(10)
        assert not worker.is_alive() and outcome == ["cancelled"]
        with pytest.raises(procs.Cancelled):
            procs.run(["true"], timeout=5, env={})
    assert procs.run(["true"], timeout=5, env={})[0] == 0, "a new run may start children again"


def test_sigterm_raises_in_the_main_thread_and_handlers_come_back() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(procs.Terminated) as stopped, procs.stopping_children():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # interrupted by the handler
    assert stopped.value.code == 143
    assert signal.getsignal(signal.SIGTERM) is before

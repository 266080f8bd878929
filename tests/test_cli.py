"""``servegate --version`` imports nothing heavy (measured with ``python -X importtime``)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from helpers import write_tree

from servegate import cli

HEAVY = (
    "yaml",
    "jsonschema",
    "jsonschema_rs",
    "kubernetes_validate",
    "cookiecutter",
    "ruamel",
    "argo_workflows",
    "promql_parser",
)


def _imported(*args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "servegate", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    modules = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":
                modules.add(name)
    return modules


def test_version_imports_nothing_heavy() -> None:
    modules = _imported("--version")
    assert "servegate.cli" in modules  # the measurement itself works
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == []


def test_help_imports_nothing_heavy() -> None:
    modules = _imported("--help")
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == []


def _command(code: str, *args: str, cwd: str) -> subprocess.CompletedProcess[str]:
    """``python -c code args`` in ``cwd``, importing this checkout's servegate."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env=env,
    )


def test_fast_exit_keeps_the_whole_report_and_the_exit_code(tmp_path: Path) -> None:
    """``python -m servegate`` leaves with os._exit: what it printed (more than a pipe's buffer)
    and its exit code are those of an ordinary shutdown."""
    files = {f"pods/p{i}.yaml": _privileged_pod(f"p{i}") for i in range(60)}
    write_tree(tmp_path, files)
    args = ("check", ".", "--no-cache", "--format", "json")
    fast = _command("from servegate.cli import run; run()", *args, cwd=str(tmp_path))
    plain = _command(
        "import sys; from servegate.cli import main; sys.exit(main())", *args, cwd=str(tmp_path)
    )
    assert fast.returncode == plain.returncode == 1, fast.stderr
    assert len(fast.stdout) > 65536  # more than one pipe buffer: the flush matters
    assert fast.stdout == plain.stdout
    assert fast.stderr == plain.stderr


def _privileged_pod(name: str) -> str:
    return (
        f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: ml\nspec:\n"
        "  containers:\n  - name: c\n    image: registry.example.com/c@sha256:"
        + "0" * 64
        + "\n    securityContext:\n      privileged: true\n"
    )


def test_fast_exit_is_kept_off_while_another_thread_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    left = threading.Event()
    worker = threading.Thread(target=left.wait)
    worker.start()
    quick: list[int] = []
    monkeypatch.setattr(cli, "main", lambda: 3)
    monkeypatch.setattr(os, "_exit", quick.append)
    try:
        with pytest.raises(SystemExit) as done:
            cli.run()
    finally:
        left.set()
        worker.join()
    assert done.value.code == 3
    assert quick == []


class _Left(Exception):
    """Stands for the process ending in ``os._exit``."""


def test_fast_exit_leaves_with_os_exit_when_nothing_else_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    quick: list[int] = []

    def leave(code: int) -> None:
        quick.append(code)
        raise _Left

    monkeypatch.setattr(cli, "main", lambda: 3)
    monkeypatch.setattr(os, "_exit", leave)
    monkeypatch.delitem(sys.modules, "coverage", raising=False)
    with pytest.raises(_Left):
        cli.run()
    assert quick == [3]


def test_fast_exit_is_kept_off_while_a_tool_monitors_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """cProfile and debuggers hook in through sys.monitoring from Python 3.12 (PEP 669)."""

    class Monitoring:
        @staticmethod
        def get_tool(tool: int) -> str | None:
            return "cProfile" if tool == 2 else None

    quick: list[int] = []
    monkeypatch.setattr(sys, "monitoring", Monitoring, raising=False)
    monkeypatch.setattr(cli, "main", lambda: 0)
    monkeypatch.setattr(os, "_exit", quick.append)
    with pytest.raises(SystemExit) as done:
        cli.run()
    assert done.value.code == 0 and quick == []

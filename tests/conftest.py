"""The pytest fixtures every test may ask for; what they use is in helpers.py."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from helpers import CLI, Run, Tree, write_tree

from servegate.cli import main


def pytest_configure(config: pytest.Config) -> None:
    """Refuse ``--dist loadgroup`` where it cannot group: tests marked ``xdist_group`` (the
    image build, the Prometheus server, the install venv) share one-time set-up and must run on
    one worker, or two workers race on it. pytest-xdist 3.8 groups by rewriting
    ``Item._nodeid``, which pytest 9 no longer reads (pyproject.toml pins pytest below 9)."""
    if config.getoption("dist", "no") == "loadgroup" and int(pytest.__version__.split(".")[0]) >= 9:
        raise pytest.UsageError(
            f"pytest {pytest.__version__} ignores pytest-xdist's test groups (--dist loadgroup): "
            "run `make venv` to install the pinned pytest"
        )


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The suite uses a cache folder of its own, never the user's: entries written by another
    checkout or version of servegate must not decide a test's outcome."""
    old = os.environ.get("SERVEGATE_CACHE_DIR")
    os.environ["SERVEGATE_CACHE_DIR"] = str(tmp_path_factory.mktemp("servegate-cache"))
    yield
    if old is None:
        os.environ.pop("SERVEGATE_CACHE_DIR", None)
    else:
        os.environ["SERVEGATE_CACHE_DIR"] = old


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> CLI:
    """Call ``servegate`` in-process: ``cli("check", path, "--format", "json")``."""

    def run(*args: str | Path) -> Run:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    """A repo root in tmp_path (with a .git marker so it is its own repo root)."""

    def make(files: Mapping[str, str | bytes]) -> Path:
        (tmp_path / ".git").mkdir(exist_ok=True)
        return write_tree(tmp_path, files)

    return make

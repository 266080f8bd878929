"""The check pipeline's orchestration (servegate/engine.py): a run pauses CPython's cyclic
garbage collector and leaves it as it found it, whether the run succeeds or fails."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import PRIVILEGED_POD, write_tree

from servegate.engine import check
from servegate.errors import UsageError
from servegate.model import Finding
from servegate.options import CheckOptions


@pytest.fixture
def collector() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    if enabled:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.parametrize("enabled", [True, False])
def test_check_pauses_the_collector_and_restores_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collector: None, enabled: bool
) -> None:
    monkeypatch.setenv("SERVEGATE_CACHE_DIR", str(tmp_path / "cache"))
    repo = write_tree(tmp_path / "repo", {"apps/pod.yaml": PRIVILEGED_POD})
    seen: list[bool] = []

    def finish(*args: object) -> tuple[list[Finding], list[Finding]]:
        seen.append(gc.isenabled())
        return [], []

    monkeypatch.setattr("servegate.engine.finish", finish)
    (gc.enable if enabled else gc.disable)()
    check(CheckOptions(paths=[repo]))
    assert seen == [False]
    assert gc.isenabled() is enabled


def test_a_failed_check_restores_the_collector(tmp_path: Path, collector: None) -> None:
    gc.enable()
    with pytest.raises(UsageError):
        check(CheckOptions(paths=[tmp_path / "repo"], crds=[tmp_path / "no-such-folder"]))
    assert gc.isenabled()

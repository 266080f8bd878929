"""``servegate cache info|clear`` (servegate/commands/cache.py)."""

from __future__ import annotations

import pytest
from helpers import CLI, PRIVILEGED_POD, Tree


def test_info_then_clear(
    cli: CLI,
    tree: Tree,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache = tmp_path_factory.mktemp("memo")
    monkeypatch.setenv("SERVEGATE_CACHE_DIR", str(cache))
    empty = cli("cache", "info")
    assert empty.code == 0 and f"cache: {cache}" in empty.out and "empty" in empty.out
    root = tree(
        {"app/kustomization.yaml": "resources: [pod.yaml]\n", "app/pod.yaml": PRIVILEGED_POD}
    )
    assert cli("check", root).code == 1
    full = cli("cache", "info")
    stages = {line.split()[0] for line in full.out.splitlines()[1:]}
    assert {"renders-v2", "parses-v5", "results-v7", "digests-v2", "total"} <= stages
    cleared = cli("cache", "clear")
    assert cleared.code == 0 and "entries removed" in cleared.out
    assert "empty" in cli("cache", "info").out
    assert cli("check", root).code == 1, "a cleared memo only costs time"

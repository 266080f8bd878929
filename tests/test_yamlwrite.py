"""servegate.yamlwrite: what it writes, Kubernetes reads back exactly (kubectl is the oracle)."""

from __future__ import annotations

from typing import Any

import pytest
from oracle import kubernetes_decode, same
from test_yamlsafe import SCALARS

from servegate.yamlsafe import load_plain
from servegate.yamlwrite import dump_all

TRICKY = [*SCALARS, "1:20:30", "=", "multi\nline", " padded ", "tab\there", "é", "#x", "x #y", ""]


def objects() -> list[dict[str, Any]]:
    data = {f"s{i}": s for i, s in enumerate(TRICKY)}
    keyed = {s: "v" for s in TRICKY if s}
    numbers = {"int": 8, "big": 2**62, "float": 0.5, "huge": 1e20, "tiny": 1e-7, "neg": -3}
    other = {"bool": True, "off": False, "none": None, "list": ["y", 1, "0o10", [], {}]}
    return [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": data},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}, "data": keyed},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, **numbers, **other},
    ]


@pytest.mark.parametrize("readable", [False, True])
def test_kubernetes_reads_back_exactly_what_was_written(readable: bool) -> None:
    written = dump_all(objects(), readable=readable)
    read = kubernetes_decode(written)
    assert isinstance(read, list), read
    for mine, theirs in zip(objects(), read, strict=True):
        theirs.get("metadata", {}).pop("annotations", None)
        assert same(mine, theirs), (mine, theirs)
    assert same(load_plain(written), objects())


def test_ambiguous_strings_are_quoted_and_plain_words_are_not() -> None:
    written = dump_all([{"a": "n", "b": "0o10", "c": "on", "d": "plain", "e": 8, "f": True}])
    assert written.splitlines() == ["a: 'n'", "b: '0o10'", "c: 'on'", "d: plain", "e: 8", "f: true"]


def test_nothing_to_write() -> None:
    assert dump_all([]) == ""


def test_readable_output_writes_scripts_as_literal_blocks_and_still_quotes() -> None:
    written = dump_all([{"script": "set -e\necho y\n", "env": "y", "mode": "0o10"}], readable=True)
    assert written.splitlines() == ["script: |", "  set -e", "  echo y", "env: 'y'", "mode: '0o10'"]

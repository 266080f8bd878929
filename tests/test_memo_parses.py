"""Parsed files in the memo (servegate/memo/parses.py): what comes back is what a fresh parse
gives, line numbers included, and a file loaded twice in a run is unpacked once."""

from __future__ import annotations

from pathlib import Path

import pytest

from servegate.memo import Memo
from servegate.yamlsafe import KUBERNETES, Document, LoadResult, load_bytes

SAMPLES = [
    b"a: 1\nb: [x, {c: true}]\n---\nkind: Pod\nmetadata:\n  name: p\n",
    b"a: 1\na: 2\n",  # duplicate key: a yaml.* problem, kept in the entry
    b"a: [1\n",  # syntax error
    b"x: !!python/object:os.system ls\n",
    b"\xff\xfe bad",
    b"t: 2024-01-01\n",
    b"",
]
SAMPLE = b"kind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n---\na: [1, 2]\n"


def view(result: LoadResult) -> object:
    docs = [(d.data, d.line, d.positions) for d in result.documents]
    return docs, [(p.kind, p.message, p.line) for p in result.problems]


@pytest.mark.parametrize("raw", SAMPLES)
def test_memo_returns_what_a_fresh_parse_returns(tmp_path: Path, raw: bytes) -> None:
    memo = Memo(tmp_path)
    first = memo.parses.load(raw, None, KUBERNETES)
    second = Memo(tmp_path).parses.load(
        raw, None, KUBERNETES
    )  # a new run reads the entry back, if written
    assert view(first) == view(second) == view(load_bytes(raw))


def test_entries_are_written_and_survive_damage(tmp_path: Path) -> None:
    memo = Memo(tmp_path)
    memo.parses.load(SAMPLES[0], None, KUBERNETES)
    entries = [p for p in (tmp_path / "parses-v5").rglob("*") if p.is_file()]
    assert len(entries) == 1
    entries[0].write_bytes(b"garbage")
    assert memo.parses.load(SAMPLES[0], None, KUBERNETES).documents[1].data["kind"] == "Pod"


def test_documents_decode_their_positions_on_use(tmp_path: Path) -> None:
    fresh = load_bytes(SAMPLE)
    Memo(tmp_path).parses.load(SAMPLE, None, KUBERNETES)  # writes the entry
    cached = Memo(tmp_path).parses.load(SAMPLE, None, KUBERNETES)
    assert cached.documents == fresh.documents
    first = cached.documents[0]
    assert first.line_of(("spec", "containers", 0, "name")) == 6
    assert first.line_of(("spec", "containers", 0, "image")) == 6  # deepest existing node
    assert repr(first) == repr(fresh.documents[0])
    damaged = Document({"a": 1}, 3, packed=b"\xff not marshal")
    assert damaged.line_of(("a",)) == 3 and damaged.positions == {}


def test_a_file_loaded_twice_under_one_name_is_unpacked_once(tmp_path: Path) -> None:
    Memo(tmp_path).parses.load(SAMPLE, None, KUBERNETES)
    parses = Memo(tmp_path).parses
    first = parses.load(SAMPLE, "a.yaml", KUBERNETES)
    assert parses.load(SAMPLE, "a.yaml", KUBERNETES) is first  # discovery, then the source files
    assert parses.load(SAMPLE, "b.yaml", KUBERNETES) is not first  # another file: its own objects
    changed = parses.load(SAMPLE.replace(b"name: p", b"name: q"), "a.yaml", KUBERNETES)
    assert changed.documents[0].data["metadata"]["name"] == "q"


def test_with_the_memo_off_every_load_parses(tmp_path: Path) -> None:
    parses = Memo.off().parses
    assert parses.load(SAMPLE, "a.yaml", KUBERNETES) is not parses.load(
        SAMPLE, "a.yaml", KUBERNETES
    )
    assert view(parses.load(SAMPLE, None, KUBERNETES)) == view(load_bytes(SAMPLE))

"""The memo's format and layout (servegate/memo/store.py): entries round-trip and are written
atomically, damage is a miss, ``Memo.off()`` writes nothing, ``--no-cache`` leaves no file at
all, and ``info``/``clear`` touch only servegate's own folders."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from helpers import CLI, PRIVILEGED_POD, Tree

from servegate.memo import Memo
from servegate.memo.store import Store, clear, info, write_atomic
from servegate.yamlsafe import KUBERNETES

KEY = "ab" * 32


def test_entries_round_trip_and_damage_is_a_miss(tmp_path: Path) -> None:
    store = Store(tmp_path, "stage", 1)
    assert store.get(KEY) is None and store.misses == 1
    assert store.put(KEY, {"a": [1, 2.5, None, b"x"]})
    assert store.get(KEY) == {"a": [1, 2.5, None, b"x"]} and store.hits == 1
    path = Path(store.path(KEY))
    assert path == tmp_path / "stage-v1" / KEY[:2] / KEY
    path.write_bytes(b"\x00 not marshal")
    assert store.get(KEY) is None
    other = Store(tmp_path, "other", 1)
    other.put(KEY, 1)
    Path(other.path(KEY)).rename(path)  # another stage's entry under this key
    assert store.get(KEY) is None


def test_what_marshal_cannot_hold_is_not_stored(tmp_path: Path) -> None:
    import datetime as dt

    store = Store(tmp_path, "stage", 1)
    assert not store.put(KEY, {"when": dt.date(2024, 1, 1)})
    assert not store.has(KEY) and not (tmp_path / "stage-v1").exists()


def test_concurrent_writers_leave_a_whole_entry(tmp_path: Path) -> None:
    target = tmp_path / "k" / "entry"
    payloads = [bytes([n]) * 200_000 for n in range(8)]
    threads = [threading.Thread(target=write_atomic, args=(target, p)) for p in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert target.read_bytes() in payloads
    assert [p.name for p in target.parent.iterdir()] == ["entry"]  # no temp files left


def test_memo_off_has_no_store_and_parses_directly(tmp_path: Path) -> None:
    off = Memo.off()
    assert not off.enabled and off.store("stage", 1) is None
    assert off.parses.load(b"a: 1\n", "a.yaml", KUBERNETES).documents[0].data == {"a": 1}
    on = Memo(tmp_path)
    store = on.store("stage", 1)
    assert store is not None and on.store("stage", 1) is store


def test_background_writes_are_read_before_they_land_and_flushed_by_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import servegate.memo.store as store_module

    gate = threading.Event()
    real = store_module.write_atomic

    def slow(path: Path, data: bytes) -> None:
        gate.wait(timeout=30)
        real(path, data)

    monkeypatch.setattr(store_module, "write_atomic", slow)
    memo = Memo(tmp_path, background=True)
    store = memo.store("stage", 1)
    assert store is not None
    assert store.put(KEY, {"n": 1}) and store.put(KEY, {"n": 2})  # the later one wins
    path = Path(store.path(KEY))
    assert not path.exists(), "written in the background, not yet"
    assert store.has(KEY) and store.get(KEY) == {"n": 2}, "read from the queue meanwhile"
    gate.set()
    memo.save()
    assert path.exists() and Store(tmp_path, "stage", 1).get(KEY) == {"n": 2}
    assert [p.name for p in path.parent.iterdir()] == [KEY], "no temporary file left"
    assert [t for t in threading.enumerate() if t.name == "servegate-memo-writer"] == []


def test_a_check_writes_its_entries_before_it_returns(
    tmp_path: Path, tree: Tree, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tree({"a/pod.yaml": PRIVILEGED_POD})
    monkeypatch.setenv("SERVEGATE_CACHE_DIR", str(tmp_path / "cache"))
    assert cli("check", str(repo), "--format", "json").code == 1
    assert [t for t in threading.enumerate() if t.name == "servegate-memo-writer"] == []
    parsed = [p for p in (tmp_path / "cache" / "parses-v5").rglob("*") if p.is_file()]
    assert parsed and not [p for p in parsed if p.name.startswith(".tmp-")]


def test_info_and_clear_touch_only_stage_folders(tmp_path: Path) -> None:
    memo = Memo(tmp_path)
    store = memo.store("renders", 2)
    assert store is not None
    store.put(KEY, "x")
    store.put("cd" * 32, "y")
    (tmp_path / "tools").mkdir()  # the layout of the first releases
    (tmp_path / "tools" / "id").write_text("v", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("the user's", encoding="utf-8")
    (tmp_path / "Mine").mkdir()
    assert [(s.name, s.entries) for s in info(tmp_path)] == [("renders-v2", 2), ("tools", 1)]
    assert all(s.bytes > 0 for s in info(tmp_path))
    assert clear(tmp_path) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Mine", "notes.txt"]
    assert info(tmp_path) == [] and info(tmp_path / "absent") == []


@pytest.mark.parametrize(
    "args",
    [
        (".", "--no-cache"),
        ("--no-cache", "--changed-files", "app/pod.yaml", "plain/pod.yaml"),  # prefetch, paths
        (".", "--no-cache", "--format", "junit"),
    ],
)
def test_no_cache_leaves_no_file_at_all(
    cli: CLI,
    tree: Tree,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
) -> None:
    cache = tmp_path_factory.mktemp("memo") / "cache"
    monkeypatch.setenv("SERVEGATE_CACHE_DIR", str(cache))
    root = tree(
        {
            "app/kustomization.yaml": "resources: [pod.yaml]\n",
            "app/pod.yaml": PRIVILEGED_POD,
            "plain/pod.yaml": PRIVILEGED_POD,
        }
    )
    monkeypatch.chdir(root)
    run = cli("check", *args)
    assert run.code == 1
    assert not cache.exists(), sorted(str(p) for p in cache.rglob("*"))
    warm = cli("check", ".")  # the memo on: the same folder fills
    assert warm.code == 1 and any(p.is_file() for p in cache.rglob("*"))

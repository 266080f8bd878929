"""The render cache: keys cover every input, entries are written atomically, a changed input
is never served from the cache, and --no-cache neither reads nor writes."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from bench.synth import scaffold_template, synth
from servegate.cache import (
    PARSE_FORMAT,
    Entry,
    InputHasher,
    RenderCache,
    render_key,
    write_atomic,
)
from servegate.discover import discover
from servegate.engine import check
from servegate.model import CheckOptions
from servegate.render import cache_keys

OVERLAY = "models/model-0003/overlays/prod"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return scaffold_template(tmp_path_factory.mktemp("tpl"))


@pytest.fixture
def repo(tmp_path: Path, template: Path) -> Path:
    synth(tmp_path / "repo", 6, template=template)
    return tmp_path / "repo"


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("SERVEGATE_CACHE_DIR", str(directory))
    return directory


def _keys(repo: Path) -> dict[str, str]:
    d = discover([repo])
    return cache_keys(d, d.roots)


def test_key_changes_with_any_file_kustomize_may_read(repo: Path, cache_dir: Path) -> None:
    before = _keys(repo)
    assert len(before) == 18 and len(set(before.values())) == 18
    # a file no kustomization lists, in the base directory: kustomize could still read it
    (repo / "models/model-0003/base/notes.txt").write_text("x", encoding="utf-8")
    after = _keys(repo)
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {f"models/model-0003/overlays/{e}" for e in ("dev", "staging", "prod")}


def test_key_changes_with_content_not_with_mtime(repo: Path, cache_dir: Path) -> None:
    before = _keys(repo)
    patch = repo / OVERLAY / "inferenceservice-patch.yaml"
    text = patch.read_text(encoding="utf-8")
    patch.write_text(text, encoding="utf-8")  # same bytes, new mtime
    assert _keys(repo) == before
    patch.write_text(text.replace("minReplicas: 2", "minReplicas: 3"), encoding="utf-8")
    after = _keys(repo)
    assert [k for k in before if before[k] != after[k]] == [OVERLAY]


def test_key_covers_tool_version_and_missing_files(tmp_path: Path) -> None:
    hasher = InputHasher(tmp_path)
    a = render_key(hasher, ["missing.yaml"], [], ["kustomize v5.8.1"])
    b = render_key(hasher, ["missing.yaml"], [], ["kustomize v5.8.2"])
    assert a != b
    (tmp_path / "missing.yaml").write_text("a: 1\n", encoding="utf-8")
    assert render_key(InputHasher(tmp_path), ["missing.yaml"], [], ["kustomize v5.8.1"]) != a


def test_entries_round_trip_and_bad_entries_are_misses(tmp_path: Path) -> None:
    cache = RenderCache(tmp_path)
    key = "ab" * 32
    assert cache.get(key) is None
    cache.put(key, Entry("kind: X\n", None, "/tmp/w"))
    assert cache.get(key) == Entry("kind: X\n", None, "/tmp/w")
    path = next(tmp_path.rglob(f"{key}.json"))
    path.write_text("{not json", encoding="utf-8")
    assert cache.get(key) is None
    path.write_text(json.dumps({"output": None, "error": None, "wrapper": "w"}), encoding="utf-8")
    assert cache.get(key) is None


def test_disabled_cache_never_writes(tmp_path: Path) -> None:
    cache = RenderCache(tmp_path, enabled=False)
    cache.put("cd" * 32, Entry("x", None, "w"))
    assert cache.get("cd" * 32) is None
    assert not any(tmp_path.iterdir())


def test_concurrent_writers_leave_a_whole_entry(tmp_path: Path) -> None:
    target = tmp_path / "k" / "entry.json"
    payloads = [json.dumps({"n": n, "pad": "x" * 200_000}).encode() for n in range(8)]
    threads = [threading.Thread(target=write_atomic, args=(target, p)) for p in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert target.read_bytes() in payloads
    assert [p.name for p in target.parent.iterdir()] == ["entry.json"]  # no temp files left


def _findings(repo: Path, **kw: object) -> list[str]:
    report = check(CheckOptions(paths=[repo], **kw))  # type: ignore[arg-type]
    return sorted(f"{f.rule} {f.file}:{f.line} {f.resource}" for f in report.findings)


def test_warm_run_hits_and_a_changed_input_is_rendered_again(repo: Path, cache_dir: Path) -> None:
    cold = _findings(repo)
    entries = list(cache_dir.rglob("*.json"))
    assert len(entries) == 18
    stamps = {p: p.stat().st_mtime_ns for p in entries}
    assert _findings(repo) == cold
    assert {p: p.stat().st_mtime_ns for p in entries} == stamps  # all hits, nothing rewritten

    # the privileged defect is fixed in the base: a stale entry would still report it
    base = repo / "models/model-0001/base/inferenceservice.yaml"
    base.write_text(
        base.read_text(encoding="utf-8").replace("privileged: true", "privileged: false"),
        encoding="utf-8",
    )
    fixed = _findings(repo)
    assert not any(f.startswith("pss.privileged ") for f in fixed)
    assert any(f.startswith("pss.privileged ") for f in cold)
    assert len(list(cache_dir.rglob("*.json"))) == 21  # three overlays rendered again


def test_no_cache_reads_and_writes_nothing(repo: Path, cache_dir: Path) -> None:
    first = _findings(repo, cache=False)
    assert not cache_dir.exists() or not list(cache_dir.rglob("*.json"))
    assert _findings(repo) == first


def test_cli_no_cache_flag(repo: Path, cache_dir: Path, cli: object) -> None:
    run = cli("check", repo, "--no-cache", "--format", "json")  # type: ignore[operator]
    assert run.code == 1
    assert not list(cache_dir.rglob("*.json"))


def test_parsed_objects_are_kept_only_when_json_keeps_them_exactly() -> None:
    from servegate.cache import as_json_data

    assert as_json_data("a: 1\n---\nb: [x, 2.5]\n") == [{"a": 1}, {"b": ["x", 2.5]}]
    # decoded as Kubernetes decodes it, which is already JSON: a date is its text, a key a string
    assert as_json_data("when: 2024-01-01\n1: one\n") == [{"when": "2024-01-01", "1": "one"}]
    assert as_json_data("a: [\n") is None
    assert as_json_data(None) is None


def test_warm_entries_carry_parsed_objects(repo: Path, cache_dir: Path) -> None:
    _findings(repo)
    entry = json.loads(next(cache_dir.rglob("*.json")).read_text(encoding="utf-8"))
    assert isinstance(entry["objects"], list) and entry["objects"]
    assert all(isinstance(o, dict) and "kind" in o for o in entry["objects"])


PARSE_SAMPLES = [
    b"a: 1\nb: [x, {c: true}]\n---\nkind: Pod\nmetadata:\n  name: p\n",
    b"a: 1\na: 2\n",  # duplicate key: a yaml.* problem, kept in the entry
    b"a: [1\n",  # syntax error
    b"x: !!python/object:os.system ls\n",
    b"\xff\xfe bad",
    b"t: 2024-01-01\n",  # a timestamp marshal cannot hold: parsed every time
    b"",
]


@pytest.mark.parametrize("raw", PARSE_SAMPLES)
def test_parse_cache_returns_what_a_fresh_parse_returns(tmp_path: Path, raw: bytes) -> None:
    from servegate.cache import ParseCache
    from servegate.yamlsafe import load_bytes

    def view(result: object) -> object:
        docs = [(d.data, d.line, d.positions) for d in result.documents]  # type: ignore[attr-defined]
        probs = [(p.kind, p.message, p.line) for p in result.problems]  # type: ignore[attr-defined]
        return docs, probs

    parse_cache = ParseCache(tmp_path)
    first = parse_cache.load(raw)
    second = parse_cache.load(raw)  # read back from the entry when one was written
    assert view(first) == view(second) == view(load_bytes(raw))


def test_parse_cache_writes_entries_and_survives_damage(tmp_path: Path) -> None:
    from servegate.cache import ParseCache

    parse_cache = ParseCache(tmp_path)
    parse_cache.load(PARSE_SAMPLES[0])
    entries = [p for p in (tmp_path / PARSE_FORMAT).rglob("*") if p.is_file()]
    assert len(entries) == 1
    entries[0].write_bytes(b"garbage")
    assert parse_cache.load(PARSE_SAMPLES[0]).documents[1].data["kind"] == "Pod"
    disabled = ParseCache(tmp_path / "off", enabled=False)
    disabled.load(PARSE_SAMPLES[1])
    assert not (tmp_path / "off").exists()


def test_warm_check_findings_equal_no_cache_findings(repo: Path, cache_dir: Path) -> None:
    (repo / "models/model-0001/base/broken.yaml").write_text("a: 1\na: 2\n")
    first = check(CheckOptions(paths=(repo,)))
    assert (cache_dir / PARSE_FORMAT).is_dir()
    warm = check(CheckOptions(paths=(repo,)))
    cold = check(CheckOptions(paths=(repo,), cache=False))
    assert first.findings == warm.findings == cold.findings
    assert any(f.rule == "yaml.duplicate-key" for f in warm.findings)

"""Renders in the memo (servegate/memo/renders.py, keyed by servegate.render.render_keys): the
key covers every file kustomize may read and nothing else, a changed input is never served from
the memo, and a warm check finds exactly what a cold one finds."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.synth import scaffold_template, synth
from servegate.discover import discover
from servegate.engine import check
from servegate.memo import Memo
from servegate.memo.renders import Entry, RenderMemo, parsed
from servegate.options import CheckOptions
from servegate.render import render_keys

OVERLAY = "models/model-0003/overlays/prod"
KEY = "ab" * 32


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


def _keys(repo: Path, memo: Memo | None = None) -> dict[str, str]:
    d = discover([repo])
    return render_keys(d, d.roots, memo or Memo.default())


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


def test_key_covers_the_tool_version(
    repo: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import servegate.render

    before = _keys(repo, Memo.default())
    monkeypatch.setattr(servegate.render, "kubectl_version", lambda memo: "kustomize v0.0.1")
    assert set(_keys(repo, Memo.default()).values()).isdisjoint(before.values())


def test_entries_round_trip_and_bad_entries_are_misses(tmp_path: Path) -> None:
    renders = RenderMemo(Memo(tmp_path))
    assert renders.get(KEY) is None
    renders.put(KEY, Entry("kind: X\n", None, "/tmp/w", [{"kind": "X"}]))
    assert renders.get(KEY) == Entry("kind: X\n", None, "/tmp/w", [{"kind": "X"}])
    store = Memo(tmp_path).store("renders", 2)
    assert store is not None
    store.put(KEY, (None, None, "w", None))  # neither output nor error
    assert renders.get(KEY) is None
    store.put(KEY, ["too", "short"])
    assert renders.get(KEY) is None


def test_parsed_objects_are_kept_only_when_the_memo_holds_them_exactly() -> None:
    assert parsed("a: 1\n---\nb: [x, 2.5]\n") == [{"a": 1}, {"b": ["x", 2.5]}]
    # decoded as Kubernetes decodes it, which is already JSON: a date is its text, a key a string
    assert parsed("when: 2024-01-01\n1: one\n") == [{"when": "2024-01-01", "1": "one"}]
    assert parsed("a: [\n") is None
    assert parsed(None) is None


def _findings(repo: Path, **kw: object) -> list[str]:
    report = check(CheckOptions(paths=[repo], **kw))  # type: ignore[arg-type]
    return sorted(f"{f.rule} {f.file}:{f.line} {f.resource}" for f in report.findings)


def test_warm_run_hits_and_a_changed_input_is_rendered_again(repo: Path, cache_dir: Path) -> None:
    cold = _findings(repo)
    entries = list((cache_dir / "renders-v2").rglob("*"))
    entries = [p for p in entries if p.is_file()]
    assert len(entries) == 18
    stamps = {p: p.stat().st_mtime_ns for p in entries}
    assert _findings(repo) == cold
    assert {p: p.stat().st_mtime_ns for p in entries} == stamps  # all hits, nothing rewritten
    renders = RenderMemo(Memo.default())
    keys = _keys(repo)
    assert all(isinstance(renders.get(k).objects, list) for k in keys.values())  # type: ignore[union-attr]

    # the privileged defect is fixed in the base: a stale entry would still report it
    base = repo / "models/model-0001/base/inferenceservice.yaml"
    base.write_text(
        base.read_text(encoding="utf-8").replace("privileged: true", "privileged: false"),
        encoding="utf-8",
    )
    fixed = _findings(repo)
    assert not any(f.startswith("pss.privileged ") for f in fixed)
    assert any(f.startswith("pss.privileged ") for f in cold)
    assert len([p for p in (cache_dir / "renders-v2").rglob("*") if p.is_file()]) == 21


def test_warm_check_findings_equal_no_cache_findings(repo: Path, cache_dir: Path) -> None:
    (repo / "models/model-0001/base/broken.yaml").write_text("a: 1\na: 2\n")
    first = check(CheckOptions(paths=(repo,)))
    assert (cache_dir / "parses-v5").is_dir()
    warm = check(CheckOptions(paths=(repo,)))
    cold = check(CheckOptions(paths=(repo,), cache=False))
    assert first.findings == warm.findings == cold.findings
    assert any(f.rule == "yaml.duplicate-key" for f in warm.findings)

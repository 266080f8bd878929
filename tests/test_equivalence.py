"""Cold, warm, uncached, sharded, incremental and fanned-out (``--jobs N``) checks report exactly
the same findings: on one synthetic monorepo (bench.synth, with seeded defects), and on every
rule fixture."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.synth import ENVS, Defect, scaffold_template, synth
from servegate import fanout
from servegate.commands.merge import merge_reports

MODELS = 8
Report = dict[str, Any]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[Defect], Path]]:
    base = tmp_path_factory.mktemp("equiv")
    defects = synth(base / "repo", MODELS, template=scaffold_template(base))
    cache = base / "cache"
    old = os.environ.get("SERVEGATE_CACHE_DIR")
    os.environ["SERVEGATE_CACHE_DIR"] = str(cache)
    try:
        yield base / "repo", defects, cache
    finally:
        if old is None:
            del os.environ["SERVEGATE_CACHE_DIR"]
        else:
            os.environ["SERVEGATE_CACHE_DIR"] = old


@pytest.fixture
def run_json(cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Report]:
    def run(repo: Path, *args: str) -> Report:
        monkeypatch.chdir(repo)
        done = cli("check", *args, "--format", "json")
        assert done.code in (0, 1), done.err
        report: Report = done.json()
        return report

    return run


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every check fans out however small (``fanout.MIN_RESOURCES`` 0); the children forked."""
    monkeypatch.setattr(fanout, "MIN_RESOURCES", 0)
    made: list[int] = []
    real = os.fork

    def fork() -> int:
        pid = real()
        if pid:
            made.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    return made


def keyed(report: Report) -> list[str]:
    return sorted(json.dumps(f, sort_keys=True) for f in report["findings"])


def namespaces(report: Report, wanted: set[str]) -> list[str]:
    return sorted(
        json.dumps(f, sort_keys=True)
        for f in report["findings"]
        if (f.get("resource") or {}).get("namespace") in wanted
    )


def test_all_modes_agree(
    world: tuple[Path, list[Defect], Path], run_json: Any, forks: list[int]
) -> None:
    repo, defects, cache = world
    assert not cache.exists()
    cold = run_json(repo, ".")
    assert any(p.is_file() for p in cache.rglob("*")), "the cold run filled the memo"
    found = {(f["rule"], f["file"]) for f in cold["findings"]}
    assert {(d.rule, d.file) for d in defects} <= found, "every seeded defect is found"
    assert cold["summary"]["resources"] == MODELS * 40  # 3 overlays x 12 objects + 4 Argo CD

    warm = run_json(repo, ".")
    assert keyed(warm) == keyed(cold) and warm["summary"] == cold["summary"]
    uncached = run_json(repo, ".", "--no-cache")
    assert keyed(uncached) == keyed(cold) and uncached["summary"] == cold["summary"]

    for jobs in (1, 2, 3):
        forks.clear()  # cold and uncached fanned out as this machine's CPUs allow
        fanned = run_json(repo, ".", "--no-result-cache", "--jobs", str(jobs))
        assert keyed(fanned) == keyed(cold) and fanned["summary"] == cold["summary"], jobs
        assert fanned["suppressed"] == cold["suppressed"], jobs
        assert len(forks) == (0 if jobs == 1 else jobs), jobs

    for count in (2, 3):
        parts = [run_json(repo, ".", "--shard", f"{i}/{count}") for i in range(1, count + 1)]
        merged = merge_reports(parts)
        assert keyed(merged) == keyed(cold)
        assert merged["summary"]["resources"] == cold["summary"]["resources"]
        assert merged["summary"]["errors"] == cold["summary"]["errors"]

    every_file = sorted(
        str(p.relative_to(repo)) for p in repo.rglob("*.yaml") if ".git" not in p.parts
    )
    incremental = run_json(repo, "--changed-files", *every_file)
    assert keyed(incremental) == keyed(cold)

    for d in defects:
        model = d.file.split("/")[1]
        envs = [d.file.split("/")[3]] if "/overlays/" in d.file else list(ENVS)
        touched = run_json(repo, "--changed-files", d.file)
        assert keyed(touched) == namespaces(cold, {f"ml-{model}-{e}" for e in envs}), d


def test_after_an_edit_warm_equals_uncached(
    world: tuple[Path, list[Defect], Path], run_json: Any
) -> None:
    repo, defects, _ = world
    run_json(repo, ".")  # warm the cache
    target = repo / defects[0].file  # the privileged InferenceService's base
    original = target.read_text(encoding="utf-8")
    target.write_text(original.replace("runAsNonRoot: true", "runAsNonRoot: false", 1))
    try:
        warm = run_json(repo, ".")
        uncached = run_json(repo, ".", "--no-cache")
        assert keyed(warm) == keyed(uncached)
        assert any(f["rule"] == "pss.run-as-non-root" for f in warm["findings"])
        touched = run_json(repo, "--changed-files", defects[0].file)
        model = defects[0].file.split("/")[1]
        assert keyed(touched) == namespaces(uncached, {f"ml-{model}-{e}" for e in ENVS})
    finally:
        target.write_text(original, encoding="utf-8")


FIXTURES = Path(__file__).parent / "fixtures" / "rules"
MODES = [
    (),
    ("--no-cache",),
    ("--no-result-cache",),
    ("--no-result-cache", "--jobs", "1"),
    ("--no-result-cache", "--jobs", "3"),
]


def test_every_rule_fixture_agrees_in_every_mode(
    tmp_path: Path, run_json: Any, forks: list[int]
) -> None:
    """Every fixture file in a folder of its own (a unit each), checked cold, warm, without the
    memo and without the result memo; the fixture repos (folders) one by one."""
    repo = tmp_path / "files"
    (repo / ".git").mkdir(parents=True)
    folders = []
    for path in sorted(FIXTURES.glob("*/*")):
        if path.is_dir():
            folders.append(path)
        elif path.suffix in (".yaml", ".yml", ".notyaml"):
            into = repo / path.parent.name / path.name.replace(".", "-")
            into.mkdir(parents=True)
            shutil.copyfile(path, into / (path.stem + ".yaml"))
    cold = run_json(repo, ".")
    fail_rules = {p.parent.name for p in FIXTURES.glob("*/fail.*") if p.is_file()}
    found = {f["rule"] for f in cold["findings"]}
    assert len(found & fail_rules) > len(fail_rules) * 0.9, "the fixtures do find their rules"
    for mode in [(), *MODES]:  # the first () is warm
        forks.clear()
        again = run_json(repo, ".", *mode)
        if "--jobs" in mode:
            assert len(forks) == (3 if "3" in mode else 0), mode
        assert keyed(again) == keyed(cold), mode
        assert again["summary"] == cold["summary"], mode
        assert again["suppressed"] == cold["suppressed"], mode
    for folder in folders:
        copy = tmp_path / "repos" / f"{folder.parent.name}-{folder.name}"
        shutil.copytree(folder, copy)
        (copy / ".git").mkdir(exist_ok=True)
        first = run_json(copy, ".")
        for mode in [(), ("--no-cache",)]:  # warm, and without the memo
            assert keyed(run_json(copy, ".", *mode)) == keyed(first), (folder, mode)


def test_every_format_is_byte_identical_whatever_the_jobs(
    world: tuple[Path, list[Defect], Path],
    cli: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    forks: list[int],
) -> None:
    """``--jobs`` changes who evaluates, never a byte of any report."""
    repo, _, _ = world
    monkeypatch.chdir(repo)
    for fmt in ("text", "json", "sarif", "junit", "github"):
        outputs = []
        for jobs in ("1", "3"):
            forks.clear()
            done = cli("check", ".", "--no-result-cache", "--jobs", jobs, "--format", fmt)
            assert done.code == 1, done.err
            assert len(forks) == (0 if jobs == "1" else 3), (fmt, jobs)
            outputs.append((done.out, done.err))
        assert outputs[0] == outputs[1], fmt

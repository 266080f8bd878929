"""Sharding: a stable, complete partition of the roots; --shard parsing; merge's contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from servegate.commands.merge import MergeError, merge_reports
from servegate.discover import Discovery, UsageError
from servegate.findings import Finding, Severity
from servegate.shard import parse, select, shard_of


def _discovery(roots: list[str]) -> Discovery:
    from servegate.discover import Kustomization

    ks = {
        r: Kustomization(r, f"{r}/kustomization.yaml", None, files=[f"{r}/a.yaml"]) for r in roots
    }
    return Discovery(
        Path("/repo"),
        ks,
        roots,
        ["plain/one.yaml", "plain/two.yaml"],
        [Finding("yaml.syntax", Severity.ERROR, "x", "plain/two.yaml", 1)],
        sorted([*(f"{r}/a.yaml" for r in roots), "plain/one.yaml", "plain/two.yaml"]),
    )


def test_parse() -> None:
    assert parse("2/4") == (2, 4)
    assert parse(" 1 / 1 ") == (1, 1)
    for bad in ("0/2", "3/2", "1/0", "a/b", "1", "-1/2"):
        with pytest.raises(UsageError):
            parse(bad)


def test_shard_of_is_stable_across_processes() -> None:
    # sha256-based: a fixed value, unlike Python's salted hash()
    assert [shard_of(f"models/m{i}/overlays/prod", 4) for i in range(8)] == [
        shard_of(f"models/m{i}/overlays/prod", 4) for i in range(8)
    ]
    assert (
        shard_of("overlays/prod", 3)
        == 1
        + int.from_bytes(__import__("hashlib").sha256(b"overlays/prod").digest()[:8], "big") % 3
    )


@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_shards_partition_roots_and_unowned_files(count: int) -> None:
    roots = [f"models/m{i:03d}/overlays/{e}" for i in range(40) for e in ("dev", "prod")]
    d = _discovery(roots)
    parts = [select(d, i, count) for i in range(1, count + 1)]
    assert sorted(r for p in parts for r in p.roots) == sorted(roots)
    assert sorted(f for p in parts for f in p.plain_files) == d.plain_files
    assert sum(len(p.findings) for p in parts) == 1
    if count > 1:
        assert all(p.roots for p in parts), "80 roots leave no shard empty"
        for p in parts:  # a shard only strict-parses what its own roots read
            own = {f for r in p.roots for f in d.inputs(r) if f in d.yaml_files}
            assert set(p.yaml_files) - {"plain/one.yaml", "plain/two.yaml"} == own


def _report(findings: list[dict[str, object]], files: int, resources: int) -> dict[str, object]:
    return {
        "version": 1,
        "summary": {"files": files, "resources": resources, "errors": 0, "warnings": 0},
        "findings": findings,
        "suppressed": [],
    }


def test_merge_dedups_sorts_and_recounts() -> None:
    a = {"rule": "r.a", "severity": "error", "message": "m", "file": "b.yaml", "line": 3}
    b = {"rule": "r.b", "severity": "warning", "message": "m", "file": "a.yaml", "line": 9}
    merged = merge_reports([_report([a, b], 3, 10), _report([a], 2, 5)])
    assert merged["findings"] == [b, a]
    assert merged["summary"] == {
        "files": 5,
        "resources": 15,
        "errors": 1,
        "warnings": 1,
        "suppressed": 0,
    }


def test_merge_rejects_other_documents() -> None:
    with pytest.raises(MergeError):
        merge_reports([{"version": 2, "summary": {}, "findings": []}])
    with pytest.raises(MergeError):
        merge_reports([{"version": 1, "findings": []}])


def test_merge_cli_errors_are_exit_2(tmp_path: Path, cli: object) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    run = cli("merge", bad)  # type: ignore[operator]
    assert run.code == 2 and "not JSON" in run.err
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_report([], 1, 1)), encoding="utf-8")
    run = cli("merge", good, tmp_path / "missing.json")  # type: ignore[operator]
    assert run.code == 2 and "cannot read" in run.err
    run = cli("merge", good)  # type: ignore[operator]
    assert run.code == 0 and json.loads(run.out)["summary"]["resources"] == 1


def test_check_rejects_a_bad_shard(tmp_path: Path, cli: object) -> None:
    run = cli("check", tmp_path, "--shard", "3/2")  # type: ignore[operator]
    assert run.code == 2 and "--shard" in run.err


def test_argo_fan_out_template_passes_restricted(cli: object) -> None:
    import yaml

    path = Path(__file__).resolve().parents[1] / "argo/workflows/sharded-check.yaml"
    run = cli("check", path, "--pss-level", "restricted", "--format", "json")  # type: ignore[operator]
    assert run.code == 0, run.out
    assert run.json()["summary"]["warnings"] == 0  # schema known: validated, not skipped
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))["spec"]
    tasks = {t["name"]: t for t in spec["templates"][0]["dag"]["tasks"]}
    assert tasks["shard"]["withSequence"]["count"] == "{{workflow.parameters.shards}}"
    assert tasks["merge"]["depends"] == "shard"
    shard = next(t for t in spec["templates"] if t["name"] == "shard")
    assert '--shard "$SHARD/$SHARDS"' in shard["container"]["args"][0]
    merge = next(t for t in spec["templates"] if t["name"] == "merge")
    assert '"servegate", "merge"' in merge["script"]["source"]

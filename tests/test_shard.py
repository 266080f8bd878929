"""Sharding: a stable, complete partition of the roots; --shard parsing; merge's contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import write_tree

from servegate.commands.merge import MergeError, merge_reports
from servegate.discover import Discovery
from servegate.errors import UsageError
from servegate.model import Finding, Severity
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
    """sha256-based: another process, with another string hash seed, gives the same shards
    (Python's salted hash() would not)."""
    import os
    import subprocess
    import sys

    paths = [f"models/m{i}/overlays/prod" for i in range(16)]
    here = [shard_of(p, 4) for p in paths]
    code = "import sys; from servegate.shard import shard_of; print([shard_of(p, 4) for p in sys.argv[1:]])"
    for seed in ("1", "2"):
        done = subprocess.run(
            [sys.executable, "-c", code, *paths],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        assert done.stdout.strip() == str(here)
    assert len(set(here)) > 1, "16 roots do not all fall in one shard"
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


def _report(
    findings: list[dict[str, object]],
    files: int,
    resources: int,
    shard: tuple[int, int, str] | None = (1, 1, "s"),
) -> dict[str, object]:
    out: dict[str, object] = {
        "version": 1,
        "summary": {"files": files, "resources": resources, "errors": 0, "warnings": 0},
        "findings": findings,
        "suppressed": [],
    }
    if shard is not None:
        out["shard"] = {"index": shard[0], "count": shard[1], "scope": shard[2]}
    return out


def test_merge_dedups_sorts_and_recounts() -> None:
    a = {"rule": "r.a", "severity": "error", "message": "m", "file": "b.yaml", "line": 3}
    b = {"rule": "r.b", "severity": "warning", "message": "m", "file": "a.yaml", "line": 9}
    merged = merge_reports([_report([a, b], 3, 10, (1, 2, "s")), _report([a], 2, 5, (2, 2, "s"))])
    assert "shard" not in merged  # the merged report is the whole check
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
    good.write_text(json.dumps(_report([], 1, 1)), encoding="utf-8")  # shard 1/1
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


@pytest.mark.parametrize(
    ("shards", "message"),
    [
        ([(1, 2, "s")], "shard 2/2 missing"),
        ([(2, 3, "s"), (3, 3, "s")], "shard 1/3 missing"),
        ([(1, 2, "s"), (1, 2, "s")], "shard 1/2 is given twice"),
        ([(1, 2, "s"), (2, 2, "s"), (2, 2, "s")], "given twice"),
        ([(1, 2, "s"), (2, 3, "s")], "different splits"),
        ([(1, 2, "s"), (2, 2, "t")], "different checks"),
        ([(1, 2, "s"), None], "report 2 does not say which shard"),
        ([(3, 2, "s"), (1, 2, "s")], "report 1 does not say which shard"),
    ],
)
def test_merge_refuses_an_incomplete_or_mixed_set(
    shards: list[tuple[int, int, str] | None], message: str
) -> None:
    with pytest.raises(MergeError, match=message):
        merge_reports([_report([], 1, 1, s) for s in shards])


def test_shard_reports_record_their_shard_and_merge_refuses_a_missing_one(
    tmp_path: Path, cli: object
) -> None:
    """Real `check --shard` reports: each names its shard and the check's scope; merge takes
    the complete set (exit 0) and refuses one shard alone or given twice (exit 2, one line)."""
    root = tmp_path / "repo"
    for name in ("a", "b", "c", "d"):
        write_tree(
            root,
            {f"{name}/cm.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"},
        )
    parts = []
    for i in (1, 2):
        out = tmp_path / f"s{i}.json"
        run = cli("check", root, "--shard", f"{i}/2", "--format", "json", "-o", out)  # type: ignore[operator]
        assert run.code == 0, run.err
        report = json.loads(out.read_text())
        assert report["shard"]["index"] == i and report["shard"]["count"] == 2
        parts.append(out)
    scopes = {json.loads(p.read_text())["shard"]["scope"] for p in parts}
    assert len(scopes) == 1
    run = cli("merge", *parts)  # type: ignore[operator]
    assert run.code == 0 and json.loads(run.out)["summary"]["resources"] == 4
    for bad in ([parts[0]], [parts[1], parts[1]]):
        run = cli("merge", *bad)  # type: ignore[operator]
        assert run.code == 2 and run.out == ""
        assert len(run.err.strip().splitlines()) == 1 and "shard" in run.err
    other = tmp_path / "other.json"  # a shard of another check does not complete the set
    write_tree(root, {"e/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: e\n"})
    run = cli("check", root, "--shard", "2/2", "--format", "json", "-o", other)  # type: ignore[operator]
    run = cli("merge", parts[0], other)  # type: ignore[operator]
    assert run.code == 2 and "different checks" in run.err


@pytest.mark.parametrize("fmt", ["text", "sarif", "junit", "github"])
def test_merge_writes_every_format_as_one_check_would(
    tmp_path: Path, cli: object, fmt: str
) -> None:
    """A fan-out's merged report in any format carries the findings one check of the whole
    repo reports in that format (so sharded runs feed code scanning, test views, annotations)."""
    root = tmp_path / "repo"
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: NAME}\nspec:\n  containers:\n  - name: c\n"
        "    image: busybox:1.36\n    securityContext: {privileged: true}\n"
    )
    for name in ("a", "b", "c"):
        write_tree(root, {f"{name}/pod.yaml": pod.replace("NAME", name)})
    parts = []
    for i in (1, 2):
        out = tmp_path / f"s{i}.json"
        cli("check", root, "--shard", f"{i}/2", "--format", "json", "-o", out)  # type: ignore[operator]
        parts.append(out)
    merged = cli("merge", "--format", fmt, *parts)  # type: ignore[operator]
    whole = cli("check", root, "--format", fmt)  # type: ignore[operator]
    assert merged.code == whole.code == 1, merged.err
    if fmt == "sarif":
        import jsonschema
        from helpers import upstream_dir

        def results(text: str) -> list[tuple[str, str, int]]:
            run = json.loads(text)["runs"][0]
            return sorted(
                (
                    r["ruleId"],
                    r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                    r["locations"][0]["physicalLocation"]["region"]["startLine"],
                )
                for r in run["results"]
            )

        assert results(merged.out) == results(whole.out) and len(results(merged.out)) >= 3
        schema = json.loads((upstream_dir() / "sarif/sarif-schema-2.1.0.json").read_text())
        jsonschema.validate(json.loads(merged.out), schema)
    elif fmt == "junit":
        import xml.etree.ElementTree as ET

        def failures(text: str) -> list[str]:
            return sorted(f.get("type", "") for f in ET.fromstring(text).iter("failure"))

        assert failures(merged.out) == failures(whole.out) and failures(merged.out)
    else:
        # the findings' lines are identical; the summary line counts files per shard
        assert merged.out.splitlines()[:-1] == whole.out.splitlines()[:-1]
        assert "pss.privileged" in merged.out

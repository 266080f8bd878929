"""Rendering is bounded and stoppable: one kustomize budget per run shared by every root, a root
it does not cover is an error that is never cached, and SIGTERM/SIGINT stop kustomize (its
whole process group) and remove the scratch folders, with the conventional exit code."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import CLI, Tree, doubling_graph

from servegate.discover import discover
from servegate.memo import Memo
from servegate.render import Budget, Prefetch, render_all
from servegate.yamlsafe import load_plain


def test_budget_is_shared_by_every_root_and_never_cached(
    tmp_path: Path, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three roots whose render takes a minute each: with a 3 s budget the whole check ends
    in about 3 s (not 3 x timeout), every root is an error, and none is cached."""
    root = doubling_graph(tmp_path / "repo", 10, roots=3)
    (root / ".git").mkdir()
    cache = tmp_path / "cache"
    monkeypatch.setenv("SERVEGATE_CACHE_DIR", str(cache))
    monkeypatch.setenv("SERVEGATE_RENDER_BUDGET", "3")
    for _ in range(2):  # the second run renders again: nothing was stored
        started = time.monotonic()
        run = cli("check", root, "--format", "json")
        took = time.monotonic() - started
        assert run.code == 1
        assert took < 15, took
        found = run.json()["findings"]
        assert {f["file"] for f in found} == {f"roots/r{i}/kustomization.yaml" for i in range(3)}
        assert all(f["rule"] == "repo.kustomize-error" for f in found)
        assert all("render budget (3 s" in f["message"] for f in found)
    assert not list(cache.glob("render-*/*/*.json")), "no render stored"
    assert not list(cache.glob("results-*/*/*.json")), "no result stored"


def test_a_bad_budget_is_a_usage_error(
    tmp_path: Path, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = doubling_graph(tmp_path / "repo", 1)
    (root / ".git").mkdir()
    for bad in ("0", "-3", "soon", "inf", "nan"):
        monkeypatch.setenv("SERVEGATE_RENDER_BUDGET", bad)
        run = cli("check", root)
        assert run.code == 2 and "SERVEGATE_RENDER_BUDGET" in run.err, bad


def test_budget_defaults_grow_with_the_roots(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SERVEGATE_RENDER_BUDGET", raising=False)
    assert Budget.for_roots(900).seconds > Budget.for_roots(1).seconds >= 30
    assert 0 < Budget.for_roots(1).remaining() <= Budget.for_roots(1).seconds


def _descendants(pid: int) -> dict[int, str]:
    """pid -> start time of every process below ``pid``."""
    table: dict[int, tuple[int, str]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stat = Path(f"/proc/{name}/stat").read_text()
            except OSError:
                continue
            rest = stat[stat.rindex(")") + 2 :].split()
            table[int(name)] = (int(rest[1]), rest[19])
    found: dict[int, str] = {}
    todo = [pid]
    while todo:
        parent = todo.pop()
        for child, (ppid, start) in table.items():
            if ppid == parent and child not in found:
                found[child] = start
                todo.append(child)
    return found


def _alive(pid: int, start: str) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2 :].split()[19] == start


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to see child processes")
@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGHUP, 129)]
)
def test_a_signal_stops_kustomize_and_cleans_up(tmp_path: Path, signum: int, code: int) -> None:
    root = doubling_graph(tmp_path / "repo", 10)
    (root / ".git").mkdir()
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch), "SERVEGATE_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "servegate", "check", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    seen: dict[int, str] = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        seen.update(_descendants(proc.pid))
        if any(
            "kubectl" in Path(f"/proc/{p}/comm").read_text() for p in seen if _alive(p, seen[p])
        ):
            break
        time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("kustomize never started")
    time.sleep(0.5)
    seen.update(_descendants(proc.pid))
    os.kill(proc.pid, signum)  # to servegate alone, as kill, timeout and the kubelet do
    try:
        _, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("servegate still running 15 s after the signal")
    time.sleep(0.5)
    left = [p for p, start in seen.items() if _alive(p, start)]
    for p in left:
        os.kill(p, signal.SIGKILL)
    assert proc.returncode == code
    assert left == []
    assert list(scratch.iterdir()) == []
    assert b"Traceback" not in err and len(err.strip().splitlines()) == 1


# --- prefetched renders: a pre-commit sized check starts kustomize early ---------------------

PREFETCH_FILES: dict[str, str | bytes] = {
    "app/kustomization.yaml": "namespace: team\nresources: [cm.yaml]\n",
    "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n",
}


def test_prefetched_render_is_used_then_cached(tree: Tree, tmp_path: Path) -> None:
    repo = tree(PREFETCH_FILES)
    found = discover([repo], repo)
    memo = Memo(tmp_path / "cache")
    early = Prefetch(found, memo)
    try:
        scratch = tmp_path / "scratch"
        scratch.mkdir()
        [result] = render_all(repo, ["app"], scratch, memo=memo, discovery=found, prefetch=early)
        assert "servegate-" in result.wrapper and "scratch" not in result.wrapper, "prefetched"
        assert early.take("app") is None, "taken once"
    finally:
        early.close()
    bodies = result.objects if result.objects is not None else load_plain(result.output or "")
    assert [b["metadata"]["namespace"] for b in bodies] == ["team"]
    assert any(p.is_file() for p in (tmp_path / "cache" / "renders-v2").rglob("*")), "stored"
    again = Prefetch(found, Memo(tmp_path / "cache"))
    try:
        assert again.take("app") is None, "a cached root is not rendered early"
    finally:
        again.close()

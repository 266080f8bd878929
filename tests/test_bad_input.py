"""Bad input never crashes: each case gives a clear message with file and line, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import CLI, Run, Tree

POD = """
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: app
    image: nginx:1.27
"""


def findings(run: Run) -> list[tuple[str, str, int]]:
    return [(f["rule"], f["file"], f["line"]) for f in run.json()["findings"]]


def assert_no_traceback(run: Run) -> None:
    assert "Traceback" not in run.err and "Traceback" not in run.out


def test_missing_path_exits_2(cli: CLI, tmp_path: Path) -> None:
    run = cli("check", tmp_path / "nope")
    assert run.code == 2
    assert "path does not exist" in run.err and run.err.count("\n") == 1
    assert_no_traceback(run)


def test_unknown_flag_exits_2(cli: CLI) -> None:
    run = cli("check", "--no-such-flag")
    assert run.code == 2
    assert "no-such-flag" in run.err
    assert_no_traceback(run)


def test_malformed_yaml(cli: CLI, tree: Tree) -> None:
    root = tree({"broken.yaml": "apiVersion: v1\nkind: Pod\nmetadata: [unclosed\nspec: {}\n"})
    run = cli("check", root, "--format", "json")
    assert run.code == 1
    assert findings(run) == [("yaml.syntax", "broken.yaml", 4)]


def test_duplicate_key_reported_at_duplicate_line(cli: CLI, tree: Tree) -> None:
    root = tree({"dup.yaml": POD + "  hostNetwork: false\n  hostNetwork: true\n"})
    run = cli("check", root, "--format", "json")
    assert run.code == 1
    assert ("yaml.duplicate-key", "dup.yaml", 10) in findings(run)


def test_alias_bomb_ends_fast(cli: CLI, tree: Tree) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    root = tree({"bomb.yaml": "\n".join(lines) + "\n"})
    started = time.perf_counter()
    run = cli("check", root, "--format", "json")
    elapsed = time.perf_counter() - started
    assert run.code == 1
    assert findings(run) == [("yaml.alias-bomb", "bomb.yaml", 1)]
    assert elapsed < 5.0  # expanded, 9**9 nodes take minutes and gigabytes


def test_python_tag_refused(cli: CLI, tree: Tree) -> None:
    root = tree(
        {
            "evil.yaml": "apiVersion: v1\nkind: ConfigMap\ndata:\n  x: !!python/object/apply:os.system [id]\n"
        }
    )
    run = cli("check", root, "--format", "json")
    assert run.code == 1
    assert findings(run) == [("yaml.unsafe-tag", "evil.yaml", 4)]


def test_huge_file_refused_without_parsing(cli: CLI, tree: Tree) -> None:
    big = (
        b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n"
        + b"  k: "
        + b"x" * (20 * 1024 * 1024)
        + b"\n"
    )
    root = tree({"big.yaml": big})
    started = time.perf_counter()
    run = cli("check", root, "--format", "json")
    assert time.perf_counter() - started < 2.0
    assert run.code == 1
    assert findings(run) == [("yaml.too-large", "big.yaml", 1)]


def test_non_utf8_reports_the_line(cli: CLI, tree: Tree) -> None:
    root = tree({"latin1.yaml": b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\xe9\n"})
    run = cli("check", root, "--format", "json")
    assert run.code == 1
    assert findings(run) == [("yaml.encoding", "latin1.yaml", 4)]


def test_binary_file(cli: CLI, tree: Tree) -> None:
    root = tree({"blob.yaml": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"})
    run = cli("check", root, "--format", "json")
    assert run.code == 1
    assert findings(run) == [("yaml.encoding", "blob.yaml", 1)]


def test_empty_file_is_fine(cli: CLI, tree: Tree) -> None:
    root = tree({"empty.yaml": b"", "comments.yaml": "# nothing here\n---\n"})
    run = cli("check", root, "--format", "json")
    assert run.code == 0, run.out
    assert run.json()["findings"] == []


def test_kustomization_escaping_repo(cli: CLI, tree: Tree, tmp_path: Path) -> None:
    root = tree({"app/kustomization.yaml": "resources:\n- ../../outside\n"})
    run = cli("check", root, "--format", "json")
    assert run.code == 1
    assert findings(run) == [("repo.kustomize-escape", "app/kustomization.yaml", 2)]


def test_remote_base_not_fetched(cli: CLI, tree: Tree) -> None:
    root = tree(
        {
            "app/kustomization.yaml": "resources:\n- pod.yaml\n- https://github.com/kubernetes-sigs/kustomize//examples/helloWorld?ref=v5.0.0\n",
            "app/pod.yaml": POD,
        }
    )
    run = cli("check", root, "--format", "json")
    assert run.code == 1
    assert findings(run) == [("repo.remote-base", "app/kustomization.yaml", 3)]


def test_kustomize_error_is_a_finding(cli: CLI, tree: Tree) -> None:
    root = tree({"app/kustomization.yaml": "resources:\n- missing.yaml\n"})
    run = cli("check", root, "--format", "json")
    assert run.code == 1
    [(rule, file, line)] = findings(run)
    assert (rule, file, line) == ("repo.kustomize-error", "app/kustomization.yaml", 1)
    assert "missing.yaml" in run.json()["findings"][0]["message"]


def test_helm_chart_plugin_refused(cli: CLI, tree: Tree) -> None:
    root = tree(
        {"app/kustomization.yaml": "helmCharts:\n- name: model\n  repo: https://example.com\n"}
    )
    run = cli("check", root, "--format", "json")
    assert run.code == 1
    assert findings(run) == [
        ("repo.kustomize-plugin", "app/kustomization.yaml", 1),
        ("repo.remote-base", "app/kustomization.yaml", 3),  # helm would fetch the chart
    ]


def test_symlink_leaving_repo(cli: CLI, tree: Tree, tmp_path_factory: object) -> None:
    root = tree({"pod.yaml": POD})
    os.symlink("/etc", root / "etc-link")
    run = cli("check", root, "--format", "json")
    assert ("repo.symlink-escape", "etc-link", 1) in findings(run)


def test_unreadable_file(cli: CLI, tree: Tree) -> None:
    root = tree({"secret.yaml": POD})
    (root / "secret.yaml").chmod(0)
    try:
        if os.access(root / "secret.yaml", os.R_OK):  # root ignores permissions
            return
        run = cli("check", root, "--format", "json")
        assert run.code == 1
        assert findings(run) == [("yaml.unreadable", "secret.yaml", 1)]
    finally:
        (root / "secret.yaml").chmod(0o644)


def test_missing_kubectl_exits_2_with_hint(tree: Tree) -> None:
    root = tree({"app/kustomization.yaml": "resources: [pod.yaml]\n", "app/pod.yaml": POD})
    env = {**os.environ, "SERVEGATE_KUBECTL": str(root / "no-kubectl")}
    done = subprocess.run(
        [sys.executable, "-m", "servegate", "check", str(root)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 2
    assert "kubectl not found" in done.stderr and "hint" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1


def test_user_files_are_never_modified(cli: CLI, tree: Tree) -> None:
    root = tree(
        {
            "app/kustomization.yaml": "resources: [pod.yaml]\n",
            "app/pod.yaml": POD,
            "bad.yaml": "a: 1\na: 2\n",
        }
    )
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    cli("check", root)
    after = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    assert before == after


def test_internal_error_is_one_line(cli: CLI, tree: Tree, monkeypatch: pytest.MonkeyPatch) -> None:
    import servegate.engine

    def boom(options: object) -> None:
        raise KeyError("unexpected")

    monkeypatch.setattr(servegate.engine, "check", boom)
    monkeypatch.delenv("SERVEGATE_DEBUG", raising=False)
    run = cli("check", tree({"pod.yaml": POD}))
    assert run.code == 2
    assert run.err.startswith("servegate: internal error: KeyError") and run.err.count("\n") == 1
    assert_no_traceback(run)

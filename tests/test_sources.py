"""servegate.sources decodes each file as the tool that consumes it does, and bounds a run."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import CLI, Run, Tree, write_tree

from servegate import sources
from servegate.memo import Memo
from servegate.yamlsafe import KUBERNETES, KUSTOMIZE, MAX_ALIAS_NODES

SERVEGATE = Path(sys.executable).parent / "servegate"

SIDECAR_Y = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: ml
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: y
    image: registry.example.com/app@sha256:0000000000000000000000000000000000000000000000000000000000000000
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
    env:
    - name: DEBUG
      value: off
"""

HOST_PID_MERGED = SIDECAR_Y.replace(
    "  containers:\n", "  hostPID: false\n  <<: {hostPID: true}\n  containers:\n"
)


def rules_at(run: Run) -> set[tuple[str, str, int]]:
    return {(f["rule"], f["file"], f["line"]) for f in run.json()["findings"]}


def test_dialects_follow_how_a_file_is_consumed(tmp_path: Path) -> None:
    files = sources.SourceFiles(tmp_path, plain=["apps/pod.yaml"])
    assert files.dialect_of("apps/pod.yaml") == KUBERNETES
    assert files.dialect_of("base/pod.yaml") == KUSTOMIZE
    assert files.dialect_of("base/kustomization.yaml") == KUBERNETES
    assert files.dialect_of("base/Kustomization") == KUBERNETES


def test_loaded_names_the_files_read_so_far(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.yaml": "a: 1\n", "b.yaml": "b: [\n"})
    files = sources.SourceFiles(tmp_path)
    assert not files.loaded("a.yaml")
    files.load("a.yaml")
    files.load("b.yaml")
    assert files.loaded("a.yaml") and files.loaded("b.yaml") and not files.loaded("c.yaml")
    assert files.names == {"a.yaml", "b.yaml"} and files.problems == {"b.yaml"}


def test_a_plain_file_is_judged_as_kubectl_reads_it(cli: CLI, tree: Tree) -> None:
    root = tree({"pod.yaml": SIDECAR_Y})
    run = cli("check", root, "--format", "json", "--no-cache")
    assert run.code == 1
    found = rules_at(run)
    assert ("schema.invalid", "pod.yaml", 11) in found  # name: y is true
    assert ("schema.invalid", "pod.yaml", 18) in found  # value: off is false


def test_a_directive_in_a_plain_file_is_refused_as_kubectl_refuses_it(cli: CLI, tree: Tree) -> None:
    """kubectl splits a file at its ``---`` lines and decodes each part alone: a ``%YAML``
    directive stands without its document, and kubectl refuses the file (kustomize reads a
    kustomization whole, so a directive there is fine)."""
    from oracle import kubernetes_decode

    configmap = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ml}\n"
    plain = "# a comment\n%YAML 1.1\n---\n" + configmap
    assert "document start" in str(kubernetes_decode(plain))
    root = tree(
        {
            "plain/cm.yaml": plain,
            "app/kustomization.yaml": "%YAML 1.1\n---\nresources: [cm.yaml]\n",
            "app/cm.yaml": configmap.replace("name: c", "name: d"),
        }
    )
    run = cli("check", root, "--format", "json", "--no-cache")
    assert run.code == 1
    assert {(f["rule"], f["file"], f["line"]) for f in run.json()["findings"]} == {
        ("yaml.syntax", "plain/cm.yaml", 2)
    }


def test_the_same_file_under_kustomize_stays_strings(cli: CLI, tree: Tree) -> None:
    root = tree({"app/pod.yaml": SIDECAR_Y, "app/kustomization.yaml": "resources: [pod.yaml]\n"})
    run = cli("check", root, "--format", "json", "--no-cache")
    assert not [f for f in run.json()["findings"] if f["rule"] == "schema.invalid"]


def test_merge_keys_resolve_as_each_consumer_resolves_them(cli: CLI, tmp_path: Path) -> None:
    plain = write_tree(tmp_path / "plain", {".git/x": "", "pod.yaml": HOST_PID_MERGED})
    run = cli("check", plain, "--format", "json", "--no-cache")
    assert ("pss.host-namespaces", "pod.yaml", 11) in rules_at(run)  # the later << wins
    kustomized = write_tree(
        tmp_path / "kustomized",
        {
            ".git/x": "",
            "app/pod.yaml": HOST_PID_MERGED,  # explicit keys win for kustomize
            "app/kustomization.yaml": "resources: [pod.yaml]\n",
        },
    )
    run = cli("check", kustomized, "--format", "json", "--no-cache")
    assert not [f for f in run.json()["findings"] if f["rule"] == "pss.host-namespaces"]


def test_the_parse_memo_keeps_the_dialects_apart(tmp_path: Path) -> None:
    from servegate.memo import Memo

    parses = Memo(tmp_path).parses
    raw = b"a: y\n"
    assert parses.load(raw, "x.yaml", KUBERNETES).documents[0].data == {"a": True}
    assert parses.load(raw, "x.yaml", KUSTOMIZE).documents[0].data == {"a": "y"}
    again = Memo(tmp_path).parses  # from disk
    assert again.load(raw, None, KUSTOMIZE).documents[0].data == {"a": "y"}
    assert again.load(raw, None, KUBERNETES).documents[0].data == {"a": True}


def _bomb(levels: int) -> str:
    lines = ["apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\nx0: &x0 [a, a]"]
    for level in range(1, levels):
        lines.append(f"x{level}: &x{level} [" + ", ".join([f"*x{level - 1}"] * 4) + "]")
    return "\n".join(lines) + "\n"


def test_a_bomb_split_over_files_ends_fast_with_little_cache(tmp_path: Path) -> None:
    repo, cache = tmp_path / "repo", tmp_path / "cache"
    repo.mkdir()
    one = _bomb(8)  # about 44,000 added nodes: under the file bound, not under the run's
    for number in range(60):
        (repo / f"b{number:02}.yaml").write_text(one, encoding="utf-8")
    started = time.perf_counter()
    done = subprocess.run(
        [str(SERVEGATE), "check", str(repo), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "SERVEGATE_CACHE_DIR": str(cache)},
    )
    assert time.perf_counter() - started < 30
    assert done.returncode == 1, done.stderr
    assert '"yaml.alias-bomb"' in done.stdout
    size = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file())
    assert size < 2 * 1024 * 1024


@pytest.mark.parametrize("documents", [10, 200])
def test_a_bomb_split_over_documents_is_refused(tmp_path: Path, documents: int) -> None:
    text = "---\n".join([_bomb(9)] * documents)  # about 175,000 added nodes each
    loaded = Memo.off().parses.load(text.encode(), "bomb.yaml", KUBERNETES)
    assert ["yaml." + p.kind.value for p in loaded.problems] == ["yaml.alias-bomb"]
    assert str(MAX_ALIAS_NODES // 1000) in loaded.problems[0].message.replace(",", "")


def test_closed_sources_serve_only_what_was_read(tmp_path: Path) -> None:
    """What a forked child of the check gets (servegate.fanout): no new read, no memo."""
    from servegate.sources import NotLoaded, SourceFiles

    (tmp_path / "a.yaml").write_text("a: 1\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("b: 1\n", encoding="utf-8")
    sources = SourceFiles(tmp_path)
    first = sources.load("a.yaml")
    sources.close()
    assert sources.load("a.yaml") is first
    with pytest.raises(NotLoaded):
        sources.load("b.yaml")
    assert not sources.loaded("b.yaml")

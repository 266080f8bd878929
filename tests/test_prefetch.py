"""Prefetched renders (servegate.render.Prefetch): a pre-commit sized check starts kustomize
early; the result is what rendering later gives, and cached roots are not rendered again."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from servegate.discover import discover
from servegate.memo import Memo
from servegate.render import Prefetch, render_all
from servegate.yamlsafe import load_plain

Tree = Callable[[Mapping[str, str | bytes]], Path]
FILES: dict[str, str | bytes] = {
    "app/kustomization.yaml": "namespace: team\nresources: [cm.yaml]\n",
    "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n",
}


def test_prefetched_render_is_used_then_cached(tree: Tree, tmp_path: Path) -> None:
    repo = tree(FILES)
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

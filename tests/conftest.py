"""Shared test fixtures: run the CLI in-process and build small repos on disk."""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from servegate.cli import main


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The suite uses a cache folder of its own, never the user's: entries written by another
    checkout or version of servegate must not decide a test's outcome."""
    old = os.environ.get("SERVEGATE_CACHE_DIR")
    os.environ["SERVEGATE_CACHE_DIR"] = str(tmp_path_factory.mktemp("servegate-cache"))
    yield
    if old is None:
        os.environ.pop("SERVEGATE_CACHE_DIR", None)
    else:
        os.environ["SERVEGATE_CACHE_DIR"] = old


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """Call ``servegate`` in-process: ``cli("check", path, "--format", "json")``."""

    def run(*args: str | Path) -> Run:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Write ``{relative path: content}`` under ``root`` (text is dedented)."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


@pytest.fixture
def tree(tmp_path: Path) -> Callable[[Mapping[str, str | bytes]], Path]:
    """A repo root in tmp_path (with a .git marker so it is its own repo root)."""

    def make(files: Mapping[str, str | bytes]) -> Path:
        (tmp_path / ".git").mkdir(exist_ok=True)
        return write_tree(tmp_path, files)

    return make


def doubling_graph(root: Path, levels: int, roots: int = 1) -> Path:
    """A kustomize graph whose cost doubles per level: ``lib/L0`` holds one Pod, each
    ``lib/Lk`` includes ``a`` and ``b`` (name suffixes), which both include ``lib/L(k-1)``;
    ``roots/rI`` (each its own namespace) include ``lib/L<levels>``. kustomize builds
    ``lib/L0`` 2**levels times for each root."""
    files = {
        "lib/L0/kustomization.yaml": "resources: [pod.yaml]\n",
        "lib/L0/pod.yaml": (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
            "  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n"
            "  containers:\n  - name: c\n    image: registry.example.com/c:1.0\n"
        ),
    }
    for k in range(1, levels + 1):
        files[f"lib/L{k}/kustomization.yaml"] = "resources: [a, b]\n"
        for part in ("a", "b"):
            files[f"lib/L{k}/{part}/kustomization.yaml"] = (
                f"nameSuffix: -{part}\nresources: [../../L{k - 1}]\n"
            )
    for i in range(roots):
        files[f"roots/r{i}/kustomization.yaml"] = (
            f"namespace: ns{i}\nresources: [../../lib/L{levels}]\n"
        )
    return write_tree(root, files)

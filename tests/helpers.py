"""What the tests share: running the CLI, building repos on disk, manifests, upstream data and
Resources from text. The pytest fixtures that wrap these (``cli``, ``tree``) are in conftest.py.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import textwrap
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
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


class LoopbackServer:
    """An HTTP server on loopback that serves ``files`` (path -> body) and records every
    request's path in ``requests``; ``close()`` stops it."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                body = files.get(self.path.split("?")[0])
                self.send_response(200 if body is not None else 404)
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def tree_digest(root: Path) -> str:
    """A digest of every path and file under ``root`` except ``.git``: equal before and after
    a run that wrote nothing there."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if ".git" in path.relative_to(root).parts:
            continue
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file() and not path.is_symlink():
            digest.update(path.read_bytes())
    return digest.hexdigest()


#: A pod spec that passes Pod Security restricted and servegate's other pod rules.
_RESTRICTED_SPEC = """\
  serviceAccountName: runner
  automountServiceAccountToken: false
{extra}  securityContext:
    runAsNonRoot: true
    seccompProfile: {{type: RuntimeDefault}}
  containers:
  - name: c
    image: registry.example.com/img@sha256:{digest}
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {{drop: [ALL]}}
"""


def restricted_pod(name: str, extra: str = "", namespace: str = "ml") -> str:
    """A Pod that passes Pod Security restricted; ``extra`` adds lines to its spec (indented
    two spaces, e.g. ``"  hostPID: true\n"``)."""
    return (
        f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n"
        + _RESTRICTED_SPEC.format(extra=extra, digest="0" * 64)
    )


def restricted_deployment(name: str, namespace: str = "ml") -> str:
    """A Deployment (one replica) whose pod template passes Pod Security restricted."""
    spec = _RESTRICTED_SPEC.format(extra="", digest="0" * 64)
    template = "".join(f"      {line}\n" if line else "\n" for line in spec.splitlines())
    return (
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n"
        f"  namespace: {namespace}\nspec:\n  replicas: 1\n  selector:\n"
        f"    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n"
        f"      labels: {{app: {name}}}\n    spec:\n{template}"
    )


def application(
    name: str,
    path: str,
    source: str = "",
    repo: str = "https://git.example.com/ml/model.git",
) -> str:
    """An Argo CD Application (namespace argocd) deploying ``path`` of ``repo`` to namespace
    ml; ``source`` adds lines to ``spec.source`` (indented four spaces)."""
    return (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
        f"metadata: {{name: {name}, namespace: argocd}}\nspec:\n  project: ml\n  source:\n"
        f"    repoURL: {repo}\n    path: {path}\n{source}"
        "  destination: {server: https://kubernetes.default.svc, namespace: ml}\n"
    )


def objects_of(*bodies: Mapping[str, Any], file: str = "repo.yaml") -> list[Resource]:
    """Resources of object bodies, as if read from ``file`` (no source lines)."""
    return [Resource.from_body(dict(b), Origin(file)) for b in bodies]


def psa_labels(**modes: str) -> dict[str, str]:
    """Pod Security labels: ``psa_labels(enforce="restricted", enforce_version="v1.33")``."""
    return {f"pod-security.kubernetes.io/{k.replace('_', '-')}": v for k, v in modes.items()}


def namespace(name: str = "ml", **labels: str) -> dict[str, Any]:
    """A Namespace body with ``labels`` (``namespace("ml", **psa_labels(enforce="baseline"))``)."""
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


#: A container securityContext that Pod Security restricted admits.
HARDENED_CONTEXT: Mapping[str, Any] = {
    "allowPrivilegeEscalation": False,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def inference_service(
    name: str, predictor: Mapping[str, Any], namespace: str = "ml", **meta: Any
) -> dict[str, Any]:
    """A KServe v1beta1 InferenceService body with ``predictor`` as its predictor spec."""
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": name, "namespace": namespace, **meta},
        "spec": {"predictor": dict(predictor)},
    }


def serving_runtime(
    name: str,
    formats: list[dict[str, Any]],
    *,
    kind: str = "ServingRuntime",
    namespace: str | None = "ml",
    **spec: Any,
) -> dict[str, Any]:
    """A (Cluster)ServingRuntime body serving ``formats`` (supportedModelFormats); by default
    one hardened ``kserve-container``; ``spec`` adds or replaces spec fields."""
    meta: dict[str, Any] = {"name": name}
    if kind == "ServingRuntime" and namespace:
        meta["namespace"] = namespace
    containers = spec.pop(
        "containers",
        [
            {
                "name": "kserve-container",
                "image": f"registry.example.com/{name}:1",
                "securityContext": dict(HARDENED_CONTEXT),
            }
        ],
    )
    return {
        "apiVersion": "serving.kserve.io/v1alpha1",
        "kind": kind,
        "metadata": meta,
        "spec": {"supportedModelFormats": formats, "containers": containers, **spec},
    }


@contextmanager
def fresh_promql() -> Iterator[None]:
    """Within the block, servegate.promql as at the start of a run: no budget spent, nothing
    remembered; as it was after."""
    from servegate import promql

    memos = (promql._problem, promql._parse_here, promql._parse_apart)
    saved = promql._children, promql._cost, promql._refused
    promql._children = promql._cost = 0
    promql._refused = False
    for memo in memos:
        memo.cache_clear()
    try:
        yield
    finally:
        promql._children, promql._cost, promql._refused = saved
        for memo in memos:
            memo.cache_clear()

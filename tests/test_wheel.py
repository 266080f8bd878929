"""The built wheel, installed into a fresh venv, carries its data and checks a repo."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_installs_and_checks(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(dist),
            str(PROJECT),
        ],
        check=True,
        capture_output=True,
    )
    [wheel] = dist.glob("servegate-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    template = "generator/{{cookiecutter.repo_name}}"
    for data in (
        "policies/restricted.yaml",
        "environments/prod.yaml",
        "schemas/crds/index.json",
        f"{template}/.pre-commit-config.yaml",
        f"{template}/.github/workflows/servegate.yml",
        "argo/cmp/plugin.yaml",
    ):
        assert f"servegate/_data/{data}" in names, data
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    py = env_dir / "bin" / "python"
    # dependencies come from the running environment's wheels cache; --no-deps keeps it fast
    site = subprocess.run(
        [sys.executable, "-c", "import sysconfig;print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True)
    pth = next((env_dir / "lib").glob("python3*/site-packages"))
    (pth / "deps.pth").write_text(site + "\n")  # reuse installed dependencies, not our package
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "  - name: c\n    image: busybox:1.36\n    securityContext: {privileged: true}\n"
    )
    env = {**os.environ, "SERVEGATE_KUBECTL": str(Path(sys.executable).parent / "kubectl")}
    done = subprocess.run(
        [
            str(env_dir / "bin" / "servegate"),
            "check",
            str(repo),
            "--select",
            "pss.privileged,schema",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "pod.yaml:8: error pss.privileged" in done.stdout
    # the package imported is the wheel's, not the checkout's
    where = subprocess.run(
        [str(py), "-c", "import servegate.datafiles as d;print(d.data_dir('schemas'))"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout
    assert "_data" in where and str(PROJECT) not in where
    # the wheel's generator scaffolds a repo that the wheel's checker passes
    sg = str(env_dir / "bin" / "servegate")
    model_repo = tmp_path / "model-repo"
    subprocess.run(
        [sg, "new", str(model_repo), "--no-input", "--model-name", "fraud"],
        check=True,
        capture_output=True,
        env=env,
        cwd=tmp_path,
    )
    assert (model_repo / ".pre-commit-config.yaml").is_file()
    checked = subprocess.run(
        [sg, "check", str(model_repo)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.rstrip().splitlines()[-1].startswith("OK: 0 error(s), 0 warning(s)")

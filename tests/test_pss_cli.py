"""Pod Security conformance end to end: ``servegate check DIR --select pss --pss-level L
--k8s-version V --format json`` over one upstream PSA version directory per level agrees with
upstream (the in-process test in test_pss_conformance.py covers every version)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import CLI, upstream_dir
from test_pss_conformance import owner

VERSION = "1.37"


@pytest.mark.upstream
@pytest.mark.parametrize("level", ["baseline", "restricted"])
def test_check_agrees_with_upstream(level: str, tmp_path: Path, cli: CLI) -> None:
    source = upstream_dir() / "psa" / level / f"v{VERSION}"
    (tmp_path / ".git").mkdir()  # its own repo root, so findings name files relative to it
    shutil.copytree(source / "pass", tmp_path / "pass")
    shutil.copytree(source / "fail", tmp_path / "fail")
    run = cli(
        "check",
        tmp_path,
        "--select",
        "pss",
        "--pss-level",
        level,
        "--k8s-version",
        VERSION,
        "--format",
        "json",
    )
    assert run.code in (0, 1), run.err
    report = run.json()
    flagged: dict[str, set[str]] = {}
    for finding in report["findings"]:
        flagged.setdefault(Path(finding["file"]).as_posix(), set()).add(finding["rule"])
    passes = sorted(p.name for p in (source / "pass").glob("*.yaml"))
    fails = sorted(p.name for p in (source / "fail").glob("*.yaml"))
    wrong = [
        f"pass/{name}: {sorted(flagged[f'pass/{name}'])}"
        for name in passes
        if f"pass/{name}" in flagged
    ]
    wrong += [
        f"fail/{name}: {sorted(flagged.get(f'fail/{name}', set()))}"
        for name in fails
        if not flagged.get(f"fail/{name}", set()) & owner(Path(name))
    ]
    assert not wrong, "\n".join(wrong)
    assert run.code == 1  # the fail fixtures are error-level findings
    assert all(f["rule"].startswith("pss.") for f in report["findings"])

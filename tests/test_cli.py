"""``servegate --version`` imports nothing heavy (measured with ``python -X importtime``)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = (
    "yaml",
    "jsonschema",
    "jsonschema_rs",
    "kubernetes_validate",
    "cookiecutter",
    "ruamel",
    "argo_workflows",
    "promql_parser",
)


def _imported(*args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "servegate", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    modules = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":
                modules.add(name)
    return modules


def test_version_imports_nothing_heavy() -> None:
    modules = _imported("--version")
    assert "servegate.cli" in modules  # the measurement itself works
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == []


def test_help_imports_nothing_heavy() -> None:
    modules = _imported("--help")
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == []

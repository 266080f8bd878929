"""Pod Security conformance: the pss rules agree with upstream pod-security-admission on every
fixture of ``../shared/upstream/psa/<level>/v1.<minor>/{pass,fail}/*.yaml``.

Runs in-process (strict loader, pod-spec layer, each rule's check for the version), so the whole
corpus of 1,732 pods takes well under a second. A fail fixture must be flagged by the rule that
owns its check id (the file name's prefix); at the restricted level a baseline check that
upstream overrides is reported by the restricted rule that overrides it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import upstream_dir

from servegate.evaluate import evaluate
from servegate.resource import Origin, Resource
from servegate.rules import all_rules
from servegate.rules.base import Context, Level, Rule
from servegate.yamlsafe import load_bytes

VERSIONS = [(1, minor) for minor in range(25, 38)]
CORPUS_SIZE = 1732

#: Upstream check id (fixture file prefix) -> the rules that may report it.
OWNERS: dict[str, frozenset[str]] = {
    "allowprivilegeescalation": frozenset({"pss.allow-privilege-escalation"}),
    "apparmorprofile": frozenset({"pss.apparmor"}),
    "capabilities_baseline": frozenset(
        {"pss.capabilities-baseline", "pss.capabilities-restricted"}
    ),
    "capabilities_restricted": frozenset({"pss.capabilities-restricted"}),
    "hostnamespaces": frozenset({"pss.host-namespaces"}),
    "hostpathvolumes": frozenset({"pss.host-path-volumes", "pss.restricted-volumes"}),
    "hostports": frozenset({"pss.host-ports"}),
    "hostprobesandhostlifecycle": frozenset({"pss.host-probes-lifecycle"}),
    "privileged": frozenset({"pss.privileged"}),
    "procmount": frozenset({"pss.proc-mount", "pss.proc-mount-restricted"}),
    "procmount_restricted": frozenset({"pss.proc-mount-restricted"}),
    "restrictedvolumes": frozenset({"pss.restricted-volumes"}),
    "runasnonroot": frozenset({"pss.run-as-non-root"}),
    "runasuser": frozenset({"pss.run-as-user"}),
    "seccompprofile_baseline": frozenset({"pss.seccomp-baseline", "pss.seccomp-restricted"}),
    "seccompprofile_restricted": frozenset({"pss.seccomp-restricted"}),
    "selinuxoptions": frozenset({"pss.selinux"}),
    "sysctls": frozenset({"pss.sysctls"}),
    "windowshostprocess": frozenset({"pss.windows-host-process"}),
}


def pss_rules(level: Level) -> list[Rule]:
    """The rules a namespace at ``level`` enforces: baseline, or baseline and restricted."""
    allowed = {Level.BASELINE} if level is Level.BASELINE else {Level.BASELINE, Level.RESTRICTED}
    return [r for r in all_rules().values() if r.family == "pss" and r.level in allowed]


def findings(path: Path, level: Level, version: tuple[int, int]) -> set[str]:
    """The ids of the pss rules that flag the pod in ``path``."""
    loaded = load_bytes(path.read_bytes())
    assert not loaded.problems, f"{path}: {loaded.problems[0].message}"
    ctx = Context(k8s_version=version, pss_level=level)
    resources = [
        Resource.from_body(doc.data, Origin(file=str(path), document=doc))
        for doc in loaded.documents
    ]
    flagged = {hit.rule.id for hit in evaluate(pss_rules(level), resources, ctx)}
    return flagged


def owner(path: Path) -> frozenset[str]:
    return OWNERS[path.stem.rstrip("0123456789")]


def test_every_fixture_prefix_has_an_owner() -> None:
    psa = upstream_dir() / "psa"
    prefixes = {p.stem.rstrip("0123456789") for p in psa.glob("*/v1.*/fail/*.yaml")}
    assert prefixes <= OWNERS.keys(), sorted(prefixes - OWNERS.keys())
    known = set(all_rules())
    assert set().union(*OWNERS.values()) <= known


def test_corpus_is_complete() -> None:
    psa = upstream_dir() / "psa"
    files = list(psa.glob("*/v1.*/*/*.yaml"))
    assert len(files) == CORPUS_SIZE


@pytest.mark.upstream
@pytest.mark.parametrize("level", [Level.BASELINE, Level.RESTRICTED], ids=lambda lv: lv.value)
@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: f"v{v[0]}.{v[1]}")
def test_agrees_with_upstream(level: Level, version: tuple[int, int]) -> None:
    folder = upstream_dir() / "psa" / level.value / f"v{version[0]}.{version[1]}"
    passes = sorted((folder / "pass").glob("*.yaml"))
    fails = sorted((folder / "fail").glob("*.yaml"))
    assert passes and fails, f"no fixtures in {folder}"
    disagreements: list[str] = []
    for path in passes:
        flagged = findings(path, level, version)
        if flagged:
            disagreements.append(f"pass/{path.name} flagged by {sorted(flagged)}")
    for path in fails:
        flagged = findings(path, level, version)
        if not flagged & owner(path):
            disagreements.append(
                f"fail/{path.name} not flagged by {sorted(owner(path))} (got {sorted(flagged)})"
            )
    agree = len(passes) + len(fails) - len(disagreements)
    assert not disagreements, f"{agree} of {len(passes) + len(fails)} agree:\n" + "\n".join(
        disagreements
    )

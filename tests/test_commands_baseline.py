"""``servegate baseline`` and ``check --baseline`` (servegate/commands/baseline.py): adopt
servegate on a repo with findings, fail only on new ones.

The scenario from the issue, end to end through the CLI: a repo with errors, ``servegate
baseline``, ``check --baseline`` passes and lists what it hides, one new error fails with
exactly that finding, lines moving keep the entries matching, a fixed finding's entry is
reported and ``--prune`` removes it. The baseline is never read unless the operator names it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from helpers import CLI, DEPLOYMENT_NO_APE, Run, Tree, upstream_dir

from servegate.baseline import (
    acceptable,
    entries,
    write,
)
from servegate.model import Finding, Severity

BASE = DEPLOYMENT_NO_APE
PATCH = """\
- op: add
  path: /spec/template/spec/hostNetwork
  value: true
"""


@pytest.fixture
def repo(tree: Tree) -> Path:
    """Two overlays of a base without allowPrivilegeEscalation: false; prod adds hostNetwork."""
    return tree(
        {
            "base/kustomization.yaml": "resources: [deploy.yaml]\n",
            "base/deploy.yaml": BASE,
            "overlays/dev/kustomization.yaml": "namespace: ml-dev\nresources: [../../base]\n",
            "overlays/prod/kustomization.yaml": (
                "namespace: ml-prod\nresources: [../../base]\npatches:\n"
                "- path: host.yaml\n  target: {kind: Deployment}\n"
            ),
            "overlays/prod/host.yaml": PATCH,
        }
    )


def check(cli: CLI, repo: Path, *args: str) -> Run:
    return cli("check", repo, "--format", "json", "--no-cache", *args)


def rules(run: Run, where: str = "findings") -> list[tuple[str, str]]:
    data: dict[str, Any] = run.json()
    return sorted(
        (f["rule"], (f.get("resource") or {}).get("namespace") or "") for f in data[where]
    )


def test_adopt_then_fail_only_on_the_new_finding(repo: Path, cli: CLI) -> None:
    before = check(cli, repo)
    assert before.code == 1
    assert rules(before) == [
        ("pss.allow-privilege-escalation", "ml-dev"),
        ("pss.allow-privilege-escalation", "ml-prod"),
        ("pss.host-namespaces", "ml-prod"),
    ]

    written = cli("baseline", repo)
    assert written.code == 0
    assert "wrote 3 baseline entries" in written.err
    baseline = repo / ".servegate-baseline.json"
    assert [e["rule"] for e in json.loads(baseline.read_text())["entries"]] == [
        "pss.allow-privilege-escalation",
        "pss.allow-privilege-escalation",
        "pss.host-namespaces",
    ]

    passing = check(cli, repo, "--baseline", str(baseline))
    assert passing.code == 0
    assert rules(passing) == []
    hidden = passing.json()["suppressed"]
    assert len(hidden) == 3
    assert {s["suppression"]["kind"] for s in hidden} == {"baseline"}
    assert {s["suppression"]["reason"] for s in hidden} == {f"in the baseline {baseline}"}
    assert passing.json()["summary"]["baseline"] == {
        "file": str(baseline),
        "entries": 3,
        "matched": 3,
        "unmatched": 0,
    }
    text = cli("check", repo, "--no-cache", "--baseline", str(baseline))
    assert text.code == 0
    assert "suppressed (3):" in text.out
    assert "3 suppressed (3 by the baseline" in text.out.splitlines()[-1]

    # a new error, in a patch of its own: the check fails with exactly that finding
    (repo / "overlays/dev/priv.yaml").write_text(
        "- op: add\n  path: /spec/template/spec/containers/0/securityContext/privileged\n"
        "  value: true\n",
        encoding="utf-8",
    )
    (repo / "overlays/dev/kustomization.yaml").write_text(
        "namespace: ml-dev\nresources: [../../base]\npatches:\n"
        "- path: priv.yaml\n  target: {kind: Deployment}\n",
        encoding="utf-8",
    )
    failing = check(cli, repo, "--baseline", str(baseline))
    assert failing.code == 1
    [new] = failing.json()["findings"]
    assert (new["rule"], new["file"], new["line"]) == (
        "pss.privileged",
        "overlays/dev/priv.yaml",
        3,
    )
    assert len(failing.json()["suppressed"]) == 3


def test_lines_moving_keep_the_baseline_matching(repo: Path, cli: CLI) -> None:
    assert cli("baseline", repo).code == 0
    baseline = str(repo / ".servegate-baseline.json")
    deploy = repo / "base/deploy.yaml"
    deploy.write_text("# moved\n# down\n" + deploy.read_text(), encoding="utf-8")
    host = repo / "overlays/prod/host.yaml"
    host.write_text("# the host network, for the node agent\n" + PATCH, encoding="utf-8")
    run = check(cli, repo, "--baseline", baseline)
    assert run.code == 0
    lines = sorted((s["file"], s["line"]) for s in run.json()["suppressed"])
    assert lines == [
        ("base/deploy.yaml", 20),
        ("base/deploy.yaml", 20),
        ("overlays/prod/host.yaml", 4),
    ]


def test_a_fixed_finding_is_reported_and_prune_removes_it(repo: Path, cli: CLI) -> None:
    assert cli("baseline", repo).code == 0
    baseline = repo / ".servegate-baseline.json"
    (repo / "overlays/prod/kustomization.yaml").write_text(
        "namespace: ml-prod\nresources: [../../base]\n", encoding="utf-8"
    )
    run = check(cli, repo, "--baseline", str(baseline))
    assert run.code == 0
    [note] = run.json()["findings"]
    assert note["rule"] == "repo.baseline-unmatched"
    assert note["severity"] == "note"
    assert note["file"] == ".servegate-baseline.json"
    assert "pss.host-namespaces on Deployment ml-prod/model" in note["message"]
    text = baseline.read_text().splitlines()
    assert '"fingerprint"' in text[note["line"] - 1]

    # a narrowed run cannot tell fixed from unchecked: nothing is reported
    narrowed = cli("check", repo / "overlays/dev", "--format", "json", "--baseline", str(baseline))
    assert [f["rule"] for f in narrowed.json()["findings"]] == []

    pruned = cli("baseline", repo, "--prune")
    assert pruned.code == 0
    assert "kept 2 of 3" in pruned.err
    assert check(cli, repo, "--baseline", str(baseline)).json()["findings"] == []


def test_prune_never_adds_entries(repo: Path, cli: CLI) -> None:
    baseline = repo / "accepted.json"
    write(baseline, [])
    assert cli("baseline", repo, "--prune", "--output", str(baseline)).code == 0
    assert json.loads(baseline.read_text())["entries"] == []


def test_the_baseline_is_never_read_unless_the_operator_names_it(repo: Path, cli: CLI) -> None:
    assert cli("baseline", repo).code == 0
    assert (repo / ".servegate-baseline.json").exists()
    assert check(cli, repo).code == 1


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "does not exist"),
        ("{", "is not JSON"),
        ('{"version": 2, "entries": []}', "is not a servegate baseline"),
        ('{"version": 1, "entries": [{"rule": "x"}]}', "entry 1 has no valid fingerprint"),
    ],
)
def test_a_bad_baseline_is_a_usage_error(
    repo: Path, cli: CLI, content: str | None, says: str
) -> None:
    path = repo / "b.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    run = check(cli, repo, "--baseline", str(path))
    assert run.code == 2
    assert says in run.err
    assert len(run.err.strip().splitlines()) == 1
    assert "Traceback" not in run.err


def test_findings_that_mean_nothing_was_checked_are_never_baselined(tree: Tree, cli: CLI) -> None:
    repo = tree(
        {
            "broken.yaml": "a: [\n",
            "app/kustomization.yaml": "resources: [missing.yaml]\n",
        }
    )
    written = cli("baseline", repo)
    assert written.code == 0
    assert "wrote 0 baseline entries" in written.err
    assert "not baselined" in written.err
    run = check(cli, repo, "--baseline", str(repo / ".servegate-baseline.json"))
    assert run.code == 1
    # and a hand-written entry for each (their very fingerprints) does not hide them either
    found = check(cli, repo).json()["findings"]
    assert {"yaml.syntax", "repo.kustomize-error"} <= {f["rule"] for f in found}
    path = repo / "hand.json"
    write(path, entries([]))
    data = json.loads(path.read_text())
    data["entries"] = [{"fingerprint": f["fingerprint"], "rule": f["rule"]} for f in found]
    path.write_text(json.dumps(data), encoding="utf-8")
    hand = check(cli, repo, "--baseline", str(path))
    assert hand.code == 1
    assert rules(hand) == rules(check(cli, repo))
    assert rules(hand, "suppressed") == []
    assert not any(
        acceptable(f)
        for f in [
            Finding("yaml.syntax", Severity.ERROR, "invalid YAML", "broken.yaml", 2),
            Finding("repo.kustomize-error", Severity.ERROR, "no", "app/kustomization.yaml", 1),
        ]
    )


def test_sarif_baseline_states(repo: Path, cli: CLI) -> None:
    assert cli("baseline", repo).code == 0
    baseline = str(repo / ".servegate-baseline.json")
    (repo / "overlays/prod/kustomization.yaml").write_text(
        "namespace: ml-prod\nresources: [../../base]\npatches:\n"
        "- path: priv.yaml\n  target: {kind: Deployment}\n",
        encoding="utf-8",
    )
    (repo / "overlays/prod/priv.yaml").write_text(
        "- op: add\n  path: /spec/template/spec/containers/0/securityContext/privileged\n"
        "  value: true\n",
        encoding="utf-8",
    )
    run = cli("check", repo, "--format", "sarif", "--no-cache", "--baseline", baseline)
    assert run.code == 1
    doc = json.loads(run.out)
    schema = json.loads((upstream_dir() / "sarif/sarif-schema-2.1.0.json").read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert [e.message for e in validator.iter_errors(doc)] == []
    states = sorted(
        (r["ruleId"], r["baselineState"], "suppressions" in r) for r in doc["runs"][0]["results"]
    )
    assert states == [
        ("pss.allow-privilege-escalation", "unchanged", True),  # both overlays, one base line
        ("pss.host-namespaces", "absent", False),  # the patch is gone
        ("pss.privileged", "new", False),
    ]


def test_a_group_is_new_when_any_of_its_findings_is_new(repo: Path, cli: CLI) -> None:
    assert cli("baseline", repo).code == 0
    baseline = str(repo / ".servegate-baseline.json")
    (repo / "overlays/staging").mkdir()
    (repo / "overlays/staging/kustomization.yaml").write_text(
        "namespace: ml-staging\nresources: [../../base]\n", encoding="utf-8"
    )
    run = cli("check", repo, "--format", "sarif", "--no-cache", "--baseline", baseline)
    assert run.code == 1
    [grouped] = [
        r
        for r in json.loads(run.out)["runs"][0]["results"]
        if r["ruleId"] == "pss.allow-privilege-escalation"
    ]
    assert grouped["baselineState"] == "new"
    assert "suppressions" not in grouped
    assert len(grouped["locations"][0]["logicalLocations"]) == 3

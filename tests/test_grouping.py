"""Grouped reports (servegate.grouping): one defect in a shared base is one source line to fix.

A base Deployment without a hardened securityContext, used by three overlays, makes three
findings per rule: the text report, the GitHub annotations and SARIF show each rule's line once
with the three objects; JSON keeps one finding per object (the contract), with a stable
``group`` key.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from helpers import CLI, DEPLOYMENT_NO_APE, Tree, upstream_dir

from servegate.grouping import group_key, groups
from servegate.model import Finding, Severity
from servegate.resource import ResourceRef

BASE = DEPLOYMENT_NO_APE


def three_overlays(tree: Tree) -> Path:
    files: dict[str, str | bytes] = {
        "base/kustomization.yaml": "resources: [deploy.yaml]\n",
        "base/deploy.yaml": BASE,
    }
    for env in ("dev", "staging", "prod"):
        files[f"overlays/{env}/kustomization.yaml"] = (
            f"namespace: ml-{env}\nnamePrefix: {env}-\nresources: [../../base]\n"
        )
    return tree(files)


def test_text_shows_the_base_line_once_with_every_object(tree: Tree, cli: CLI) -> None:
    run = cli("check", three_overlays(tree), "--no-cache")
    assert run.code == 1
    lines = run.out.splitlines()
    heads = [line for line in lines if "pss.allow-privilege-escalation" in line]
    assert len(heads) == 1
    assert heads[0].startswith("base/deploy.yaml:18: error pss.allow-privilege-escalation ")
    assert heads[0].endswith("[3 objects]")
    at = lines.index(heads[0])
    assert lines[at + 1 : at + 4] == [
        "    Deployment ml-dev/dev-model",
        "    Deployment ml-prod/prod-model",
        "    Deployment ml-staging/staging-model",
    ]
    assert lines[-1].startswith("FAIL: 3 error(s)")
    assert lines[-1].endswith(", at 1 source line(s)")


def test_json_keeps_one_finding_per_object_with_a_stable_group(tree: Tree, cli: CLI) -> None:
    data = cli("check", three_overlays(tree), "--format", "json", "--no-cache").json()
    findings = data["findings"]
    assert len(findings) == 3
    assert {f["resource"]["name"] for f in findings} == {"dev-model", "staging-model", "prod-model"}
    assert {f["group"] for f in findings} == {"pss.allow-privilege-escalation@base/deploy.yaml:18"}
    assert len({f["fingerprint"] for f in findings}) == 3  # one per object: not the group


def test_sarif_one_result_per_line_with_the_objects(tree: Tree, cli: CLI) -> None:
    doc = json.loads(cli("check", three_overlays(tree), "--format", "sarif", "--no-cache").out)
    schema = json.loads((upstream_dir() / "sarif/sarif-schema-2.1.0.json").read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert [e.message for e in validator.iter_errors(doc)] == []
    [result] = doc["runs"][0]["results"]
    assert result["ruleId"] == "pss.allow-privilege-escalation"
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 18}
    names = [loc["fullyQualifiedName"] for loc in result["locations"][0]["logicalLocations"]]
    assert names == [
        "Deployment/ml-dev/dev-model",
        "Deployment/ml-prod/prod-model",
        "Deployment/ml-staging/staging-model",
    ]
    assert "3 objects: Deployment ml-dev/dev-model" in result["message"]["text"]
    assert result["properties"]["group"] == "pss.allow-privilege-escalation@base/deploy.yaml:18"


def test_github_one_annotation_per_line(tree: Tree, cli: CLI) -> None:
    out = cli("check", three_overlays(tree), "--format", "github", "--no-cache").out
    annotations = [line for line in out.splitlines() if line.startswith("::")]
    assert len(annotations) == 1
    assert annotations[0].startswith(
        "::error file=base/deploy.yaml,line=18,title=pss.allow-privilege-escalation::"
    )
    assert annotations[0].endswith(
        "[Deployment ml-dev/dev-model, Deployment ml-prod/prod-model, "
        "Deployment ml-staging/staging-model]"
    )


def test_junit_keeps_a_failure_per_object(tree: Tree, cli: CLI) -> None:
    out = cli("check", three_overlays(tree), "--format", "junit", "--no-cache").out
    assert out.count("<failure ") == 3


def _finding(rule: str, line: int, name: str, message: str = "m") -> Finding:
    ref = ResourceRef("v1", "Pod", "ns", name)
    return Finding(rule, Severity.ERROR, message, "base/pod.yaml", line, ref, "spec")


def test_group_key_is_rule_file_and_line() -> None:
    assert group_key(_finding("pss.privileged", 7, "a")) == "pss.privileged@base/pod.yaml:7"


def test_groups_keep_report_order_and_differing_messages() -> None:
    found = groups(
        [
            _finding("pss.b", 3, "x"),
            _finding("pss.a", 3, "y", "first"),
            _finding("pss.a", 3, "z", "second"),
            _finding("pss.b", 3, "w"),
        ]
    )
    assert [g.key for g in found] == ["pss.b@base/pod.yaml:3", "pss.a@base/pod.yaml:3"]
    assert [str(r) for r in found[0].resources] == ["Pod ns/w", "Pod ns/x"]
    assert not found[1].uniform
    assert found[1].message == "first"


def test_text_names_each_objects_message_when_they_differ(tmp_path: Path) -> None:
    from servegate.model import Report
    from servegate.report import text

    report = Report(tmp_path)
    report.findings = [_finding("pss.a", 3, "y", "first"), _finding("pss.a", 3, "z", "second")]
    lines = text.render(report, False).splitlines()
    assert lines[:3] == [
        "base/pod.yaml:3: error pss.a first [2 objects]",
        "    Pod ns/y",
        "    Pod ns/z: second",
    ]


def test_a_group_names_the_objects_one_units_policy_lowered(tmp_path: Path) -> None:
    """One base line, an error in prod and a warning in dev (dev's policy set lowered the
    rule): the line is shown once at its strongest, and dev's object says it is a warning."""
    from dataclasses import replace

    from servegate.model import Report
    from servegate.report import sarif, text

    prod = _finding("pss.privileged", 3, "prod")
    dev = replace(_finding("pss.privileged", 3, "dev"), severity=Severity.WARNING)
    report = Report(tmp_path)
    report.findings = [dev, prod]
    (group,) = groups(report.findings)
    assert group.severity is Severity.ERROR
    assert group.weaker() == {dev.resource: Severity.WARNING}
    assert text.render(report, False).splitlines()[:3] == [
        "base/pod.yaml:3: error pss.privileged m [2 objects]",
        "    Pod ns/prod",
        "    Pod ns/dev (warning)",
    ]
    (result,) = sarif.as_dict(report)["runs"][0]["results"]
    assert result["level"] == "error"
    assert result["message"]["text"] == "m [2 objects: Pod ns/prod, Pod ns/dev (warning)]"
    assert not groups([prod, _finding("pss.privileged", 3, "staging")])[0].weaker()

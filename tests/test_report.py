"""SARIF, JUnit and GitHub reports: pure functions of a Report, checked against their formats."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from helpers import PRIVILEGED_POD, upstream_dir

from servegate.model import Finding, Report, Severity, Unit
from servegate.report import github, junit, sarif
from servegate.resource import Origin, Resource, ResourceRef
from servegate.rules import all_rules

POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "debug", "namespace": "ml-prod"},
    "spec": {"containers": [{"name": "shell", "image": "busybox:1.36"}]},
}
CM: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "cfg", "namespace": "ml-prod"},
}
POD_REF = ResourceRef("v1", "Pod", "ml-prod", "debug")
CM_REF = ResourceRef("v1", "ConfigMap", "ml-prod", "cfg")


def sample(tmp_path: Path) -> Report:
    rule_ids = list(all_rules())
    known = "pss.privileged" if "pss.privileged" in rule_ids else rule_ids[0]
    report = Report(tmp_path)
    report.units = [
        Unit(
            "root:overlays/prod",
            "overlays/prod",
            "prod",
            [
                Resource.from_body(POD, Origin("base/pod.yaml")),
                Resource.from_body(CM, Origin("base/cm.yaml")),
            ],
        )
    ]
    report.resources = 2
    report.files = 3
    report.findings = [
        Finding(
            known,
            Severity.ERROR,
            "container 'shell': privileged: true, 100% bad,\nreally",
            "base/pod.yaml",
            9,
            POD_REF,
            "spec.containers[0].securityContext.privileged",
        ),
        Finding(
            "pss.run-as-non-root", Severity.ERROR, "may run as root", "base/pod.yaml", 7, POD_REF
        ),
        Finding("schema.unknown-kind", Severity.WARNING, "no schema", "base/cm.yaml", 1, CM_REF),
        Finding("yaml.duplicate-key", Severity.ERROR, "duplicate key 'a'", "stray.yaml", 3),
    ]
    report.suppressed = [
        Finding(
            "pss.seccomp",
            Severity.ERROR,
            "no seccomp profile",
            "base/pod.yaml",
            5,
            POD_REF,
            suppressed="debug pod, approved in TICKET-1",
        )
    ]
    return report


def test_sarif_validates_against_the_official_schema(tmp_path: Path) -> None:
    schema = json.loads((upstream_dir() / "sarif/sarif-schema-2.1.0.json").read_text())
    doc = json.loads(sarif.render(sample(tmp_path), False))
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [e.message for e in validator.iter_errors(doc)]
    assert errors == []


def test_sarif_carries_rule_metadata_locations_and_suppressions(tmp_path: Path) -> None:
    report = sample(tmp_path)
    run = json.loads(sarif.render(report, False))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    registry = all_rules()
    assert [r["id"] for r in rules[: len(registry)]] == list(registry)
    for descriptor in rules[: len(registry)]:
        assert descriptor["shortDescription"]["text"]
        assert descriptor["fullDescription"]["text"]
        assert descriptor["help"]["text"]
        assert descriptor["helpUri"].startswith("https://")
    results = run["results"]
    assert len(results) == len(report.findings) + len(report.suppressed)
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    first = results[0]
    assert first["level"] == "error"
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "base/pod.yaml", "uriBaseId": "SRCROOT"}
    assert location["region"] == {"startLine": 9}
    warning = next(r for r in results if r["ruleId"] == "schema.unknown-kind")
    assert warning["level"] == "warning"
    suppressed = [r for r in results if "suppressions" in r]
    assert [r["ruleId"] for r in suppressed] == ["pss.seccomp"]
    assert suppressed[0]["suppressions"] == [
        {"kind": "external", "justification": "debug pod, approved in TICKET-1"}
    ]
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"].startswith("file://")


def test_junit_one_failure_per_error_finding(tmp_path: Path) -> None:
    report = sample(tmp_path)
    text = junit.render(report, False)
    root = ET.fromstring(text)
    assert root.tag == "testsuites"
    failures = root.findall(".//testcase/failure")
    errors = [f for f in report.findings if f.severity is Severity.ERROR]
    assert len(failures) == len(errors) == 3
    assert sorted(f.get("type") or "" for f in failures) == sorted(f.rule for f in errors)
    failing_cases = [c for c in root.iter("testcase") if c.find("failure") is not None]
    assert int(root.get("failures") or 0) == len(failures)  # counts failure elements
    assert len(failing_cases) == 2
    cases = root.findall(".//testcase")
    # one case per resource and family: the pod's pss case holds both pss errors
    pod_pss = [
        c for c in cases if c.get("name") == "pss" and (c.get("classname") or "").endswith("debug")
    ]
    assert len(pod_pss) == 1
    assert len(pod_pss[0].findall("failure")) == 2
    assert "exempt: debug pod" in (pod_pss[0].findtext("system-out") or "")
    cm_cases = [c for c in cases if (c.get("classname") or "").endswith("cfg")]
    assert {c.get("name") for c in cm_cases} >= {"schema"}
    assert all(c.find("failure") is None for c in cm_cases)
    stray = [c for c in cases if c.get("name") == "yaml"]
    assert len(stray) == 1
    assert stray[0].find("failure") is not None


def test_junit_reads_back_with_junitparser(tmp_path: Path) -> None:
    junitparser = pytest.importorskip("junitparser")
    path = tmp_path / "report.xml"
    path.write_text(junit.render(sample(tmp_path), False), encoding="utf-8")
    xml = junitparser.JUnitXml.fromfile(str(path))
    failed = [
        r
        for suite in xml
        for case in suite
        for r in case.result
        if isinstance(r, junitparser.Failure)
    ]
    assert len(failed) == 3


def test_github_annotations_are_escaped(tmp_path: Path) -> None:
    lines = github.render(sample(tmp_path), False).splitlines()
    first = lines[0]
    assert first.startswith("::error file=base/pod.yaml,line=9,title=")
    assert "100%25 bad,%0Areally" in first
    assert "\n" not in first
    assert any(line.startswith("::warning file=base/cm.yaml,line=1,") for line in lines)
    assert sum(line.startswith("::error ") for line in lines) == 3
    assert not any("pss.seccomp" in line for line in lines)  # exempted: no annotation


def test_github_property_escaping() -> None:
    assert github.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def failing_repo(tmp_path: Path) -> Path:
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(Path(__file__).parent / "fixtures/model-repo", repo)
    (repo / ".git").mkdir()
    (repo / "overlays/prod/debug.yaml").write_text(PRIVILEGED_POD, encoding="utf-8")
    kfile = repo / "overlays/prod/kustomization.yaml"
    kfile.write_text(
        kfile.read_text().replace("- ../../base\n", "- ../../base\n- debug.yaml\n"),
        encoding="utf-8",
    )
    return repo


def test_cli_sarif_and_junit_of_a_failing_repo(tmp_path: Path, cli: Any) -> None:
    schema = json.loads((upstream_dir() / "sarif/sarif-schema-2.1.0.json").read_text())
    repo = failing_repo(tmp_path)
    as_json = cli("check", repo, "--format", "json")
    assert as_json.code == 1
    errors = [f for f in as_json.json()["findings"] if f["severity"] == "error"]
    assert any(f["rule"] == "pss.privileged" for f in errors)

    run = cli("check", repo, "--format", "sarif")
    assert run.code == 1
    doc = json.loads(run.out)
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert [e.message for e in validator.iter_errors(doc)] == []
    results = doc["runs"][0]["results"]
    privileged = [r for r in results if r["ruleId"] == "pss.privileged"]
    assert privileged
    location = privileged[0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "overlays/prod/debug.yaml"
    assert location["region"]["startLine"] == 10

    run = cli("check", repo, "--format", "junit")
    assert run.code == 1
    root = ET.fromstring(run.out)
    assert len(root.findall(".//testcase/failure")) == len(errors)

    run = cli("check", repo, "--format", "github")
    assert run.code == 1
    assert "::error file=overlays/prod/debug.yaml,line=10,title=pss.privileged::" in run.out


def test_text_summary_says_what_suppressed_each_finding(tmp_path: Path) -> None:
    """The text summary counts suppressions as the JSON report kinds them: exemptions, the
    repo's excludes (``repo.excluded`` notes), the operator's baseline."""
    from servegate.report import text

    report = sample(tmp_path)
    assert text.render(report).splitlines()[-1].endswith("; 1 suppressed by exemptions")
    report.suppressed.append(
        Finding(
            "repo.excluded",
            Severity.NOTE,
            "kustomize root x hidden",
            "servegate.yaml",
            4,
            suppressed="exclude: x/** (servegate.yaml)",
        )
    )
    assert (
        text.render(report)
        .splitlines()[-1]
        .endswith("; 2 suppressed (1 by excludes, 1 by exemptions)")
    )
    report.suppressed = report.suppressed[1:]
    assert text.render(report).splitlines()[-1].endswith("; 1 suppressed by excludes")

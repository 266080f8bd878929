"""Exemptions and the last step of a check (servegate/exemptions.py).

An exemption annotation covers the object that carries it, in the unit that renders it, and
nothing else: not a same-named object of another overlay or folder. A servegate.yaml entry
names one resource; an entry that fails its schema (no ``resource.kind``/``resource.name``,
or kind and name at the top level) is a finding and covers nothing.
"""

from __future__ import annotations

from pathlib import Path

from helpers import CLI, Run, Tree

from servegate.baseline import Matcher, entries, load, write
from servegate.config import Config, Exemption
from servegate.exemptions import finish, inline, marked
from servegate.model import Finding, Severity
from servegate.plan import Operator, Planner
from servegate.resource import Origin, Resource
from servegate.rules.pss.host_namespaces import RULE as HOST_NAMESPACES
from servegate.rules.pss.privileged import RULE as PRIVILEGED
from servegate.rules.yaml.syntax import RULE as YAML_SYNTAX

HOST_POD = """
apiVersion: v1
kind: Pod
metadata:
  name: evil
{annotations}spec:
  hostPID: true
  containers:
  - name: c
    image: busybox:1.36
"""
EXEMPT = (
    "  annotations:\n    servegate.io/exempt.pss.host-namespaces: node exporter reads host PIDs\n"
)


def rules_at(run: Run, where: str = "findings") -> set[tuple[str, str]]:
    return {(f["rule"], f["file"]) for f in run.json()[where]}


def test_an_annotation_covers_its_object_in_its_folder_only(cli: CLI, tree: Tree) -> None:
    root = tree(
        {
            "apps/a/pod.yaml": HOST_POD.format(annotations=EXEMPT),
            "apps/b/pod.yaml": HOST_POD.format(annotations=""),
        }
    )
    run = cli("check", root, "--format", "json", "--select", "pss.host-namespaces")
    assert run.code == 1
    assert rules_at(run) == {("pss.host-namespaces", "apps/b/pod.yaml")}
    assert rules_at(run, "suppressed") == {("pss.host-namespaces", "apps/a/pod.yaml")}


def test_an_annotation_covers_its_object_in_its_overlay_only(cli: CLI, tree: Tree) -> None:
    host = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: evil\n{more}spec:\n  hostNetwork: true\n"
    pod = HOST_POD.format(annotations="").replace("  hostPID: true\n", "")
    overlay = "namespace: ml\nresources: [../../base]\npatches:\n- path: host.yaml\n"
    root = tree(
        {
            "base/kustomization.yaml": "resources: [pod.yaml]\n",
            "base/pod.yaml": pod,
            "overlays/us/kustomization.yaml": overlay,
            "overlays/us/host.yaml": host.format(more=EXEMPT),
            "overlays/eu/kustomization.yaml": overlay,
            "overlays/eu/host.yaml": host.format(more=""),
        }
    )
    run = cli("check", root, "--format", "json", "--select", "pss.host-namespaces")
    assert run.code == 1
    assert rules_at(run) == {("pss.host-namespaces", "overlays/eu/host.yaml")}
    assert rules_at(run, "suppressed") == {("pss.host-namespaces", "overlays/us/host.yaml")}


def test_a_malformed_exemption_covers_nothing(cli: CLI, tree: Tree) -> None:
    entries = {
        "top-level kind and name": "- rule: pss.host-namespaces\n  kind: Pod\n  name: harmless\n"
        "  reason: node exporter\n",
        "no name": "- rule: pss.host-namespaces\n  resource: {kind: Pod}\n  reason: node exporter\n",
        "no kind": "- rule: pss\n  resource: {name: evil}\n  reason: node exporter\n",
        "no resource": "- rule: pss\n  reason: node exporter\n",
        "not a mapping": "- pss.host-namespaces\n",
    }
    for label, entry in entries.items():
        root = tree(
            {
                "servegate.yaml": "version: 1\nexemptions:\n" + entry,
                "evil.yaml": HOST_POD.format(annotations=""),
            }
        )
        run = cli("check", root, "--format", "json")
        assert run.code == 1, label
        found = run.json()
        assert ("repo.exemption-invalid", "servegate.yaml") in rules_at(run), label
        assert ("pss.host-namespaces", "evil.yaml") in rules_at(run), label
        assert not found["suppressed"], label
        invalid = [f for f in found["findings"] if f["rule"] == "repo.exemption-invalid"]
        assert invalid[0]["line"] == 3, label


def test_valid_entries_apply_beside_an_invalid_one(cli: CLI, tree: Tree) -> None:
    root = tree(
        {
            "servegate.yaml": "version: 1\nexemptions:\n- rule: pss\n  resource: {kind: Pod, name: evil}\n"
            "  reason: a family exemption\n- rule: pss.privileged\n  reason: no resource\n",
            "evil.yaml": HOST_POD.format(annotations=""),
        }
    )
    run = cli("check", root, "--format", "json")
    suppressed = rules_at(run, "suppressed")
    assert ("pss.host-namespaces", "evil.yaml") in suppressed
    assert {rule.partition(".")[0] for rule, _ in suppressed} == {"pss"}
    assert ("repo.exemption-invalid", "servegate.yaml") in rules_at(run)
    assert not any(rule.startswith("pss.") for rule, _ in rules_at(run))


def resource(name: str, annotations: dict[str, str] | None = None) -> Resource:
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}}
    if annotations is not None:
        body["metadata"]["annotations"] = annotations  # type: ignore[index]
    return Resource.from_body(body, Origin("pod.yaml"))


def test_inline_reads_reasons_and_reports_blank_ones() -> None:
    covered, invalid = inline(
        resource("p", {"servegate.io/exempt.pss": "why", "servegate.io/exempt.image": " "}),
        "plain:.:",
    )
    assert covered == {"pss": "why"}
    assert [(f.rule, f.unit) for f in invalid] == [("repo.exemption-invalid", "plain:.:")]
    finding = PRIVILEGED.finding("m", "pod.yaml", 3)
    assert marked(finding, covered).suppressed == "why"
    assert marked(finding, {"image": "x"}).suppressed is None


def test_finish_keeps_the_strongest_of_one_finding_reached_twice(tmp_path: Path) -> None:
    planner = Planner(tmp_path, Operator(), Config())
    planner.register("root:a", None)
    planner.register("root:b", None)
    ref = resource("p").ref
    quiet = HOST_NAMESPACES.finding("m", "base/pod.yaml", 4, ref, unit="root:a")
    loud = HOST_NAMESPACES.finding("m", "base/pod.yaml", 4, ref, unit="root:b")
    findings, suppressed = finish(
        [marked(quiet, {"pss": "exempt in a"}), loud], planner.plans_for, []
    )
    assert [(f.rule, f.severity, f.suppressed) for f in findings] == [
        ("pss.host-namespaces", Severity.ERROR, None)
    ]
    assert suppressed == []
    entry = Exemption("pss.host-namespaces", "Pod", "p", None, "listed", None, "servegate.yaml", 3)
    findings, suppressed = finish([loud], planner.plans_for, [entry])
    assert findings == [] and [f.suppressed for f in suppressed] == ["listed"]
    other = Exemption("pss.host-namespaces", "Pod", "q", None, "listed", None, "servegate.yaml", 3)
    assert finish([loud], planner.plans_for, [other])[0] == [loud]


def _baseline_of(tmp_path: Path, *accepted: Finding) -> Matcher:
    path = tmp_path / "accepted.json"
    write(path, entries(accepted))
    return Matcher(load(path, str(path)), tmp_path, whole_repo=True)


def test_the_baseline_is_the_last_suppression_of_finish(tmp_path: Path) -> None:
    """A baselined finding is suppressed with the baseline's reason after the plan and the
    exemptions: an exempted one keeps its exemption (and its entry counts as matched), one the
    plan does not select is dropped (its entry is not stale either), an unmatched entry is a
    note the plan selects like any finding, and a finding the baseline never accepts stays."""
    ref = resource("p").ref
    host = HOST_NAMESPACES.finding("m", "pod.yaml", 4, ref, unit="root:a")
    priv = PRIVILEGED.finding("m", "pod.yaml", 9, ref, unit="root:a")
    new = PRIVILEGED.finding("m", "pod.yaml", 12, ref, path="spec.x", unit="root:a")
    gone = HOST_NAMESPACES.finding("m", "pod.yaml", 4, resource("q").ref, unit="root:a")
    unreadable = YAML_SYNTAX.finding("invalid YAML", "broken.yaml", 2)
    planner = Planner(tmp_path, Operator(), Config())
    planner.register("root:a", None)
    matcher = _baseline_of(tmp_path, host, priv, gone, unreadable)
    findings, suppressed = finish(
        [marked(priv, {"pss.privileged": "exempt"}), host, new, unreadable],
        planner.plans_for,
        [],
        matcher,
    )
    assert [(f.rule, f.file, f.line) for f in findings] == [
        ("repo.baseline-unmatched", "accepted.json", 20),
        ("yaml.syntax", "broken.yaml", 2),
        ("pss.privileged", "pod.yaml", 12),
    ]
    assert "pss.host-namespaces on Pod q" in findings[0].message
    assert [(f.rule, f.suppressed) for f in suppressed] == [
        ("pss.host-namespaces", matcher.baseline.reason),
        ("pss.privileged", "exempt"),
    ]
    use = matcher.use()
    assert (use.location, use.matched, use.unmatched) == (
        "accepted.json",
        3,
        (("pss.host-namespaces", "m", 20),),
    )

    ignoring = Planner(tmp_path, Operator(ignore=("pss", "repo.baseline-unmatched")), Config())
    ignoring.register("root:a", None)
    matcher = _baseline_of(tmp_path, host)
    findings, suppressed = finish([host], ignoring.plans_for, [], matcher)
    assert (findings, suppressed) == ([], [])
    assert matcher.use().matched == 1 and matcher.notes() == []


def test_a_narrowed_run_reports_no_stale_entry(tmp_path: Path) -> None:
    ref = resource("p").ref
    host = HOST_NAMESPACES.finding("m", "pod.yaml", 4, ref, unit="root:a")
    planner = Planner(tmp_path, Operator(), Config())
    planner.register("root:a", None)
    path = tmp_path / "b.json"
    write(path, entries([host]))
    narrowed = Matcher(load(path), tmp_path, whole_repo=False)
    assert finish([], planner.plans_for, [], narrowed) == ([], [])
    assert narrowed.use().unmatched == ()

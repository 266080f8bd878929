"""The trust boundary (servegate/trust.py, applied by servegate/plan.py): the checked repo may
tighten the operator's policy and record exemptions in its root servegate.yaml, nothing more.

Each weakening route is tried here with inputs of its own: a repo policy set shadowing a
bundled one (ignores, severities, level, allow-lists), a repo environment profile, a nested
servegate.yaml (exemptions, environments, policy), exemption wildcards, unknown rule ids, and a
servegate.yaml above the repo root; the operator's ``--allow-repo-weakening`` lets it all
through.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from helpers import CLI, PRIVILEGED_POD, Tree, write_tree

from servegate import trust
from servegate.model import Severity

#: A Namespace-less privileged Pod, `ml/evil`.
EVIL = PRIVILEGED_POD.replace("name: debug", "name: evil")


def rules_of(run: Any, where: str = "findings") -> set[str]:
    return {f["rule"] for f in run.json()[where]}


def weakenings(run: Any) -> list[tuple[str, int]]:
    return [
        (f["file"], f["line"])
        for f in run.json()["findings"]
        if f["rule"] == "repo.policy-weakening"
    ]


# -- the merge rules ------------------------------------------------------------------------


def test_allow_lists_only_narrow() -> None:
    merged, found = trust.params({"allowedRegistries": []}, {"allowedRegistries": ["a.io"]})
    assert merged == {"allowedRegistries": ["a.io"]} and not found
    merged, found = trust.params({"allowedRegistries": ["a.io"]}, {"allowedRegistries": []})
    assert merged == {"allowedRegistries": ["a.io"]} and len(found) == 1
    merged, found = trust.params(
        {"allowedStorageSchemes": ["s3", "gs"]}, {"allowedStorageSchemes": ["gs", "http"]}
    )
    assert merged == {"allowedStorageSchemes": ["gs"]} and "http" in found[0].message


def test_requirements_only_switch_on_and_cluster_facts_stay_the_operators() -> None:
    assert trust.params({"requireDigest": False}, {"requireDigest": True})[0]["requireDigest"]
    merged, found = trust.params({"requireDigest": True}, {"requireDigest": False})
    assert merged["requireDigest"] is True and found
    merged, found = trust.params(
        {"istioRootNamespace": "istio-system"}, {"istioRootNamespace": "x"}
    )
    assert merged["istioRootNamespace"] == "istio-system" and found


def test_severities_rise_never_fall() -> None:
    defaults = {"a.b": Severity.ERROR, "a.c": Severity.WARNING}
    merged, found = trust.severities(defaults, {}, {"a.b": Severity.NOTE, "a.c": Severity.ERROR})
    assert merged == {"a.c": Severity.ERROR}
    assert [w.where for w in found] == [("rules", "severity", "a.b")]


def test_ignores_may_only_keep_what_the_operator_ignores() -> None:
    def matches(rule: str, patterns: Any) -> bool:
        return any(rule == p or rule.startswith(p + ".") for p in patterns)

    ids = ["pss.a", "pss.b", "rbac.c"]
    kept, found = trust.ignores(ids, ["pss.a"], ["pss", "rbac.c"], matches)
    assert kept == ("pss.a",)
    assert [w.where for w in found] == [("rules", "ignore", 0), ("rules", "ignore", 1)]
    kept, found = trust.ignores(ids, ["pss"], [], matches)
    assert kept == () and not found, "the repo may run more rules"


def test_profiles_never_relax_level_mtls_or_canary() -> None:
    ref = {"podSecurity": "restricted", "mtls": "STRICT", "requireCanary": True}
    merged, found = trust.profile(
        ref, {"podSecurity": "baseline", "mtls": "PERMISSIVE", "requireCanary": False}
    )
    assert (merged["podSecurity"], merged["mtls"], merged["requireCanary"]) == (
        "restricted",
        "STRICT",
        True,
    )
    assert len(found) == 3


def test_the_mesh_facts_that_relax_are_the_operators() -> None:
    """A repo may say which mesh its cluster runs, except "none" (which switches off the mTLS
    rules); its profile may not allow a privileged namespace the operator's does not."""
    merged, found = trust.params({}, {"mesh": "istio-cni"}, ("policy",))
    assert merged == {"mesh": "istio-cni"} and not found
    merged, found = trust.params({}, {"mesh": "none"}, ("policy",))
    assert "mesh" not in merged and [w.where for w in found] == [("policy", "mesh")]
    assert trust.params({"mesh": "none"}, {"mesh": "none"})[1] == []
    merged, found = trust.profile(
        {"podSecurity": "restricted"}, {"allowPrivilegedNamespace": True, "mesh": "none"}
    )
    assert merged["allowPrivilegedNamespace"] is False and "mesh" not in merged
    assert {w.where for w in found} == {("allowPrivilegedNamespace",), ("mesh",)}
    merged, found = trust.profile(
        {"allowPrivilegedNamespace": True}, {"allowPrivilegedNamespace": True}
    )
    assert merged["allowPrivilegedNamespace"] is True and not found


def test_profiles_never_judge_pods_at_an_older_pod_security_version() -> None:
    ref = {"podSecurityVersion": "v1.34", "podSecurityMinVersion": "v1.33"}
    repo = {"podSecurityVersion": "v1.30", "podSecurityMinVersion": "v1.25"}
    merged, found = trust.profile(ref, repo)
    assert {k: merged[k] for k in ref} == ref
    assert sorted(w.where[0] for w in found) == ["podSecurityMinVersion", "podSecurityVersion"]
    # the reference judges at latest: any pin is older; a newer minimum only tightens
    merged, found = trust.profile(
        {}, {"podSecurityVersion": "v1.33", "podSecurityMinVersion": "v1.35"}
    )
    assert "podSecurityVersion" not in merged and merged["podSecurityMinVersion"] == "v1.35"
    assert [w.where for w in found] == [("podSecurityVersion",)]
    # leaving the operator's minimum out keeps it
    merged, found = trust.profile({"podSecurityMinVersion": "v1.33"}, {"mesh": "ambient"})
    assert (merged["podSecurityMinVersion"], merged["mesh"]) == ("v1.33", "ambient") and not found
    _, found = trust.profile(
        {"podSecurityMinVersion": "v1.33"}, {"podSecurityMinVersion": "latest"}
    )
    assert [w.where for w in found] == [("podSecurityMinVersion",)]


# -- the repo's policies/ and environments/ ----------------------------------------------------


@pytest.mark.parametrize(
    "policy",
    [
        "name: restricted\nrules:\n  ignore: [pss]\n",
        "name: restricted\nrules:\n  ignore: [pss.privileged, pss.host-namespaces]\n",
        "name: restricted\npodSecurity: baseline\nrules:\n  ignore: [pss.run-as-non-root]\n",
        "name: restricted\nrules:\n  severity: {pss.privileged: note, pss.host-namespaces: warning}\n",
        "name: anything-else\nrules:\n  ignore: [pss, rbac]\n",  # a rename changes nothing
    ],
)
def test_a_repo_policy_set_cannot_relax_the_bundled_one(cli: CLI, tree: Tree, policy: str) -> None:
    root = tree({"pod.yaml": EVIL, "policies/restricted.yaml": policy})
    run = cli("check", root, "--format", "json")
    assert run.code == 1
    errors = {(f["rule"], f["severity"]) for f in run.json()["findings"]}
    assert ("pss.privileged", "error") in errors
    assert weakenings(run) and all(f == "policies/restricted.yaml" for f, _ in weakenings(run))
    trusting = cli("check", root, "--format", "json", "--allow-repo-weakening")
    assert not weakenings(trusting)
    relaxed = {(f["rule"], f["severity"]) for f in trusting.json()["findings"]}

    def pss_errors(found: set[tuple[str, str]]) -> set[str]:
        return {r for r, s in found if r.startswith("pss.") and s == "error"}

    assert pss_errors(relaxed) < pss_errors(errors), "the operator's trust lets the set apply"


def test_a_repo_profile_cannot_shadow_the_bundled_one_with_a_weaker_policy(
    cli: CLI, tree: Tree
) -> None:
    prod = (Path(__file__).parents[1] / "environments/prod.yaml").read_text(encoding="utf-8")
    weaker = prod.replace("policySet: restricted", "policySet: baseline").replace(
        "podSecurity: restricted", "podSecurity: baseline"
    )
    root = tree(
        {
            "servegate.yaml": "version: 1\nenvironments:\n  apps: prod\n",
            "environments/prod.yaml": weaker,
            "apps/pod.yaml": EVIL.replace("privileged: true", "privileged: false"),
        }
    )
    run = cli("check", root, "--format", "json")
    assert "pss.run-as-non-root" in rules_of(run)  # restricted still applies
    assert {f for f, _ in weakenings(run)} == {"environments/prod.yaml"}


def test_an_invalid_repo_policy_set_is_a_finding_and_not_applied(cli: CLI, tree: Tree) -> None:
    root = tree(
        {
            "pod.yaml": EVIL,
            "policies/restricted.yaml": "name: restricted\nrules:\n  ignore: [pss.privilegd]\n",
        }
    )
    run = cli("check", root, "--format", "json")
    invalid = [f for f in run.json()["findings"] if f["rule"] == "repo.config-invalid"]
    assert invalid and invalid[0]["file"] == "policies/restricted.yaml"
    assert invalid[0]["line"] == 3 and "pss.privileged" in invalid[0]["message"]
    assert "pss.privileged" in rules_of(run)


# -- servegate.yaml files -------------------------------------------------------------------


MONO = {
    "servegate.yaml": "version: 1\nenvironments:\n  models/*/overlays/prod: prod\n"
    "  models/*/overlays/dev: dev\n",
    "models/x/overlays/prod/kustomization.yaml": "namespace: ml-prod\nresources: [pod.yaml]\n",
    "models/x/overlays/prod/pod.yaml": EVIL,
}


@pytest.mark.parametrize(
    ("nested", "line"),
    [
        # exemptions count only at the root
        (
            "version: 1\nexemptions:\n  - rule: pss\n    resource: {kind: Pod, name: evil}\n"
            "    reason: nested\n",
            2,
        ),
        # an environment weaker than the root's (prod needs a canary; dev does not)
        ("version: 1\nenvironments:\n  overlays/prod: dev\n", 3),
        ("version: 1\nenvironments:\n  '*/prod': dev\n", 3),
        # an allow-list wider than the root's
        ("version: 1\npolicy:\n  requireDigest: false\n", 2),
        # excludes count only at the root
        ("version: 1\nexclude: [overlays]\n", 2),
    ],
)
def test_a_nested_servegate_yaml_may_only_tighten(
    cli: CLI, tree: Tree, nested: str, line: int
) -> None:
    root = tree(
        {
            **MONO,
            "servegate.yaml": MONO["servegate.yaml"] + "policy:\n  requireDigest: true\n",
            "models/x/servegate.yaml": nested,
        }
    )
    run = cli("check", root, "--format", "json")
    assert run.code == 1 and "pss.privileged" in rules_of(run)
    assert ("models/x/servegate.yaml", line) in weakenings(run)
    assert not run.json()["suppressed"]


def test_a_nested_ignore_or_select_is_invalid_and_not_applied(cli: CLI, tree: Tree) -> None:
    root = tree({**MONO, "models/x/servegate.yaml": "version: 1\nignore: [pss]\n"})
    run = cli("check", root, "--format", "json")
    assert "pss.privileged" in rules_of(run)
    assert any(
        f["rule"] == "repo.config-invalid" and f["file"] == "models/x/servegate.yaml"
        for f in run.json()["findings"]
    )


def test_a_nested_servegate_yaml_tightens_its_folder(cli: CLI, tree: Tree) -> None:
    clean = EVIL.replace("privileged: true", "privileged: false")
    root = tree(
        {
            **MONO,
            "models/x/overlays/prod/pod.yaml": clean,
            "models/x/servegate.yaml": "version: 1\npolicy:\n  allowedRegistries: [r.example]\n",
        }
    )
    run = cli("check", root, "--format", "json")
    assert "image.registry" in rules_of(run) and not weakenings(run)


def test_exemptions_are_never_wildcards(cli: CLI, tree: Tree) -> None:
    root = tree(
        {
            "pod.yaml": EVIL,
            "servegate.yaml": "version: 1\nexemptions:\n"
            "  - {rule: pss.privileged, resource: {kind: Pod}, reason: no name}\n"
            "  - {rule: pss.privileged, resource: {name: evil}, reason: no kind}\n"
            "  - {rule: pss.privileged, resource: {kind: Pod, name: '*'}, reason: star}\n"
            "  - {rule: pss.privilegd, resource: {kind: Pod, name: evil}, reason: typo}\n",
        }
    )
    run = cli("check", root, "--format", "json")
    assert "pss.privileged" in rules_of(run) and not run.json()["suppressed"]
    invalid = [f for f in run.json()["findings"] if f["rule"] == "repo.exemption-invalid"]
    assert sorted(f["line"] for f in invalid) == [3, 4, 6]
    assert "did you mean pss.privileged" in invalid[-1]["message"]


def test_a_root_exemption_is_listed_as_suppressed(cli: CLI, tree: Tree) -> None:
    root = tree(
        {
            "pod.yaml": EVIL,
            "servegate.yaml": "version: 1\nexemptions:\n"
            "  - {rule: pss, resource: {kind: Pod, name: evil}, reason: a test of listing}\n",
        }
    )
    run = cli("check", root, "--format", "json")
    assert "pss.privileged" in rules_of(run, "suppressed")
    assert "pss.privileged" not in rules_of(run)


def test_a_servegate_yaml_above_the_repo_root_is_not_read(cli: CLI, tmp_path: Path) -> None:
    above = (
        "version: 1\nexemptions:\n  - {rule: pss, resource: {kind: Pod, name: evil}, reason: x}\n"
    )
    write_tree(tmp_path, {"servegate.yaml": above, "repo/pod.yaml": EVIL})
    (tmp_path / "repo/.git").mkdir()
    run = cli("check", tmp_path / "repo", "--format", "json")
    assert "pss.privileged" in rules_of(run) and not run.json()["suppressed"]


def test_check_in_a_model_folder_reads_the_repo_roots_configuration(cli: CLI, tree: Tree) -> None:
    root = tree(
        {
            **MONO,
            "servegate.yaml": MONO["servegate.yaml"] + "exemptions:\n"
            "  - {rule: pss, resource: {kind: Pod, name: evil}, reason: listed}\n",
        }
    )
    cwd = Path.cwd()
    os.chdir(root / "models/x")
    try:
        run = cli("check", ".", "--format", "json")
    finally:
        os.chdir(cwd)
    assert "pss.privileged" in rules_of(run, "suppressed")


# -- the operator ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--select", "pss.privilegd"), "did you mean pss.privileged"),
        (("--ignore", "kserv"), "did you mean kserve"),
    ],
)
def test_unknown_rule_ids_from_the_operator_are_usage_errors(
    cli: CLI, tree: Tree, args: tuple[str, ...], needle: str
) -> None:
    run = cli("check", tree({"pod.yaml": EVIL}), *args)
    assert run.code == 2 and needle in run.err


def test_the_operator_configuration(cli: CLI, tree: Tree, tmp_path_factory: Any) -> None:
    root = tree(
        {"pod.yaml": EVIL, "policies/restricted.yaml": "name: x\nrules:\n  ignore: [pss]\n"}
    )
    operator = tmp_path_factory.mktemp("operator")
    good = write_tree(operator, {"op.yaml": "version: 1\nallowRepoWeakening: true\n"})
    run = cli("check", root, "--format", "json", "--operator-config", good / "op.yaml")
    assert "pss.privileged" not in rules_of(run) and not weakenings(run)
    write_tree(operator, {"bad.yaml": "version: 1\nignore: [pss.privilegd]\n"})
    bad = cli("check", root, "--operator-config", operator / "bad.yaml")
    assert bad.code == 2 and "did you mean pss.privileged" in bad.err
    write_tree(operator, {"typo.yaml": "version: 1\nallowRepoWeaknening: true\n"})
    typo = cli("check", root, "--operator-config", operator / "typo.yaml")
    assert typo.code == 2 and "typo.yaml:2" in typo.err


def test_operator_policy_sets_naming_unknown_rules_are_usage_errors(
    cli: CLI, tree: Tree, tmp_path_factory: Any
) -> None:
    sets = write_tree(
        tmp_path_factory.mktemp("sets"), {"restricted.yaml": "name: r\nrules:\n  ignore: [psss]\n"}
    )
    run = cli("check", tree({"pod.yaml": EVIL}), "--policies", sets)
    assert run.code == 2 and "did you mean pss" in run.err


def test_a_repo_crd_cannot_replace_a_schema_servegate_has(cli: CLI, tree: Tree) -> None:
    """A permissive CRD for InferenceService (or a core kind) in the repo's crds: folder is
    not used; a CRD for a kind servegate does not know is."""
    crd = (
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "metadata: {name: x}\nspec:\n  group: GROUP\n  names: {kind: KIND, plural: p}\n"
        "  scope: Namespaced\n  versions:\n  - name: VERSION\n    served: true\n"
        "    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n"
        "        x-kubernetes-preserve-unknown-fields: true\n"
    )
    isvc = (
        "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\n"
        "metadata: {name: m, namespace: ml}\nspec: {nonsense: 1}\n"
    )
    root = tree(
        {
            "servegate.yaml": "version: 1\ncrds: [crds]\n",
            "crds/isvc.yaml": crd.replace("GROUP", "serving.kserve.io")
            .replace("KIND", "InferenceService")
            .replace("VERSION", "v1beta1"),
            "crds/widget.yaml": crd.replace("GROUP", "example.com")
            .replace("KIND", "Widget")
            .replace("VERSION", "v1"),
            "isvc.yaml": isvc,
            "widget.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
        }
    )
    run = cli("check", root, "--format", "json", "--select", "schema,repo")
    found = {(f["rule"], f["file"]) for f in run.json()["findings"]}
    assert ("schema.invalid", "isvc.yaml") in found
    assert ("repo.policy-weakening", "servegate.yaml") in found
    assert not any(f == "widget.yaml" for _, f in found)
    trusting = cli(
        "check", root, "--format", "json", "--select", "schema", "--allow-repo-weakening"
    )
    assert trusting.json()["findings"] == []


WIDGET_CRD = (
    "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
    "metadata: {name: widgets.example.com}\nspec:\n  group: example.com\n"
    "  names: {kind: Widget, plural: widgets}\n  scope: Namespaced\n  versions:\n"
    "  - name: v1\n    served: true\n    storage: true\n    schema:\n"
    "      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}\n"
)


@pytest.mark.parametrize(
    ("files", "where", "needle"),
    [
        ({"crds/bad.yaml": "a: [1\n"}, ("crds/bad.yaml", 2), "crds/bad.yaml:2"),
        (
            {"crds/w.yaml": WIDGET_CRD.replace("  names: {kind: Widget, plural: widgets}\n", "")},
            ("crds/w.yaml", 1),
            "without spec.names",
        ),
        ({"crds/w.yaml": WIDGET_CRD, "crds/x.yaml": ""}, ("crds/x.yaml", 1), "not UTF-8"),
    ],
)
def test_a_repo_crd_that_cannot_be_used_is_a_finding(
    cli: CLI, tree: Tree, files: dict[str, str], where: tuple[str, int], needle: str
) -> None:
    """A CRD in the repo's ``crds:`` folder that does not read or derive is repo content, so
    ``repo.config-invalid`` at its file and line (exit 1, a report), not a usage error; then no
    repo CRD applies and a Widget is an unknown kind."""
    widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: ml}\n"
    root = tree({"servegate.yaml": "version: 1\ncrds: [crds]\n", "widget.yaml": widget, **files})
    if "crds/x.yaml" in files:
        (root / "crds/x.yaml").write_bytes(b"\xff\xfe\x00bad")
    run = cli("check", root, "--format", "json", "--select", "schema,repo")
    assert run.code == 1, run.err
    invalid = [f for f in run.json()["findings"] if f["rule"] == "repo.config-invalid"]
    assert len(invalid) == 1 and needle in invalid[0]["message"], invalid
    assert (invalid[0]["file"], invalid[0]["line"]) == where
    assert ("schema.unknown-kind", "widget.yaml") in {
        (f["rule"], f["file"]) for f in run.json()["findings"]
    }


@pytest.mark.parametrize("entry", ["missing", "../outside", "/etc"])
def test_a_crds_entry_that_is_missing_or_leaves_the_repo_is_a_finding(
    cli: CLI, tree: Tree, entry: str
) -> None:
    root = tree({"servegate.yaml": f"version: 1\ncrds: [{entry}]\n", "pod.yaml": EVIL})
    run = cli("check", root, "--format", "json", "--select", "repo,pss")
    assert run.code == 1, run.err
    found = {(f["rule"], f["file"], f["line"]) for f in run.json()["findings"]}
    assert ("repo.config-invalid", "servegate.yaml", 2) in found
    assert "pss.privileged" in rules_of(run)


def test_a_repo_crd_symlinked_out_of_the_repo_is_not_read(
    cli: CLI, tree: Tree, tmp_path_factory: Any
) -> None:
    outside = tmp_path_factory.mktemp("outside") / "w.yaml"
    outside.write_text(WIDGET_CRD)
    root = tree({"servegate.yaml": "version: 1\ncrds: [crds]\n", "crds/.keep": ""})
    (root / "crds/w.yaml").symlink_to(outside)
    run = cli("check", root, "--format", "json", "--select", "repo")
    invalid = [f for f in run.json()["findings"] if f["rule"] == "repo.config-invalid"]
    assert len(invalid) == 1 and "leads out of the repo" in invalid[0]["message"]
    assert invalid[0]["file"] == "crds/w.yaml" and str(outside) not in invalid[0]["message"]


def test_an_inline_exemption_must_name_a_rule(cli: CLI, tree: Tree) -> None:
    pod = EVIL.replace(
        "metadata:\n", "metadata:\n  annotations:\n    servegate.io/exempt.pss.privilegd: typo\n", 1
    )
    run = cli("check", tree({"pod.yaml": pod}), "--format", "json")
    invalid = [f for f in run.json()["findings"] if f["rule"] == "repo.exemption-invalid"]
    assert invalid and "did you mean pss.privileged" in invalid[0]["message"]
    assert "pss.privileged" in rules_of(run)


def test_an_invalid_repo_profile_is_a_finding_and_the_operators_applies(
    cli: CLI, tree: Tree
) -> None:
    root = tree(
        {
            "servegate.yaml": "version: 1\nenvironments:\n  apps: prod\n",
            "environments/prod.yaml": "version: 1\nname: prod\npodSecurity: none\n",
            "apps/pod.yaml": EVIL,
        }
    )
    run = cli("check", root, "--format", "json")
    found = {(f["rule"], f["file"]) for f in run.json()["findings"]}
    assert ("repo.config-invalid", "environments/prod.yaml") in found
    assert ("pss.privileged", "apps/pod.yaml") in found


def test_a_kustomization_at_the_root_keeps_the_root_exemptions(cli: CLI, tree: Tree) -> None:
    """The root folder's own servegate.yaml is the root file, not a nested one (an overlay at
    ``.`` read it twice and reported its exemptions as counting only at the root)."""
    root = tree(
        {
            "kustomization.yaml": "resources: [pod.yaml]\n",
            "pod.yaml": EVIL,
            "servegate.yaml": "version: 1\nexemptions:\n"
            "  - {rule: pss, resource: {kind: Pod, name: evil}, reason: a debug pod}\n",
        }
    )
    run = cli("check", root, "--format", "json")
    assert not weakenings(run) and "pss.privileged" in rules_of(run, "suppressed")


def test_an_unknown_profile_in_the_repo_is_a_finding_not_a_usage_error(
    cli: CLI, tree: Tree
) -> None:
    """servegate.yaml is the checked repo's configuration: a folder mapped to a profile that
    does not exist is repo.config-invalid at the mapping (exit 1), and the folder is checked
    with the strictest defaults; the operator's own --env naming none stays a usage error."""
    root = tree(
        {
            "models/x/pod.yaml": EVIL,
            "servegate.yaml": "version: 1\nenvironments:\n  models/x: nosuch\n",
        }
    )
    run = cli("check", root, "--format", "json")
    assert run.code == 1 and "pss.privileged" in rules_of(run)
    (found,) = [f for f in run.json()["findings"] if f["rule"] == "repo.config-invalid"]
    assert (found["file"], found["line"]) == ("servegate.yaml", 3)
    assert cli("check", root, "--env", "nosuch").code == 2

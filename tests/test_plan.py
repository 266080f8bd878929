"""The plan (servegate/plan.py): each unit is checked with its own environment's policy.

A unit's severities, ignores (the rules the pipeline reports itself included) and Pod Security
level come from its own plan, never from another unit's, whether the whole repo or one overlay
is checked. The policy sets here are the operator's (``--policies DIR``, outside the checked
repo) or servegate's bundled ones; the repo only maps its folders to environment profiles.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from helpers import CLI, Run, Tree, write_tree

from servegate.config import Config
from servegate.errors import UsageError
from servegate.evaluate import dispatch_of
from servegate.plan import Operator, Plan, Planner, Trust, parse_k8s_version
from servegate.rules import get_rule
from servegate.rules.base import Context, Level
from servegate.rules.pss.host_namespaces import RULE as HOST_NAMESPACES
from servegate.rules.pss.privileged import RULE as PRIVILEGED
from servegate.rules.pss.run_as_non_root import RULE as RUN_AS_NON_ROOT
from servegate.rules.repo.kustomize_error import RULE as KUSTOMIZE_ERROR
from servegate.rules.schema.unknown_kind import RULE as UNKNOWN_KIND

#: Hardened apart from hostNetwork, which breaks Pod Security baseline (and restricted).
DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: model
spec:
  selector: {matchLabels: {app: model}}
  template:
    metadata: {labels: {app: model}}
    spec:
      hostNetwork: true
      serviceAccountName: runner
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      containers:
      - name: c
        image: registry.example.com/img@sha256:0000000000000000000000000000000000000000000000000000000000000000
        securityContext:
          allowPrivilegeEscalation: false
          capabilities: {drop: [ALL]}
"""
WIDGET = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n"
SANDBOX = """
version: 1
name: sandbox
description: a sandbox cluster that uses the policy set baseline
podSecurity: restricted
mtls: STRICT
policySet: baseline
requireCanary: false
canary: {trafficPercent: 0}
autoscaling: {minReplicas: 1, maxReplicas: 2, concurrencyTarget: 10, cpuUtilizationTarget: 80}
resources: {cpu: "1", memory: 2Gi}
argocd: {automated: true, prune: true, selfHeal: true}
"""
#: The operator's own `baseline` set: it lowers and ignores where the bundled one does not.
LENIENT = """
name: lenient
podSecurity: restricted
rules:
  ignore: [schema.unknown-kind, yaml.duplicate-key]
  severity: {pss.host-namespaces: warning}
params: {}
"""
REPO = {
    "servegate.yaml": "version: 1\nenvironments:\n  overlays/dev: sandbox\n  overlays/prod: prod\n"
    "  apps/dev: sandbox\n  apps/prod: prod\n",
    "environments/sandbox.yaml": SANDBOX,
    "base/kustomization.yaml": "resources: [deploy.yaml, widget.yaml]\n",
    "base/deploy.yaml": DEPLOYMENT,
    "base/widget.yaml": WIDGET,
    "overlays/dev/kustomization.yaml": "namespace: ml-dev\nresources: [../../base]\n",
    "overlays/prod/kustomization.yaml": "namespace: ml-prod\nresources: [../../base]\n",
    "apps/dev/notes.yaml": "a: 1\na: 2\n",
    "apps/prod/notes.yaml": "a: 1\na: 2\n",
}


@pytest.fixture
def operator_policies(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The operator's policy sets, outside the checked repo."""
    return write_tree(tmp_path_factory.mktemp("operator"), {"baseline.yaml": LENIENT})


def by_namespace(run: Run, rule: str) -> dict[str, str]:
    return {
        f["resource"]["namespace"]: f["severity"]
        for f in run.json()["findings"]
        if f["rule"] == rule and f.get("resource")
    }


def test_a_severity_override_stays_in_its_environment(
    cli: CLI, tree: Tree, operator_policies: Path
) -> None:
    root = tree(REPO)
    trusting: tuple[str | Path, ...] = (
        "--format",
        "json",
        "--policies",
        operator_policies,
        "--allow-repo-weakening",
    )
    whole = cli("check", root, *trusting)
    assert whole.code == 1
    assert by_namespace(whole, "pss.host-namespaces") == {"ml-dev": "warning", "ml-prod": "error"}
    prod = cli("check", root / "overlays/prod", *trusting)
    assert by_namespace(prod, "pss.host-namespaces") == {"ml-prod": "error"} and prod.code == 1
    dev = cli("check", root / "overlays/dev", *trusting)
    assert by_namespace(dev, "pss.host-namespaces") == {"ml-dev": "warning"}


def test_a_repo_profile_cannot_choose_a_weaker_set_unless_the_operator_allows(
    cli: CLI, tree: Tree, operator_policies: Path
) -> None:
    """The repo's own profile `sandbox` names the operator's lenient `baseline` set: without
    --allow-repo-weakening its lowered severity and ignores are not applied, and reported."""
    root = tree(REPO)
    run = cli("check", root, "--format", "json", "--policies", operator_policies)
    assert by_namespace(run, "pss.host-namespaces") == {"ml-dev": "error", "ml-prod": "error"}
    weakening = [f for f in run.json()["findings"] if f["rule"] == "repo.policy-weakening"]
    assert weakening and all(f["file"] == "environments/sandbox.yaml" for f in weakening)
    assert "policySet baseline" in weakening[0]["message"]


def test_a_policy_ignore_covers_engine_reported_rules_in_its_environment_only(
    cli: CLI, tree: Tree, operator_policies: Path
) -> None:
    root = tree(REPO)
    run = cli(
        "check", root, "--format", "json", "--policies", operator_policies, "--allow-repo-weakening"
    )
    found = {(f["rule"], f["file"]) for f in run.json()["findings"]}
    assert by_namespace(run, "schema.unknown-kind") == {"ml-prod": "warning"}
    # a file no unit could read is judged by its folder's environment
    assert ("yaml.duplicate-key", "apps/prod/notes.yaml") in found
    assert ("yaml.duplicate-key", "apps/dev/notes.yaml") not in found
    # --ignore says the same for every unit
    ignored = cli("check", root, "--format", "json", "--ignore", "schema.unknown-kind,yaml")
    rules = {f["rule"] for f in ignored.json()["findings"]}
    assert not rules & {"schema.unknown-kind", "yaml.duplicate-key"}


def test_the_pod_security_level_is_the_units_own(cli: CLI, tree: Tree) -> None:
    """The repo's `lab` profile (baseline, trusted by the operator) does not lower another
    environment's level; the level decides both which pss rules run and what
    namespace.pss-enforce requires."""
    namespace = (
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ml\n  labels:\n"
        "    pod-security.kubernetes.io/enforce: baseline\n"
        "    pod-security.kubernetes.io/enforce-version: v1.33\n"
    )
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ml}\nspec:\n  containers:\n  - {name: c, image: busybox}\n"
    root = tree(
        {
            "servegate.yaml": "version: 1\nenvironments:\n  overlays/lab: lab\n  overlays/prod: prod\n",
            "environments/lab.yaml": SANDBOX.replace("name: sandbox", "name: lab").replace(
                "podSecurity: restricted", "podSecurity: baseline"
            ),
            "base/kustomization.yaml": "resources: [ns.yaml, pod.yaml]\n",
            "base/ns.yaml": namespace,
            "base/pod.yaml": pod,
            "overlays/lab/kustomization.yaml": "nameSuffix: -lab\nresources: [../../base]\n",
            "overlays/prod/kustomization.yaml": "nameSuffix: -prod\nresources: [../../base]\n",
        }
    )
    run = cli("check", root, "--format", "json", "--allow-repo-weakening")
    findings = run.json()["findings"]

    def names(rule: str) -> set[str]:
        return {f["resource"]["name"] for f in findings if f["rule"] == rule}

    assert names("pss.run-as-non-root") == {"p-prod"}
    assert names("namespace.pss-enforce") == {"ml"}  # kustomize suffixes no Namespace
    lab = cli("check", root / "overlays/lab", "--format", "json", "--allow-repo-weakening")
    assert not {f["rule"] for f in lab.json()["findings"]} & {
        "pss.run-as-non-root",
        "namespace.pss-enforce",
    }
    # without the operator's trust the repo's own profile cannot lower the level
    untrusted = cli("check", root / "overlays/lab", "--format", "json").json()["findings"]
    assert {"pss.run-as-non-root", "repo.policy-weakening"} <= {f["rule"] for f in untrusted}


def planner(root: Path, operator: Operator | None = None, **config: Any) -> Planner:
    return Planner(root, operator or Operator(), Config(**config))


def test_selection_and_the_rules_that_run(tmp_path: Path) -> None:
    plan = planner(tmp_path, Operator(select=("pss", "schema"), ignore=("pss.privileged",))).plan(
        None
    )
    assert plan.selects(HOST_NAMESPACES) and not plan.selects(PRIVILEGED)
    assert plan.selects(UNKNOWN_KIND)
    assert plan.selects(KUSTOMIZE_ERROR), "an input problem is reported outside --select"
    assert HOST_NAMESPACES in plan.rules and PRIVILEGED not in plan.rules
    assert all(r.id.startswith("pss.") for r in plan.rules)
    ignored = planner(tmp_path, Operator(ignore=("repo",))).plan(None)
    assert not ignored.selects(KUSTOMIZE_ERROR), "--ignore silences input problems too"


def test_baseline_runs_restricted_rules_only_for_pods(tmp_path: Path) -> None:
    """Under a baseline requirement the restricted Pod Security rules still run: a pod whose
    Namespace enforces restricted is judged by them (servegate.evaluate picks per pod)."""
    plan = planner(tmp_path, Operator(pss_level=Level.BASELINE)).plan(None)
    assert PRIVILEGED in plan.rules and RUN_AS_NON_ROOT in plan.rules
    assert plan.context(RUN_AS_NON_ROOT).pss_level is Level.BASELINE


def test_pod_security_versions_and_cluster_parameters_resolved_once(tmp_path: Path) -> None:
    profile = SANDBOX.replace("name: sandbox", "name: lab") + (
        "podSecurityVersion: v1.33\npodSecurityMinVersion: v1.30\nmesh: istio-cni\n"
    )
    root = write_tree(tmp_path, {"environments/lab.yaml": profile})
    allowed = Trust(repo_weakening=True)  # the repo's profile as written (as an operator's)
    plan = Planner(root, Operator(), Config(), allowed).plan("lab")
    assert (plan.pss_version, plan.pss_min_version) == ((1, 33), (1, 30))
    ctx = plan.context(RUN_AS_NON_ROOT)
    assert (ctx.pss_version, ctx.pss_min_version) == ((1, 33), (1, 30))
    assert ctx.param("mesh") == "istio-cni" and ctx.param("storageInitializer") is None
    # the repo's policy parameters come before the profile's mesh
    config = Config(policy={"mesh": "sidecar", "storageInitializer": "restricted"})
    params = Planner(root, Operator(), config, allowed).plan("lab").params
    assert (params["mesh"], params["storageInitializer"]) == ("sidecar", "restricted")
    # no profile: latest, any pin, Istio's default install (sidecars without CNI)
    bare = planner(root).plan(None)
    assert (bare.pss_version, bare.pss_min_version, bare.params.get("mesh")) == (None, None, None)
    assert plan.key != bare.key


def test_a_repo_profile_cannot_judge_pods_at_an_older_version(tmp_path: Path) -> None:
    """Without the operator's leave, the repo's own profile pins no older Pod Security
    version than the reference (latest): the pin is not applied, and said so."""
    profile = SANDBOX.replace("name: sandbox", "name: lab") + "podSecurityVersion: v1.33\n"
    root = write_tree(tmp_path, {"environments/lab.yaml": profile})
    p = planner(root)
    assert p.plan("lab").pss_version is None
    [pin] = [f for f in p.findings if "podSecurityVersion" in f.message]
    assert pin.rule == "repo.policy-weakening" and pin.file == "environments/lab.yaml"


def test_context_carries_the_plan(tmp_path: Path) -> None:
    plan = planner(tmp_path, policy={"requireDigest": True}, k8s_version="1.33").plan("prod")
    rule = get_rule("image.digest")
    assert rule is not None
    ctx = plan.context(rule)
    assert ctx.k8s_version == (1, 33) and ctx.param("requireDigest") is True
    assert ctx.environment["name"] == "prod" and ctx.pss_level is Level.RESTRICTED
    assert plan.context(rule) is ctx, "resolved once"


def test_the_rules_are_sorted_once_per_plan_and_never_shared_with_a_copy(
    tmp_path: Path,
) -> None:
    """``evaluate.dispatch_of``: built once and shared by the plan's units; a plan copied from another
    (as a nested servegate.yaml's parameters make one) sorts its own, with its own contexts,
    even when the copy carries the original's cache."""
    plan = planner(tmp_path, policy={"requireDigest": True}).plan("prod")
    rule = get_rule("image.digest")
    assert rule is not None

    def digest_context(p: Plan) -> Context:
        [ctx] = [c for r, c in dispatch_of(p).pods if r is rule]
        return ctx

    assert dispatch_of(plan) is dispatch_of(plan), "built once"
    assert digest_context(plan) is plan.context(rule)
    copy = replace(plan, params={**plan.params, "requireDigest": False}, _contexts={})
    assert dispatch_of(copy) is not dispatch_of(plan)
    assert digest_context(copy).param("requireDigest") is False
    assert digest_context(plan).param("requireDigest") is True


def test_cluster_facts_are_resolved_once_per_plan(tmp_path: Path) -> None:
    """The mesh and the KServe version reach every rule as parameters the plan settled: the
    repo's servegate.yaml first, then the environment profile, then nothing (the rules' own
    assumption: Istio's default install, the newest KServe)."""
    rule = get_rule("pss.capabilities-restricted")
    assert rule is not None
    bare = planner(tmp_path).plan("prod").context(rule)
    assert bare.param("mesh") is None and bare.param("kserveVersion") is None
    profile = write_tree(
        tmp_path / "p",
        {
            "environments/edge.yaml": SANDBOX.replace("name: sandbox", "name: edge")
            + "mesh: ambient\n"
        },
    )
    assert planner(profile).plan("edge").context(rule).param("mesh") == "ambient"
    repo = planner(profile, policy={"mesh": "istio-cni"}, kserve_version="0.15")
    ctx = repo.plan("edge").context(rule)
    assert ctx.param("mesh") == "istio-cni", "servegate.yaml policy.mesh wins over the profile"
    assert ctx.param("kserveVersion") == "0.15"
    assert repo.plan("edge").key != planner(profile).plan("edge").key, "the memo key sees them"


def test_policy_sets_come_from_the_operator_first(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", {"policies/restricted.yaml": LENIENT})
    operator = write_tree(
        tmp_path / "operator", {"restricted.yaml": LENIENT.replace("lenient", "op")}
    )
    trusting = Planner(repo, Operator(), Config(), Trust(repo_weakening=True)).plan(None)
    assert trusting.policy.name == "lenient"
    assert trusting.severity(HOST_NAMESPACES).value == "warning"
    assert planner(repo, Operator(policies=operator)).plan(None).policy.name == "op"
    strict = planner(repo)
    plan = strict.plan(None)
    assert plan.severity(HOST_NAMESPACES).value == "error"
    assert plan.selects(UNKNOWN_KIND), "the repo's ignore is not applied"
    found = {(f.rule, f.file) for f in strict.findings}
    assert found == {("repo.policy-weakening", "policies/restricted.yaml")}


def test_units_and_repo_files_get_their_plans(tmp_path: Path) -> None:
    p = planner(tmp_path, environments={"overlays/dev": "dev", "overlays/prod": "prod"})
    p.register("root:overlays/dev", "dev", ["base/a.yaml", "overlays/dev/kustomization.yaml"])
    p.register("root:overlays/prod", "prod", ["base/a.yaml"])
    finding = HOST_NAMESPACES.finding("m", "base/a.yaml", 1, unit="root:overlays/prod")
    assert [plan.environment for plan in p.plans_for(finding)] == ["prod"]
    shared = KUSTOMIZE_ERROR.finding("m", "base/a.yaml", 1)
    assert [plan.environment for plan in p.plans_for(shared)] == ["dev", "prod"]
    alone = KUSTOMIZE_ERROR.finding("m", "overlays/prod/x.yaml", 1)
    assert [plan.environment for plan in p.plans_for(alone)] == ["prod"]


def test_k8s_versions_are_parsed_and_bounded() -> None:
    assert parse_k8s_version("v1.33") == (1, 33)
    for bad in ("1", "x.y", "1.99"):
        with pytest.raises(UsageError):
            parse_k8s_version(bad)


def test_operator_policies_must_be_a_folder(cli: CLI, tree: Tree) -> None:
    root = tree({"pod.yaml": "a: 1\n"})
    run = cli("check", root, "--policies", root / "missing")
    assert run.code == 2 and "--policies" in run.err


def test_a_file_that_stopped_its_overlays_is_judged_by_the_plans_of_the_overlays_reading_it(
    cli: CLI, tree: Tree, operator_policies: Path
) -> None:
    """A YAML problem in a base keeps every overlay reading it from rendering: the finding is
    judged by those overlays' plans (dev's set ignores it, prod's does not), not by the plan
    of the base folder's environment."""
    files = {**REPO, "base/kustomization.yaml": "resources: [deploy.yaml, cm.yaml]\n"}
    files["base/cm.yaml"] = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  a: '1'\n  a: '2'\n"
    )
    root = tree(files)
    trusting = ("--format", "json", "--policies", operator_policies, "--allow-repo-weakening")

    def found(*paths: Path) -> set[tuple[str, str, str]]:
        run = cli("check", *paths, *trusting)
        return {(f["rule"], f["file"], f["severity"]) for f in run.json()["findings"]}

    dup = ("yaml.duplicate-key", "base/cm.yaml", "error")
    assert dup in found(root)
    assert dup in found(root / "overlays/prod")
    assert dup not in found(root / "overlays/dev")


def test_ignoring_a_duplicate_key_never_hides_the_object(
    cli: CLI, tree: Tree, operator_policies: Path
) -> None:
    """Argo CD applies a plain file with a repeated key with its last value: dev's set ignores
    yaml.duplicate-key, and the object it applies is still judged."""
    pod = DEPLOYMENT.replace("hostNetwork: true", "hostNetwork: false\n      hostNetwork: true")
    root = tree({**REPO, "apps/dev/deploy.yaml": pod, "apps/prod/deploy.yaml": pod})
    run = cli(
        "check", root, "--format", "json", "--policies", operator_policies, "--allow-repo-weakening"
    )
    found = {(f["rule"], f["file"], f["severity"]) for f in run.json()["findings"]}
    assert ("yaml.duplicate-key", "apps/prod/deploy.yaml", "error") in found
    assert not any(r == "yaml.duplicate-key" and f == "apps/dev/deploy.yaml" for r, f, _ in found)
    assert ("pss.host-namespaces", "apps/prod/deploy.yaml", "error") in found
    assert ("pss.host-namespaces", "apps/dev/deploy.yaml", "warning") in found

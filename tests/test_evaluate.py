"""The one rule dispatch (servegate/evaluate.py): every scope, with each rule's context; and
over effective pods: a violation written in a shared source is located there once per affected
object and names them all; each pod is judged at the Pod Security level and version its
Namespace enforces; what only a stricter warn/audit label finds is a warning. End to end: one
hardened ServingRuntime serving InferenceServices in three overlays passes; an unhardened one
gives one group per violated rule at the runtime's line."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from helpers import CLI, Tree, psa_labels, resources_of

from servegate.config import Config
from servegate.evaluate import evaluate, evaluate_unit
from servegate.model import Severity, Unit
from servegate.plan import Operator, Planner
from servegate.podspecs import PodSpecView
from servegate.resource import Resource
from servegate.rules import all_rules
from servegate.rules.base import Context, Level, Rule, Scope, Violation, rule
from servegate.rules.yaml.syntax import RULE as YAML_SYNTAX
from servegate.schema.validate import SchemaSet

CTX = Context((1, 37))
OBJECTS = """
apiVersion: v1
kind: Pod
metadata: {name: a, annotations: {servegate.io/exempt.x.pod: reviewed}}
spec: {containers: [{name: c, image: busybox}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: b}
spec: {template: {spec: {containers: [{name: c, image: busybox}, {name: d, image: nginx}]}}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
"""


def resources(text: str = OBJECTS) -> list[Resource]:
    return resources_of(text)


def pod_check(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    for container in pod.containers:
        yield Violation(container.at("image"), f"k8s {ctx.k8s_version}", container.name)


def object_check(resource: Resource, ctx: Context) -> Iterator[Violation]:
    yield Violation(("metadata", "name"), str(ctx.param("n")))


def unit_check(objects: Sequence[Resource], ctx: Context) -> Iterator[Violation]:
    yield Violation(("kind",), f"{len(objects)} objects", resource=objects[-1])
    yield Violation(("kind",), "names no object: dropped")


def change_check(before: Resource | None, after: Resource, ctx: Context) -> Iterator[Violation]:
    yield Violation(("metadata",), "new" if before is None else f"was {before.name}")


POD = rule("x.pod", "t", Severity.ERROR, Scope.POD, pod_check, doc=None)
OBJECT = rule("x.object", "t", Severity.ERROR, Scope.OBJECT, object_check, doc=None, kinds={"Pod"})
UNIT = rule("x.unit", "t", Severity.ERROR, Scope.UNIT, unit_check, doc=None)
CHANGE = rule("x.change", "t", Severity.ERROR, Scope.CHANGE, change_check, doc=None)


def test_each_scope_sees_what_it_should() -> None:
    objects = resources()
    hits = list(evaluate([POD, OBJECT, UNIT, CHANGE, YAML_SYNTAX], objects, CTX))
    seen = sorted((h.rule.id, h.resource.name, h.violation.message) for h in hits)
    assert seen == [
        ("x.object", "a", "None"),
        ("x.pod", "a", "c: k8s (1, 37)"),
        ("x.pod", "b", "c: k8s (1, 37)"),
        ("x.pod", "b", "d: k8s (1, 37)"),
        ("x.unit", "c", "3 objects"),
    ]


def test_change_rules_run_with_the_base_objects() -> None:
    objects = resources()
    old = {"b": objects[0]}
    hits = list(evaluate([CHANGE, POD], objects, CTX, lambda r: old.get(r.name)))
    changes = sorted((h.resource.name, h.violation.message) for h in hits if h.rule is CHANGE)
    assert changes == [("a", "new"), ("b", "was a"), ("c", "new")]


def test_each_rule_gets_its_own_context() -> None:
    contexts = {OBJECT.id: Context((1, 30), params={"n": 7})}

    def context(r: Rule) -> Context:
        return contexts.get(r.id, CTX)

    hits = list(evaluate([OBJECT, POD], resources(), context))
    assert {h.violation.message for h in hits if h.rule is OBJECT} == {"7"}


def test_a_hit_becomes_a_finding_of_its_unit() -> None:
    hit = next(iter(evaluate([OBJECT], resources(), CTX)))
    finding = hit.finding("root:overlays/prod")
    assert (finding.rule, finding.file, finding.line, finding.unit) == (
        "x.object",
        "x.yaml",
        4,
        "root:overlays/prod",
    )
    assert finding.resource == hit.resource.ref and finding.path == "metadata.name"


def test_evaluate_unit_runs_schema_and_plan_and_marks_annotations(tmp_path: Path) -> None:
    plan = Planner(tmp_path, Operator(select=("pss", "schema")), Config()).plan(None)
    unit = Unit("plain:.:", ".", None, resources(OBJECTS.replace("x.pod", "pss")))
    result = evaluate_unit(unit, plan, SchemaSet((1, 37), []))
    assert result.resources == 3
    rules = {(f.rule, f.resource.name if f.resource else "", f.suppressed) for f in result.findings}
    assert ("pss.run-as-non-root", "a", "reviewed") in rules, "the annotation on Pod a"
    assert ("pss.run-as-non-root", "b", None) in rules
    assert all(f.unit == "plain:.:" for f in result.findings)
    assert not any(f.rule.startswith(("image.", "kserve.")) for f in result.findings)


RUNTIME = """\
apiVersion: serving.kserve.io/v1alpha1
kind: ServingRuntime
metadata:
  name: sklearn
spec:
  supportedModelFormats:
    - name: sklearn
      version: "1"
      autoSelect: true
  protocolVersions: [v1, v2]
  containers:
    - name: kserve-container
      image: registry.example.com/kserve/sklearnserver@sha256:0f0a2bd2a2c52dbbbaa2a6ae8e2a7a8f4f1d2c0e8b3f0f5f1a1b2c3d4e5f6a7b8
      args: ["--model_name={{.Name}}", --model_dir=/mnt/models]
{security}      resources:
        requests: {{cpu: "1", memory: 2Gi}}
        limits: {{cpu: "1", memory: 2Gi}}
"""
HARDENED = """\
      securityContext:
        allowPrivilegeEscalation: false
        runAsNonRoot: true
        capabilities:
          drop: [ALL]
        seccompProfile:
          type: RuntimeDefault
"""


def isvc(name: str, extra: str = "") -> str:
    return textwrap.dedent(
        f"""\
        apiVersion: serving.kserve.io/v1beta1
        kind: InferenceService
        metadata:
          name: {name}
        spec:
          predictor:
            serviceAccountName: {name}-sa
            model:
              modelFormat: {{name: sklearn}}
              storageUri: pvc://models/{name}
        """
    ) + textwrap.indent(extra, "      ")


def load(text: str) -> list[Resource]:
    return resources_of(text, "repo.yaml")


def pss(level: Level = Level.RESTRICTED) -> list[Rule]:
    allowed = {Level.BASELINE} if level is Level.BASELINE else {Level.BASELINE, Level.RESTRICTED}
    return [r for r in all_rules().values() if r.family == "pss" and r.level in allowed]


def test_runtime_violations_located_at_the_runtime_naming_every_object() -> None:
    text = "---\n".join([RUNTIME.format(security=""), isvc("a"), isvc("b"), isvc("c")])
    resources = load(text)
    hits = list(evaluate(pss(), resources, Context((1, 37))))
    runtime_doc = resources[0].origin.document
    assert runtime_doc is not None
    container_line = runtime_doc.line_of(("spec", "containers", 0))
    assert hits
    by_rule: dict[str, list[str]] = {}
    for hit in hits:
        finding = hit.finding()
        assert (finding.file, finding.line) == ("repo.yaml", container_line), finding
        assert finding.resource is not None and finding.resource.kind == "InferenceService"
        assert finding.message.startswith("ServingRuntime 'sklearn' container 'kserve-container': ")
        assert finding.message.endswith("(InferenceServices a, b, c)")
        by_rule.setdefault(finding.rule, []).append(finding.resource.name)
    assert set(by_rule) == {
        "pss.allow-privilege-escalation",
        "pss.capabilities-restricted",
        "pss.run-as-non-root",
        "pss.seccomp-restricted",
    }
    assert all(sorted(names) == ["a", "b", "c"] for names in by_rule.values())


def test_an_override_is_reported_at_the_inference_service() -> None:
    text = "---\n".join(
        [
            RUNTIME.format(security=HARDENED),
            isvc("ok"),
            isvc("debug", "securityContext:\n  privileged: true\n"),
        ]
    )
    resources = load(text)
    findings = [h.finding() for h in evaluate(pss(), resources, Context((1, 37)))]
    assert [(f.rule, f.resource.name if f.resource else "") for f in findings] == [
        ("pss.privileged", "debug")
    ]
    debug = resources[2].origin.document
    assert debug is not None
    assert findings[0].line == debug.line_of(
        ("spec", "predictor", "model", "securityContext", "privileged")
    )


HOST_LIFECYCLE = """\
apiVersion: v1
kind: Pod
metadata: {{name: p, namespace: {ns}}}
spec:
  securityContext: {{runAsNonRoot: true, seccompProfile: {{type: RuntimeDefault}}}}
  containers:
  - name: app
    image: r/app:1
    securityContext: {{allowPrivilegeEscalation: false, capabilities: {{drop: [ALL]}}}}
    lifecycle:
      preStop:
        httpGet: {{host: localhost, port: 8080}}
"""


def namespace(name: str, **labels: str) -> str:
    rendered = json.dumps(psa_labels(**labels))
    return f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n  labels: {rendered}\n"


def test_each_pod_is_judged_at_its_namespace_version() -> None:
    text = "---\n".join(
        [
            namespace("pinned", enforce="restricted", enforce_version="v1.33"),
            namespace("latest", enforce="restricted", enforce_version="latest"),
            HOST_LIFECYCLE.format(ns="pinned"),
            HOST_LIFECYCLE.format(ns="latest"),
            HOST_LIFECYCLE.format(ns="absent"),
        ]
    )
    hits = evaluate(pss(), load(text), Context((1, 37)))
    flagged = {h.resource.namespace for h in hits if h.rule.id == "pss.host-probes-lifecycle"}
    assert flagged == {"latest", "absent"}
    # on a 1.33 cluster, latest is 1.33
    hits = evaluate(pss(), load(text), Context((1, 33)))
    assert not [h for h in hits if h.rule.id == "pss.host-probes-lifecycle"]


PLAIN_POD = """\
apiVersion: v1
kind: Pod
metadata: {{name: p, namespace: {ns}}}
spec:
  containers: [{{name: app, image: r/app:1}}]
"""


def test_the_environment_level_is_a_floor_the_namespace_cannot_lower() -> None:
    text = "---\n".join([namespace("ml", enforce="privileged"), PLAIN_POD.format(ns="ml")])
    rules = {h.rule.id for h in evaluate(pss(), load(text), Context((1, 37), Level.RESTRICTED))}
    assert "pss.run-as-non-root" in rules
    # and a stricter namespace raises it
    text = "---\n".join([namespace("ml", enforce="restricted"), PLAIN_POD.format(ns="ml")])
    rules = {
        h.rule.id
        for h in evaluate(pss(Level.RESTRICTED), load(text), Context((1, 37), Level.BASELINE))
    }
    assert "pss.run-as-non-root" in rules


def test_a_stricter_warn_label_gives_warnings() -> None:
    text = "---\n".join(
        [namespace("ml", enforce="baseline", warn="restricted"), PLAIN_POD.format(ns="ml")]
    )
    hits = list(evaluate(pss(Level.RESTRICTED), load(text), Context((1, 37), Level.BASELINE)))
    assert hits and all(h.at_most is Severity.WARNING for h in hits)
    assert all("pod-security.kubernetes.io/warn level restricted" in h.message for h in hits)
    assert {h.rule.id for h in hits} >= {"pss.run-as-non-root", "pss.seccomp-restricted"}


def write_repo(tree: Tree, security: str) -> Path:
    files: dict[str, str] = {
        "base/kustomization.yaml": "resources: [servingruntime.yaml, inferenceservice.yaml]\n",
        "base/servingruntime.yaml": RUNTIME.format(security=security),
        "base/inferenceservice.yaml": isvc("iris"),
    }
    for env in ("dev", "staging", "prod"):
        files[f"overlays/{env}/kustomization.yaml"] = (
            f"namespace: ml-{env}\nresources: [../../base]\n"
        )
    return tree(files)


def test_one_hardened_runtime_serving_three_overlays_passes(cli: CLI, tree: Tree) -> None:
    repo = write_repo(tree, HARDENED)
    run = cli("check", repo, "--format", "json")
    report = run.json()
    assert report["findings"] == [] and run.code == 0, report["findings"]
    assert report["summary"]["resources"] == 6


def test_an_unhardened_runtime_is_one_group_per_rule_at_its_line(cli: CLI, tree: Tree) -> None:
    repo = write_repo(tree, "")
    run = cli("check", repo, "--format", "json")
    findings: list[dict[str, Any]] = run.json()["findings"]
    assert run.code == 1
    line = RUNTIME.format(security="").splitlines().index("    - name: kserve-container") + 1
    groups: dict[tuple[str, str, int], set[str]] = {}
    for f in findings:
        groups.setdefault((f["rule"], f["file"], f["line"]), set()).add(f["resource"]["namespace"])
    assert set(groups) == {
        (rule, "base/servingruntime.yaml", line)
        for rule in (
            "pss.allow-privilege-escalation",
            "pss.capabilities-restricted",
            "pss.run-as-non-root",
            "pss.seccomp-restricted",
        )
    }, json.dumps(findings, indent=1)
    assert all(spaces == {"ml-dev", "ml-staging", "ml-prod"} for spaces in groups.values())
    text = cli("check", repo).out
    assert {ln.split(" ")[0] for ln in text.splitlines() if " error " in ln} == {
        f"base/servingruntime.yaml:{line}:"
    }


def served(kind: str, namespace: str, fmt: str, security: str) -> str:
    """A (Cluster)ServingRuntime ``rt`` serving ``fmt`` (v1 and v2), like KServe's own."""
    meta = f"  namespace: {namespace}\n" if kind == "ServingRuntime" else ""
    return (
        f"apiVersion: serving.kserve.io/v1alpha1\nkind: {kind}\nmetadata:\n  name: rt\n{meta}"
        f"spec:\n  supportedModelFormats:\n  - {{name: {fmt}, version: '1', autoSelect: true}}\n"
        "  protocolVersions: [v1, v2]\n  containers:\n  - name: kserve-container\n"
        "    image: registry.example.com/server:1\n"
        f"{textwrap.indent(textwrap.dedent(security), '    ')}"
        "    resources:\n      requests: {cpu: '1', memory: 2Gi}\n"
        "      limits: {cpu: '1', memory: 2Gi}\n"
    )


def model(name: str, fmt: str, runtime: str | None, extra: str = "") -> str:
    named = f"      runtime: {runtime}\n" if runtime else ""
    return (
        "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\n"
        f"metadata: {{name: {name}, namespace: ml}}\nspec:\n  predictor:\n"
        f"    serviceAccountName: {name}-sa\n    model:\n{named}"
        f"      modelFormat: {{name: {fmt}}}\n      storageUri: pvc://models/{name}\n{extra}"
    )


@pytest.mark.parametrize("kind", ["ServingRuntime", "ClusterServingRuntime"])
@pytest.mark.parametrize("explicit", [True, False], ids=["runtime-named", "auto-selected"])
@pytest.mark.parametrize("fmt", ["sklearn", "xgboost", "huggingface"])
def test_the_runtime_supplies_what_the_model_leaves_out(
    cli: CLI, tree: Tree, kind: str, explicit: bool, fmt: str
) -> None:
    """The case 10-runtime-supplies-securitycontext, by kind: runtime scope, named or picked by
    KServe's auto-selection, any model format. The InferenceService's own field wins."""
    runtime = "rt" if explicit else None
    override = "      securityContext: {privileged: true}\n"
    repo = tree(
        {
            "runtime.yaml": served(kind, "ml", fmt, HARDENED),
            "isvc.yaml": model("m", fmt, runtime),
            "isvc-debug.yaml": model("m-debug", fmt, runtime, override),
        }
    )
    run = cli("check", repo, "--format", "json")
    errors = {
        (f["rule"], (f.get("resource") or {}).get("name"))
        for f in run.json()["findings"]
        if f["severity"] == "error"
    }
    assert not {e for e in errors if e[1] == "m" and e[0].startswith(("pss.", "kserve."))}, errors
    assert ("pss.privileged", "m-debug") in errors


STORED = """\
apiVersion: serving.kserve.io/v1alpha1
kind: ClusterStorageContainer
metadata:
  name: s3
spec:
  workloadType:
  container:
    name: storage-initializer
    image: registry.example.com/kserve/storage-initializer:v0.15.2
    resources: {requests: {cpu: 100m, memory: 100Mi}, limits: {cpu: "1", memory: 1Gi}}
    securityContext:
      allowPrivilegeEscalation: false
      runAsNonRoot: true
      capabilities: {drop: [ALL]}
      seccompProfile: {type: RuntimeDefault}
  supportedUriFormats:
  - prefix: s3://
---
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: iris
spec:
  predictor:
    serviceAccountName: iris-sa
    model:
      runtime: sklearn
      modelFormat: {name: sklearn}
      storageUri: s3://models/iris
      securityContext:
      resources:
      env:
"""


@pytest.mark.parametrize("validate", [True, False])
def test_rules_judge_custom_resources_as_the_api_server_stores_them(
    tmp_path: Path, validate: bool
) -> None:
    """A null the apiextensions server prunes (``securityContext:`` left empty in the model) is
    no override that deletes the runtime's hardening, and a null with a default is that default
    (a ClusterStorageContainer's ``workloadType``: initContainer), with or without the schema
    rules selected (prunenulls.go, defaulting/algorithm.go)."""
    select = ("pss", "kserve", "schema") if validate else ("pss", "kserve")
    plan = Planner(tmp_path, Operator(select=select), Config()).plan(None)
    text = RUNTIME.format(security=HARDENED) + "---\n" + STORED
    unit = Unit("plain:.:", ".", None, load(text))
    result = evaluate_unit(unit, plan, SchemaSet((1, 37), []))
    assert [(f.rule, f.path) for f in result.findings if f.severity is not Severity.NOTE] == []
    # the control: an unhardened storage container is judged in the pod (it is used)
    hardened = "    securityContext:\n      allowPrivilegeEscalation: false\n"
    assert hardened in STORED
    unit = Unit("plain:.:", ".", None, load(text.replace(hardened, "    securityContext:\n")))
    result = evaluate_unit(unit, plan, SchemaSet((1, 37), []))
    assert {(f.rule, f.path) for f in result.findings} == {
        (
            "pss.allow-privilege-escalation",
            "spec.container.securityContext.allowPrivilegeEscalation",
        )
    }


def test_a_runtime_of_another_namespace_is_not_selected(cli: CLI, tree: Tree) -> None:
    """KServe looks up a ServingRuntime in the InferenceService's own namespace: one elsewhere
    does not harden it (a note says the named runtime was not checked)."""
    repo = tree(
        {
            "runtime.yaml": served("ServingRuntime", "other", "sklearn", HARDENED),
            "isvc.yaml": model("m", "sklearn", "rt"),
        }
    )
    found = {
        (f["rule"], f["severity"])
        for f in cli("check", repo, "--format", "json").json()["findings"]
    }
    assert ("kserve.runtime-not-checked", "note") in found
    assert ("pss.run-as-non-root", "error") in found


USERNS = """\
apiVersion: v1
kind: Pod
metadata: {{name: p, namespace: {ns}}}
spec:
  hostUsers: false
  securityContext: {{seccompProfile: {{type: RuntimeDefault}}}}
  containers:
  - name: app
    image: r/app:1
    securityContext: {{allowPrivilegeEscalation: false, capabilities: {{drop: [ALL]}}}}
"""


@pytest.mark.parametrize(
    ("pin", "flagged"),
    [("v1.34", True), ("v1.35", False), ("latest", False), ("v1.99", False)],
)
def test_restricted_checks_follow_the_pinned_version(pin: str, flagged: bool) -> None:
    """Pods in user namespaces need no runAsNonRoot from v1.35 on (PSA fixtures
    runAsNonRoot*/v1.35); a pin newer than the cluster is the cluster's version."""
    text = "---\n".join(
        [namespace("ml", enforce="restricted", enforce_version=pin), USERNS.format(ns="ml")]
    )
    rules = {h.rule.id for h in evaluate(pss(), load(text), Context((1, 37)))}
    assert ("pss.run-as-non-root" in rules) is flagged


@pytest.mark.parametrize("enforce", ["baseline", "restricted"])
def test_a_baseline_check_follows_the_pin_at_either_level(enforce: str) -> None:
    text = "---\n".join(
        [
            namespace("pinned", enforce=enforce, enforce_version="v1.33"),
            namespace("newer", enforce=enforce, enforce_version="v1.34"),
            HOST_LIFECYCLE.format(ns="pinned"),
            HOST_LIFECYCLE.format(ns="newer"),
        ]
    )
    hits = evaluate(pss(), load(text), Context((1, 37), Level.BASELINE))
    flagged = {h.resource.namespace for h in hits if h.rule.id == "pss.host-probes-lifecycle"}
    assert flagged == {"newer"}


@pytest.mark.parametrize("mode", ["warn", "audit"])
def test_a_newer_warn_or_audit_version_warns_what_the_pin_admits(mode: str) -> None:
    labels = {"enforce": "restricted", "enforce_version": "v1.33", mode: "restricted"}
    text = "---\n".join([namespace("ml", **labels), HOST_LIFECYCLE.format(ns="ml")])
    hits = [
        h
        for h in evaluate(pss(), load(text), Context((1, 37)))
        if h.rule.id == "pss.host-probes-lifecycle"
    ]
    assert hits and all(h.at_most is Severity.WARNING for h in hits)
    assert all(
        f"pod-security.kubernetes.io/{mode} level restricted:v1.37" in h.message for h in hits
    )


def test_without_its_namespace_a_pod_is_judged_at_the_plans_version() -> None:
    """No Namespace in the set: the environment's podSecurityVersion (the plan's), else the
    cluster's."""
    pods = load(HOST_LIFECYCLE.format(ns="elsewhere"))
    at_v133 = Context((1, 37), pss_version=(1, 33))
    assert not [h for h in evaluate(pss(), pods, at_v133) if "host" in h.rule.id]
    assert [
        h
        for h in evaluate(pss(), pods, Context((1, 37)))
        if h.rule.id == "pss.host-probes-lifecycle"
    ]


def test_warnings_stay_warnings_through_the_pipeline(cli: CLI, tree: Tree) -> None:
    """A finding only a warn label gives is reported as a warning, whatever its rule's
    severity (servegate.exemptions.finish keeps at_most), also from the result memo."""
    ns = namespace("ml", enforce="restricted", enforce_version="v1.33", warn="restricted")
    repo = tree({"ns.yaml": ns, "pod.yaml": HOST_LIFECYCLE.format(ns="ml")})
    for _ in range(2):  # cold, then from the result memo
        run = cli("check", repo, "--format", "json")
        lifecycle = [f for f in run.json()["findings"] if f["rule"] == "pss.host-probes-lifecycle"]
        assert [f["severity"] for f in lifecycle] == ["warning"]


HARDENED_POD = """\
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: ml}}
spec:
  securityContext: {{runAsNonRoot: true, seccompProfile: {{type: RuntimeDefault}}}}
  containers:
  - name: app
    image: r/app:1
    securityContext: {{allowPrivilegeEscalation: false, capabilities: {{drop: [ALL]}}{extra}}}
"""


@pytest.mark.parametrize("allowed", [True, False])
def test_a_privileged_namespace_the_environment_allows_for_istio_init(allowed: bool) -> None:
    """allowPrivilegedNamespace with mesh: sidecar: istio-init is admitted (the operator allowed
    it); the model's own containers are still judged at the environment's level."""
    ns = (
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ml\n  labels:\n"
        "    istio-injection: enabled\n"
        + "".join(
            f"    {k}: {v}\n"
            for k, v in psa_labels(
                enforce="privileged",
                enforce_version="latest",
                warn="restricted",
                audit="restricted",
            ).items()
        )
    )
    text = "---\n".join(
        [
            ns,
            HARDENED_POD.format(name="ok", extra=""),
            HARDENED_POD.format(name="bad", extra=", privileged: true"),
        ]
    )
    ctx = Context(
        (1, 37), params={"mesh": "sidecar"}, environment={"allowPrivilegedNamespace": allowed}
    )
    hits = list(evaluate(pss(), load(text), ctx))
    init = [h for h in hits if "istio-init" in h.message]
    assert bool(init) is not allowed
    own = [(h.resource.name, h.rule.id, h.at_most) for h in hits if "istio-init" not in h.message]
    assert ("bad", "pss.privileged", None) in own and not [o for o in own if o[0] == "ok"]

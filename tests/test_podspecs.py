"""The pod-spec layer finds every container in every pod-bearing kind, with the right paths."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from servegate.evaluate import evaluate
from servegate.podspecs import has_pods, pod_specs, unresolved
from servegate.resource import Origin, Resource
from servegate.rules import all_rules
from servegate.rules.base import Context, Level

C = {"name": "c", "image": "busybox:1.36"}


def res(kind: str, spec: dict[str, Any], api: str = "v1", **meta: Any) -> Resource:
    body = {"apiVersion": api, "kind": kind, "metadata": {"name": "x", **meta}, "spec": spec}
    return Resource.from_body(body, Origin("f.yaml"))


def containers(resource: Resource) -> list[tuple[str, tuple[str | int, ...]]]:
    return [(c.name, c.path) for pod in pod_specs(resource) for c in pod.containers]


@pytest.mark.parametrize(
    ("kind", "api"),
    [
        ("Deployment", "apps/v1"),
        ("StatefulSet", "apps/v1"),
        ("DaemonSet", "apps/v1"),
        ("ReplicaSet", "apps/v1"),
        ("DaemonSet", "extensions/v1beta1"),
        ("Job", "batch/v1"),
        ("ReplicationController", "v1"),
    ],
)
def test_workload_templates(kind: str, api: str) -> None:
    r = res(kind, {"template": {"spec": {"containers": [C], "initContainers": [C]}}}, api)
    assert containers(r) == [
        ("c", ("spec", "template", "spec", "initContainers", 0)),
        ("c", ("spec", "template", "spec", "containers", 0)),
    ]
    [pod] = pod_specs(r)
    assert pod.metadata_path == ("spec", "template", "metadata")


def test_an_object_is_walked_once_and_each_caller_gets_its_own_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import servegate.podspecs as podspecs

    walked: list[str] = []
    real = podspecs._pod_specs

    def counting(resource: Resource, inferred: bool) -> list[Any]:
        walked.append(resource.name)
        return real(resource, inferred)

    monkeypatch.setattr(podspecs, "_pod_specs", counting)
    r = res("Pod", {"containers": [C]})
    first, second = pod_specs(r), pod_specs(r)
    assert first == second and first is not second and walked == ["x"]
    first.clear()
    assert len(pod_specs(r)) == 1
    # another object with the same content is walked for itself
    twin = res("Pod", {"containers": [C]})
    [pod] = pod_specs(twin)
    assert pod.resource is twin and walked == ["x", "x"]
    pod_specs(r, inferred=True)
    assert walked == ["x", "x"], "a known kind has the same pods, inferred or not"
    unknown = res("Widget", {"template": {"spec": {"containers": [C]}}}, "example.com/v1")
    assert pod_specs(unknown) == [] and len(pod_specs(unknown, inferred=True)) == 1
    assert walked == ["x", "x", "x", "x"], "an unknown kind is searched apart"


def test_pod_with_ephemeral_containers() -> None:
    r = res("Pod", {"containers": [C], "ephemeralContainers": [{"name": "dbg"}]})
    assert [n for n, _ in containers(r)] == ["c", "dbg"]


def test_cronjob_and_rollout() -> None:
    cron = res(
        "CronJob",
        {"jobTemplate": {"spec": {"template": {"spec": {"containers": [C]}}}}},
        "batch/v1",
    )
    assert containers(cron) == [
        ("c", ("spec", "jobTemplate", "spec", "template", "spec", "containers", 0))
    ]
    rollout = res("Rollout", {"template": {"spec": {"containers": [C]}}}, "argoproj.io/v1alpha1")
    assert containers(rollout) == [("c", ("spec", "template", "spec", "containers", 0))]


def test_inference_service_components_shortcuts_workers_and_canaries() -> None:
    spec = {
        "predictor": {
            "model": {"modelFormat": {"name": "sklearn"}},
            "containers": [C],
            "workerSpec": {"containers": [{"name": "w"}]},
            "annotations": {"a": "component"},
        },
        "transformer": {"containers": [{"name": "t"}]},
        "explainer": {"art": {"type": "SquareAttack"}},
        "canary": [{"trafficPercent": 10, "predictor": {"sklearn": {"storageUri": "s3://b/m"}}}],
    }
    r = res("InferenceService", spec, "serving.kserve.io/v1beta1", annotations={"a": "isvc"})
    pods = pod_specs(r)
    assert [p.label for p in pods] == [
        "InferenceService predictor",
        "InferenceService predictor workerSpec",
        "InferenceService transformer",
        "InferenceService explainer",
        "InferenceService canary[0] predictor",
    ]
    assert containers(r) == [
        ("c", ("spec", "predictor", "containers", 0)),
        ("kserve-container", ("spec", "predictor", "model")),
        ("w", ("spec", "predictor", "workerSpec", "containers", 0)),
        ("t", ("spec", "transformer", "containers", 0)),
        ("kserve-container", ("spec", "explainer", "art")),
        ("kserve-container", ("spec", "canary", 0, "predictor", "sklearn")),
    ]
    assert pods[0].annotations == {"a": "component"}  # KServe copies component annotations


def test_serving_runtime_has_no_pod_level_security_context() -> None:
    r = res(
        "ServingRuntime",
        {"containers": [C], "securityContext": {"runAsNonRoot": True}},
        "serving.kserve.io/v1alpha1",
    )
    [pod] = pod_specs(r)
    assert not pod.pod_level
    assert pod.effective(pod.containers[0], "runAsNonRoot") is None


def test_cluster_storage_container() -> None:
    r = res(
        "ClusterStorageContainer",
        {"container": {"name": "storage-initializer"}},
        "serving.kserve.io/v1alpha1",
    )
    assert containers(r) == [("storage-initializer", ("spec", "container"))]


def test_argo_workflow_templates_merge_pod_fields_with_provenance() -> None:
    spec = {
        "volumes": [{"name": "wf", "hostPath": {"path": "/"}}],
        "securityContext": {"runAsNonRoot": True},
        "podMetadata": {"annotations": {"p": "1"}},
        "templates": [
            {"name": "main", "steps": []},
            {
                "name": "train",
                "container": C,
                "volumes": [{"name": "t", "emptyDir": {}}],
                "sidecars": [{"name": "s"}],
                "initContainers": [{"name": "i"}],
            },
            {"name": "set", "containerSet": {"containers": [{"name": "a"}, {"name": "b"}]}},
            {"name": "py", "script": {"image": "python:3.12", "source": "print(1)"}},
        ],
    }
    r = res("WorkflowTemplate", spec, "argoproj.io/v1alpha1")
    pods = pod_specs(r)
    assert [p.label for p in pods] == [
        "WorkflowTemplate template 'train'",
        "WorkflowTemplate template 'set'",
        "WorkflowTemplate template 'py'",
    ]
    train = pods[0]
    assert [c.name for c in train.containers] == ["main", "i", "s"]  # Argo names it main
    assert [v["name"] for v in train.spec["volumes"]] == ["wf", "t"]  # joined, as Argo mounts
    assert train.at("volumes", 0, "hostPath") == ("spec", "volumes", 0, "hostPath")
    assert train.at("volumes", 1) == ("spec", "templates", 1, "volumes", 0)
    assert train.at("securityContext", "runAsNonRoot") == (
        "spec",
        "securityContext",
        "runAsNonRoot",
    )
    assert train.annotations == {"p": "1"}


def test_cron_workflow_spec_path() -> None:
    r = res(
        "CronWorkflow",
        {"workflowSpec": {"templates": [{"name": "t", "container": C}]}},
        "argoproj.io/v1alpha1",
    )
    assert containers(r) == [("main", ("spec", "workflowSpec", "templates", 0, "container"))]


def test_kinds_without_pods_and_malformed_specs() -> None:
    assert pod_specs(res("ConfigMap", {})) == []
    assert pod_specs(res("Deployment", {"template": "oops"}, "apps/v1")) == []
    broken = Resource.from_body({"apiVersion": "v1", "kind": "Pod", "spec": ["x"]}, Origin("f"))
    assert pod_specs(broken) == []


# --- every pod carrier, judged by the Pod Security rules: a hardened and a broken input -------

POD_SC = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
HARDENED = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
SAFE = {"name": "c", "image": "registry.example.com/m:1.0", "securityContext": HARDENED}
PRIVILEGED = {
    "name": "c",
    "image": "registry.example.com/m:1.0",
    "securityContext": {"privileged": True},
}

Spec = dict[str, Any]


def pss_flags(resource: Resource, level: Level = Level.RESTRICTED) -> set[str]:
    """The pss rules the engine would report on ``resource`` (inferred pod specs included)."""
    ctx = Context((1, 37), level)
    levels = {Level.BASELINE} if level is Level.BASELINE else {Level.BASELINE, Level.RESTRICTED}
    rules = [r for r in all_rules().values() if r.family == "pss" and r.level in levels]
    return {hit.rule.id for hit in evaluate(rules, [resource], ctx)}


def pod(container: Spec, **fields: Any) -> Spec:
    return {"securityContext": POD_SC, **fields, "containers": [container]}


def workflow_container(container: Spec) -> Spec:
    return {k: v for k, v in container.items() if k != "name"}


#: (id, apiVersion, kind, spec builder(container, extra pod fields))
CARRIERS: list[tuple[str, str, str, Callable[..., Spec]]] = [
    (
        "knative-service",
        "serving.knative.dev/v1",
        "Service",
        lambda c, **f: {"template": {"spec": pod(c, **f)}},
    ),
    (
        "knative-configuration",
        "serving.knative.dev/v1",
        "Configuration",
        lambda c, **f: {"template": {"spec": pod(c, **f)}},
    ),
    ("knative-revision", "serving.knative.dev/v1", "Revision", lambda c, **f: pod(c, **f)),
    (
        "experiment",
        "argoproj.io/v1alpha1",
        "Experiment",
        lambda c, **f: {"templates": [{"name": "a", "template": {"spec": pod(c, **f)}}]},
    ),
    *[
        (
            kind.lower(),
            "argoproj.io/v1alpha1",
            kind,
            lambda c, **f: {
                "metrics": [
                    {
                        "name": "m",
                        "provider": {
                            "job": {
                                "spec": {
                                    "template": {"spec": {**pod(c, **f), "restartPolicy": "Never"}}
                                }
                            }
                        },
                    }
                ]
            },
        )
        for kind in ("AnalysisTemplate", "ClusterAnalysisTemplate", "AnalysisRun")
    ],
    (
        "llmisvc-template",
        "serving.kserve.io/v1alpha1",
        "LLMInferenceService",
        lambda c, **f: {"model": {"uri": "hf://m"}, "template": pod(c, **f)},
    ),
    (
        "llmisvc-worker",
        "serving.kserve.io/v1alpha2",
        "LLMInferenceService",
        lambda c, **f: {"model": {"uri": "hf://m"}, "worker": pod(c, **f)},
    ),
    (
        "llmisvc-prefill",
        "serving.kserve.io/v1alpha2",
        "LLMInferenceService",
        lambda c, **f: {"prefill": {"template": pod(c, **f)}},
    ),
    (
        "llmisvc-scheduler",
        "serving.kserve.io/v1alpha2",
        "LLMInferenceService",
        lambda c, **f: {"router": {"scheduler": {"template": pod(c, **f)}}},
    ),
    (
        "llmisvc-config",
        "serving.kserve.io/v1alpha2",
        "LLMInferenceServiceConfig",
        lambda c, **f: {"template": pod(c, **f)},
    ),
    *[
        (
            kind.lower(),
            "monitoring.coreos.com/v1",
            kind,
            lambda c, **f: {**pod({**c, "name": "prometheus"}, **f)},
        )
        for kind in ("Prometheus", "PrometheusAgent", "Alertmanager", "ThanosRuler")
    ],
    *[
        (
            kind.lower(),
            "argoproj.io/v1alpha1",
            kind,
            lambda c, **f: {
                **f,
                "securityContext": POD_SC,
                "templates": [{"name": "t", "container": workflow_container(c)}],
            },
        )
        for kind in ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate")
    ],
    (
        "cronworkflow",
        "argoproj.io/v1alpha1",
        "CronWorkflow",
        lambda c, **f: {
            "workflowSpec": {
                **f,
                "securityContext": POD_SC,
                "templates": [
                    {"name": "t", "script": {**workflow_container(c), "source": "print(1)"}}
                ],
            }
        },
    ),
    (
        "workflow-container-set",
        "argoproj.io/v1alpha1",
        "Workflow",
        lambda c, **f: {
            **f,
            "securityContext": POD_SC,
            "templates": [{"name": "t", "containerSet": {"containers": [c]}}],
        },
    ),
    (
        "workflow-inline-step",
        "argoproj.io/v1alpha1",
        "Workflow",
        lambda c, **f: {
            **f,
            "securityContext": POD_SC,
            "templates": [
                {
                    "name": "s",
                    "steps": [[{"name": "x", "inline": {"container": workflow_container(c)}}]],
                }
            ],
        },
    ),
    (
        "workflow-inline-dag",
        "argoproj.io/v1alpha1",
        "Workflow",
        lambda c, **f: {
            **f,
            "securityContext": POD_SC,
            "templates": [
                {
                    "name": "d",
                    "dag": {
                        "tasks": [
                            {
                                "name": "x",
                                "inline": {"sidecars": [c], "container": workflow_container(SAFE)},
                            }
                        ]
                    },
                }
            ],
        },
    ),
    # a kind named like one servegate walks, in another group: searched by shape, not walked
    # as the namesake (a Volcano Job holds its pods under spec.tasks[].template)
    (
        "foreign-job",
        "batch.volcano.sh/v1alpha1",
        "Job",
        lambda c, **f: {"tasks": [{"name": "w", "template": {"spec": pod(c, **f)}}]},
    ),
    (
        "foreign-deployment",
        "apps.example.com/v1",
        "Deployment",
        lambda c, **f: {"components": [{"podSpec": pod(c, **f)}]},
    ),
    (
        "foreign-pod",
        "example.com/v1",
        "Pod",
        lambda c, **f: {"runtime": {"pod": pod(c, **f)}},
    ),
    (
        "foreign-workflow",
        "core.oam.dev/v1alpha1",
        "Workflow",
        lambda c, **f: {"steps": [{"name": "s", "properties": pod(c, **f)}]},
    ),
    # containers under other names: Tekton's steps (under stepTemplate) and sidecars, Argo
    # Events' lone template.container
    (
        "tekton-steps",
        "tekton.dev/v1",
        "Task",
        lambda c, **f: {**f, "stepTemplate": {"securityContext": POD_SC}, "steps": [c]},
    ),
    (
        "tekton-sidecars",
        "tekton.dev/v1",
        "Task",
        lambda c, **f: {
            **f,
            "steps": [
                {
                    "name": "s",
                    "image": "registry.example.com/s:1",
                    "securityContext": {**POD_SC, **HARDENED},
                }
            ],
            "sidecars": [{**c, "securityContext": {**POD_SC, **c["securityContext"]}}],
        },
    ),
    (
        "argo-events-sensor",
        "argoproj.io/v1alpha1",
        "Sensor",
        lambda c, **f: {"template": {**f, "securityContext": POD_SC, "container": c}},
    ),
    # a CRD in a *.k8s.io group that Kubernetes does not serve
    (
        "k8s-io-crd",
        "runners.k8s.io/v1",
        "Runner",
        lambda c, **f: {"template": {"spec": pod(c, **f)}},
    ),
    (
        "unknown-kind",
        "example.com/v1",
        "ModelServer",
        lambda c, **f: {"runner": {"podTemplate": {"spec": pod(c, **f)}}},
    ),
]
CARRIER_IDS = [c[0] for c in CARRIERS]


def carrier(api: str, kind: str, spec: Spec) -> Resource:
    body = {"apiVersion": api, "kind": kind, "metadata": {"name": "x", "namespace": "ml"}}
    return Resource.from_body({**body, "spec": spec}, Origin("f.yaml"))


@pytest.mark.parametrize(("case", "api", "kind", "build"), CARRIERS, ids=CARRIER_IDS)
def test_hardened_pod_passes_restricted(
    case: str, api: str, kind: str, build: Callable[..., Spec]
) -> None:
    r = carrier(api, kind, build(SAFE))
    assert pod_specs(r, inferred=True), f"{case}: no pod found"
    assert pss_flags(r) == set()


@pytest.mark.parametrize(("case", "api", "kind", "build"), CARRIERS, ids=CARRIER_IDS)
def test_privileged_container_fails_baseline(
    case: str, api: str, kind: str, build: Callable[..., Spec]
) -> None:
    r = carrier(api, kind, build(PRIVILEGED))
    assert "pss.privileged" in pss_flags(r, Level.BASELINE)


@pytest.mark.parametrize(("case", "api", "kind", "build"), CARRIERS, ids=CARRIER_IDS)
def test_host_path_volume_fails_baseline(
    case: str, api: str, kind: str, build: Callable[..., Spec]
) -> None:
    volumes = [{"name": "host", "hostPath": {"path": "/"}}]
    r = carrier(api, kind, build(SAFE, volumes=volumes))
    assert "pss.host-path-volumes" in pss_flags(r, Level.BASELINE)


def test_shared_kind_names_dispatch_by_group() -> None:
    knative = carrier("serving.knative.dev/v1", "Service", {"template": {"spec": pod(SAFE)}})
    core = carrier("v1", "Service", {"ports": [{"port": 80}]})
    iter8 = carrier("iter8.tools/v2alpha2", "Experiment", {"target": "x"})
    assert [p.label for p in pod_specs(knative)] == ["Knative Service revision template"]
    assert pod_specs(core, inferred=True) == []
    assert pod_specs(iter8, inferred=True) == []  # a shipped-schema kind: known, no pods
    volcano = carrier("batch.volcano.sh/v1alpha1", "Job", {"template": {"spec": pod(SAFE)}})
    assert pod_specs(volcano) == []  # not batch's Job: only the search finds its pods
    [found] = pod_specs(volcano, inferred=True)
    assert found.inferred and "location inferred" in found.label
    assert "batch.volcano.sh/v1alpha1 Job" in found.label
    networking = carrier("networking.k8s.io/v1", "Ingress", {"rules": [{"host": "a"}]})
    assert pod_specs(networking, inferred=True) == []  # built in: known, not searched


def test_prometheus_operator_merges_its_own_containers() -> None:
    spec = {
        "thanos": {},
        "securityContext": POD_SC,
        "containers": [
            {"name": "prometheus", "securityContext": {"privileged": True}},
            {"name": "extra", "image": "registry.example.com/e:1", "securityContext": HARDENED},
        ],
        "initContainers": [{"name": "init-config-reloader", "securityContext": {"runAsUser": 0}}],
    }
    [view] = pod_specs(carrier("monitoring.coreos.com/v1", "Prometheus", spec))
    by_name = {c.name: c for c in view.containers}
    assert list(by_name) == [
        "init-config-reloader",
        "prometheus",
        "config-reloader",
        "thanos-sidecar",
        "extra",
    ]
    merged = by_name["prometheus"].security_context
    assert merged == {**HARDENED, "readOnlyRootFilesystem": True, "privileged": True}
    assert by_name["prometheus"].at("securityContext") == (
        "spec",
        "containers",
        0,
        "securityContext",
    )
    # a generated container not in the object: its missing settings belong at the pod level
    assert by_name["config-reloader"].at("securityContext", "runAsNonRoot") == (
        "spec",
        "securityContext",
        "runAsNonRoot",
    )
    assert by_name["init-config-reloader"].security_context["runAsUser"] == 0
    assert view.metadata_path == ("spec", "podMetadata")
    # ThanosRuler takes spec.initContainers as written (pkg/thanos/statefulset.go)
    ruler = carrier("monitoring.coreos.com/v1", "ThanosRuler", {"initContainers": [SAFE]})
    assert [c.name for c in pod_specs(ruler)[0].containers][:1] == ["c"]


def test_prometheus_without_pod_security_context_fails_restricted() -> None:
    r = carrier("monitoring.coreos.com/v1", "Alertmanager", {"replicas": 1})
    assert {"pss.run-as-non-root", "pss.seccomp-restricted"} <= pss_flags(r)
    assert pss_flags(r, Level.BASELINE) == set()  # the operator's containers are hardened


# --- Argo Workflows: templateDefaults and podSpecPatch ----------------------------------------


def workflow(spec: Spec, kind: str = "Workflow") -> Resource:
    return carrier("argoproj.io/v1alpha1", kind, {"securityContext": POD_SC, **spec})


def test_template_defaults_merge_deeply_into_the_container() -> None:
    r = workflow(
        {
            "templateDefaults": {"container": {"securityContext": {"privileged": True}}},
            "templates": [
                {"name": "t", "container": {"image": "x:1", "securityContext": HARDENED}}
            ],
        }
    )
    [view] = pod_specs(r)
    assert view.containers[0].security_context == {**HARDENED, "privileged": True}
    assert "pss.privileged" in pss_flags(r, Level.BASELINE)
    # defaults of another template type do not apply (operator.go mergedTemplateDefaultsInto)
    other = workflow(
        {
            "templateDefaults": {"script": {"securityContext": {"privileged": True}}},
            "templates": [
                {"name": "t", "container": {"image": "x:1", "securityContext": HARDENED}}
            ],
        }
    )
    assert pss_flags(other) == set()


@pytest.mark.parametrize(
    "patch",
    [
        "hostNetwork: true\ncontainers:\n- name: main\n  securityContext: {privileged: true}\n",
        '{"hostNetwork": true, "containers": [{"name": "main", "securityContext": {"privileged": true}}]}',
        '  \n {"hostNetwork": true,\n "containers": [{"name": "main", "securityContext": {"privileged": true}}]}',
    ],
    ids=["yaml", "json", "json-after-space"],
)
@pytest.mark.parametrize("level", ["workflow", "template", "defaults"])
def test_pod_spec_patch_is_applied_and_located(patch: str, level: str) -> None:
    template: Spec = {"name": "t", "container": {"image": "x:1", "securityContext": HARDENED}}
    spec: Spec = {"templates": [template]}
    where: tuple[str | int, ...]
    if level == "workflow":
        spec["podSpecPatch"], where = patch, ("spec", "podSpecPatch")
    elif level == "template":
        template["podSpecPatch"], where = patch, ("spec", "templates", 0, "podSpecPatch")
    else:
        spec["templateDefaults"] = {"podSpecPatch": patch}
        where = ("spec", "templateDefaults", "podSpecPatch")
    r = workflow(spec)
    [view] = pod_specs(r)
    [main] = view.containers
    assert main.security_context == {**HARDENED, "privileged": True}  # merged, not replaced
    assert main.at("securityContext", "privileged") == (
        *where,
        "containers",
        0,
        "securityContext",
        "privileged",
    )
    assert main.at("image") == ("spec", "templates", 0, "container", "image")
    assert view.spec["hostNetwork"] is True and view.at("hostNetwork") == (*where, "hostNetwork")
    assert {"pss.privileged", "pss.host-namespaces"} <= pss_flags(r, Level.BASELINE)


def test_workflow_and_template_patches_apply_in_order() -> None:
    r = workflow(
        {
            "podSpecPatch": "hostPID: true",
            "templates": [
                {"name": "t", "podSpecPatch": "hostPID: false", "container": {"image": "x:1"}},
                {"name": "u", "container": {"image": "x:1"}},
            ],
        }
    )
    first, second = pod_specs(r)
    assert first.spec["hostPID"] is False  # the template's patch comes last
    assert second.spec["hostPID"] is True


def test_pod_spec_patch_on_resource_templates_and_artifact_gc() -> None:
    r = workflow(
        {
            "artifactGC": {"podSpecPatch": "hostIPC: true"},
            "templates": [
                {"name": "r", "resource": {"action": "get", "manifest": "kind: X"}},
                {"name": "p", "podSpecPatch": "hostNetwork: true", "resource": {"action": "get"}},
            ],
        }
    )
    labels = [p.label for p in pod_specs(r)]
    assert labels == [
        "Workflow template 'p' (with podSpecPatch)",
        "Workflow artifact GC pod (with podSpecPatch)",
    ]
    gc = carrier("argoproj.io/v1alpha1", "Workflow", {"artifactGC": {"podSpecPatch": "{}"}})
    assert pss_flags(gc) == set()  # the controller's GC pod is hardened (MinimalPodSC)


@pytest.mark.parametrize(
    ("patch", "why"),
    [
        ("{{inputs.parameters.patch}}", "not valid JSON"),  # starts with "{": read as JSON
        ("hostNetwork: {{inputs.parameters.host}}", "not valid YAML"),
        ('{"hostNetwork": true,}', "not valid JSON"),
        ('{"a": 1, "a": 2}', "not valid JSON: duplicate key"),
        ('{"HostNetwork": true}', "differs from 'hostNetwork' only in case"),
        ("containers:\n- name: main\n  SecurityContext: {privileged: true}", "only in case"),
        ("- hostNetwork: true", "not a mapping"),
        ("a: 1\n---\nb: 2", "exactly one YAML document"),
        ("x: " + "y" * 70_000, "longer than 64 KiB"),
        ("containers:\n- securityContext: {privileged: true}", "does not hold its merge key"),
        ('{"$patch": "explode"}', "unknown $patch directive"),
    ],
)
def test_unreadable_pod_spec_patches_are_reported(patch: str, why: str) -> None:
    r = workflow({"templates": [{"name": "t", "podSpecPatch": patch, "container": {"image": "x"}}]})
    problems = unresolved(r)
    assert [p for p, _ in problems] == [("spec", "templates", 0, "podSpecPatch")]
    assert why in problems[0][1]


def test_templated_values_inside_a_readable_patch_are_fine() -> None:
    patch = '{"containers":[{"name":"main","resources":{"limits":{"cpu":"{{inputs.parameters.cpu}}"}}}]}'
    r = workflow({"templates": [{"name": "t", "podSpecPatch": patch, "container": {"image": "x"}}]})
    assert unresolved(r) == []


# --- kinds servegate does not know: pod specs found by shape ----------------------------------


def test_unknown_kind_pod_specs_are_inferred_wherever_nested() -> None:
    spec = {
        "stages": [
            {"name": "a", "runner": {"containers": [{"name": "x", "image": "img:1"}]}},
            {
                "name": "b",
                "template": {"metadata": {"annotations": {"k": "v"}}, "spec": {"hostPID": True}},
            },
        ],
        "sidecarSet": {"initContainers": [{"name": "i", "image": "img:1"}]},
        "notPods": {"containers": "a string", "names": [{"name": "no image"}]},
    }
    r = carrier("example.com/v1", "Pipeline", spec)
    assert pod_specs(r) == []  # only the engine asks for inferred pods
    views = pod_specs(r, inferred=True)
    assert [v.path for v in views] == [
        ("spec", "stages", 0, "runner"),
        ("spec", "stages", 1, "template", "spec"),
        ("spec", "sidecarSet"),
    ]
    assert all(v.inferred and "location inferred" in v.label for v in views)
    assert views[1].annotations == {"k": "v"}
    assert views[1].metadata_path == ("spec", "stages", 1, "template", "metadata")
    assert has_pods(r)


def test_inferred_search_is_bounded_and_reports_when_it_stops() -> None:
    deep: Spec = {
        "containers": [{"name": "c", "image": "img", "securityContext": {"privileged": True}}]
    }
    for _ in range(40):
        deep = {"next": deep}
    r = carrier("example.com/v1", "Nest", deep)
    assert pod_specs(r, inferred=True) == []
    [(path, why)] = unresolved(r)
    assert path == () and "nests deeper than" in why
    wide = carrier("example.com/v1", "Wide", {"rows": [[1, {"a": [{}]}]] * 12_000})
    assert "more than 20,000 nodes" in unresolved(wide)[0][1]
    assert unresolved(carrier("apps/v1", "Deployment", {})) == []


def test_workflow_template_ref_pods_take_the_workflows_pod_fields_and_patch() -> None:
    ref = {"workflowTemplateRef": {"name": "train"}, "serviceAccountName": "runner"}
    host = carrier("argoproj.io/v1alpha1", "Workflow", {**ref, "hostNetwork": True})
    [view] = pod_specs(host)
    assert view.label == "Workflow pods of WorkflowTemplate 'train'"
    assert view.at("hostNetwork") == ("spec", "hostNetwork")
    assert pss_flags(host) == {"pss.host-namespaces"}
    patched = carrier(
        "argoproj.io/v1alpha1",
        "CronWorkflow",
        {"workflowSpec": {**ref, "podSpecPatch": "volumes: [{name: h, hostPath: {path: /}}]"}},
    )
    assert "pss.host-path-volumes" in pss_flags(patched, Level.BASELINE)
    assert pod_specs(carrier("argoproj.io/v1alpha1", "Workflow", ref)) == []


def test_containers_under_other_names_are_found_only_when_container_like() -> None:
    """Tekton's steps and sidecars, a lone ``container``: found when they hold an image or a
    securityContext; step references (Argo-style ``steps`` of template names) are not."""
    refs = carrier("example.com/v1", "Pipeline", {"steps": [[{"name": "a", "template": "t"}]]})
    lone_text = carrier("example.com/v1", "Job2", {"container": "registry.example.com/x:1"})
    assert pod_specs(refs, inferred=True) == [] and pod_specs(lone_text, inferred=True) == []
    task = carrier(
        "tekton.dev/v1",
        "Task",
        {
            "stepTemplate": {"securityContext": {"runAsNonRoot": True, "runAsUser": 1000}},
            "steps": [{"name": "a", "image": "i", "securityContext": {"runAsUser": 0}}],
        },
    )
    [pod] = pod_specs(task, inferred=True)
    [step] = pod.containers
    assert (step.section, step.path) == ("steps", ("spec", "steps", 0))
    # the step's own field wins over the template's, the template fills the rest
    assert step.security_context == {"runAsNonRoot": True, "runAsUser": 0}
    assert "pss.run-as-user" in pss_flags(task)


def test_pod_fields_at_the_top_of_an_unknown_kind_are_found() -> None:
    body = {
        "apiVersion": "example.com/v1",
        "kind": "RawPod",
        "metadata": {"name": "x", "namespace": "ml"},
        "hostPID": True,
        "containers": [PRIVILEGED],
    }
    r = Resource.from_body(body, Origin("f.yaml"))
    [pod] = pod_specs(r, inferred=True)
    assert pod.path == () and pod.inferred and "location inferred" in pod.label
    assert [c.path for c in pod.containers] == [("containers", 0)]
    assert {"pss.privileged", "pss.host-namespaces"} <= pss_flags(r, Level.BASELINE)

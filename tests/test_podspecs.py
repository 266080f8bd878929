"""The pod-spec layer finds every container in every pod-bearing kind, with the right paths."""

from __future__ import annotations

from typing import Any

import pytest

from servegate.podspecs import pod_specs
from servegate.resource import Origin, Resource

C = {"name": "c", "image": "busybox:1.36"}


def res(kind: str, spec: dict[str, Any], api: str = "v1", **meta: Any) -> Resource:
    body = {"apiVersion": api, "kind": kind, "metadata": {"name": "x", **meta}, "spec": spec}
    return Resource.from_body(body, Origin("f.yaml"))


def containers(resource: Resource) -> list[tuple[str, tuple[str | int, ...]]]:
    return [(c.name, c.path) for pod in pod_specs(resource) for c in pod.containers]


@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"])
def test_workload_templates(kind: str) -> None:
    r = res(kind, {"template": {"spec": {"containers": [C], "initContainers": [C]}}}, "apps/v1")
    assert containers(r) == [
        ("c", ("spec", "template", "spec", "initContainers", 0)),
        ("c", ("spec", "template", "spec", "containers", 0)),
    ]
    [pod] = pod_specs(r)
    assert pod.metadata_path == ("spec", "template", "metadata")


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
    assert [c.name for c in train.containers] == ["c", "i", "s"]
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
    assert containers(r) == [("c", ("spec", "workflowSpec", "templates", 0, "container"))]


def test_kinds_without_pods_and_malformed_specs() -> None:
    assert pod_specs(res("ConfigMap", {})) == []
    assert pod_specs(res("Deployment", {"template": "oops"}, "apps/v1")) == []
    broken = Resource.from_body({"apiVersion": "v1", "kind": "Pod", "spec": ["x"]}, Origin("f"))
    assert pod_specs(broken) == []

"""Effective InferenceService pods (servegate.podspecs.kserve): KServe's runtime selection and
merge, the storage-initializer, and where each field of the result is written."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import HARDENED_CONTEXT, inference_service, objects_of, resources_of, serving_runtime

from servegate.podspecs.unit import UnitPods, UnitSettings
from servegate.podspecs.views import PodSpecView
from servegate.resource import Resource

HARDENED = HARDENED_CONTEXT
isvc = inference_service
runtime = serving_runtime
objects = objects_of


def load(text: str) -> list[Resource]:
    return resources_of(text, "repo.yaml")


def predictor_pod(unit: UnitPods, resource: Resource) -> PodSpecView:
    return next(p for p in unit.pods(resource) if p.label == "InferenceService predictor")


def chosen(*bodies: dict[str, Any]) -> str | None:
    """The name of the runtime merged into the first object's predictor pod."""
    resources = objects(*bodies)
    pod = predictor_pod(UnitPods(resources, UnitSettings(mesh="none")), resources[0])
    assert pod.built is not None
    return pod.built.runtime.name if pod.built.runtime is not None else None


SKLEARN = {"name": "sklearn", "version": "1", "autoSelect": True}


def test_explicit_runtime_namespaced_before_cluster() -> None:
    model = {"model": {"runtime": "rt", "modelFormat": {"name": "sklearn"}}}
    cluster = runtime("rt", [SKLEARN], kind="ClusterServingRuntime")
    namespaced = runtime("rt", [SKLEARN])
    resources = objects(isvc("a", model), cluster, namespaced)
    pod = predictor_pod(UnitPods(resources, UnitSettings(mesh="none")), resources[0])
    assert pod.built is not None and pod.built.runtime is resources[2]
    # another namespace's ServingRuntime of that name is not seen: the cluster one is
    elsewhere = runtime("rt", [SKLEARN], namespace="other")
    resources = objects(isvc("a", model), elsewhere, cluster)
    pod = predictor_pod(UnitPods(resources, UnitSettings(mesh="none")), resources[0])
    assert pod.built is not None and pod.built.runtime is resources[2]


def test_explicit_runtime_counts_formats_without_auto_select() -> None:
    manual = runtime("manual", [{"name": "sklearn"}])
    assert (
        chosen(
            isvc("a", {"model": {"runtime": "manual", "modelFormat": {"name": "sklearn"}}}), manual
        )
        == "manual"
    )
    assert chosen(isvc("a", {"model": {"modelFormat": {"name": "sklearn"}}}), manual) is None


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ({"modelFormat": {"name": "sklearn"}}, "high"),
        ({"modelFormat": {"name": "sklearn", "version": "1"}}, "high"),
        ({"modelFormat": {"name": "sklearn", "version": "0"}}, "v0"),
        ({"modelFormat": {"name": "sklearn"}, "protocolVersion": "v2"}, "v2-only"),
        ({"modelFormat": {"name": "xgboost"}}, None),
    ],
)
def test_auto_selection_by_format_version_protocol_and_priority(
    model: dict[str, Any], expected: str | None
) -> None:
    bodies = [
        isvc("a", {"model": model}),
        runtime("low", [{**SKLEARN, "priority": 1}], protocolVersions=["v1"]),
        runtime("high", [{**SKLEARN, "priority": 5}], protocolVersions=["v1"]),
        runtime("none-set", [SKLEARN], protocolVersions=["v1"]),
        runtime("disabled", [{**SKLEARN, "priority": 9}], disabled=True),
        runtime(
            "v0", [{"name": "sklearn", "version": "0", "autoSelect": True}], protocolVersions=["v1"]
        ),
        runtime("v2-only", [SKLEARN], protocolVersions=["v2"]),
        runtime("mm", [{**SKLEARN, "priority": 10}], multiModel=True),
        runtime(
            "multinode",
            [{**SKLEARN, "priority": 10}],
            workerSpec={"containers": [{"name": "worker-container"}]},
        ),
    ]
    assert chosen(*bodies) == expected


def test_namespaced_runtimes_win_over_higher_priority_cluster_runtimes() -> None:
    bodies = [
        isvc("a", {"model": {"modelFormat": {"name": "sklearn"}}}),
        runtime("cluster", [{**SKLEARN, "priority": 100}], kind="ClusterServingRuntime"),
        runtime("local", [SKLEARN]),
    ]
    assert chosen(*bodies) == "local"
    bodies[2] = runtime("local", [SKLEARN], namespace="elsewhere")
    assert chosen(*bodies) == "cluster"


def test_legacy_shortcuts_select_by_their_format_and_default_protocol() -> None:
    onnx_v1 = runtime("onnx-v1", [{"name": "onnx", "autoSelect": True}], protocolVersions=["v1"])
    onnx_v2 = runtime("onnx-v2", [{"name": "onnx", "autoSelect": True}], protocolVersions=["v2"])
    assert chosen(isvc("a", {"onnx": {"storageUri": "pvc://m/x"}}), onnx_v1, onnx_v2) == "onnx-v2"
    assert (
        chosen(isvc("a", {"sklearn": {"storageUri": "pvc://m/x"}}), runtime("s", [SKLEARN])) == "s"
    )


def test_multi_node_predictor_selects_runtimes_with_workers() -> None:
    worker = {
        "containers": [{"name": "worker-container", "image": "r/w:1", "securityContext": HARDENED}]
    }
    bodies = [
        isvc("a", {"model": {"modelFormat": {"name": "sklearn"}}, "workerSpec": {}}),
        runtime("single", [SKLEARN]),
        runtime("multi", [SKLEARN], workerSpec=worker),
    ]
    assert chosen(*bodies) == "multi"
    resources = objects(*bodies)
    pods = UnitPods(resources, UnitSettings(mesh="none")).pods(resources[0])
    [worker_pod] = [p for p in pods if p.label.endswith("workerSpec")]
    [container] = worker_pod.containers
    assert container.name == "worker-container" and container.security_context == HARDENED
    source, path = worker_pod.source_of(container.at("securityContext", "runAsNonRoot"))
    assert source is not None and source.resource is resources[2]
    assert path == ("spec", "workerSpec", "containers", 0, "securityContext", "runAsNonRoot")


def test_merge_takes_the_runtime_fields_the_model_leaves_out() -> None:
    resources = load(
        """
        apiVersion: serving.kserve.io/v1beta1
        kind: InferenceService
        metadata: {name: iris, namespace: ml}
        spec:
          predictor:
            model:
              runtime: rt
              modelFormat: {name: sklearn}
              args: [--workers=2]
              env:
              - {name: B, value: mine}
              securityContext:
                privileged: true
        ---
        apiVersion: serving.kserve.io/v1alpha1
        kind: ServingRuntime
        metadata: {name: rt, namespace: ml}
        spec:
          supportedModelFormats: [{name: sklearn}]
          annotations: {prometheus.kserve.io/port: "8080"}
          volumes:
          - name: cache
            emptyDir: {}
          containers:
          - name: kserve-container
            image: registry.example.com/sk:1
            args: [--model_dir=/mnt/models]
            env:
            - {name: A, value: theirs}
            - {name: B, value: theirs}
            securityContext:
              runAsNonRoot: true
            resources:
              requests: {cpu: "1", memory: 1Gi}
          - name: agent
            image: registry.example.com/agent:1
        """
    )
    pod = predictor_pod(UnitPods(resources, UnitSettings(mesh="none")), resources[0])
    main, agent = pod.containers
    assert main.name == "kserve-container" and main.path == ("spec", "predictor", "model")
    assert main.body["image"] == "registry.example.com/sk:1"
    assert main.body["args"] == ["--model_dir=/mnt/models", "--workers=2"]  # runtime's first
    assert main.body["env"] == [{"name": "A", "value": "theirs"}, {"name": "B", "value": "mine"}]
    assert main.security_context == {"runAsNonRoot": True, "privileged": True}
    assert "modelFormat" not in main.body and "runtime" not in main.body
    assert agent.name == "agent"
    assert pod.spec["volumes"] == [{"name": "cache", "emptyDir": {}}]
    assert pod.annotations["prometheus.kserve.io/port"] == "8080"

    def where(path: tuple[str | int, ...]) -> tuple[str, int]:
        source, at = pod.source_of(path)
        return (source.resource if source else pod.resource).locate(at)

    runtime_doc = resources[1].origin.document
    isvc_doc = resources[0].origin.document
    assert runtime_doc is not None and isvc_doc is not None
    # the runtime's setting, or the runtime's container when neither sets it
    assert where(main.at("securityContext", "runAsNonRoot"))[1] == runtime_doc.line_of(
        ("spec", "containers", 0, "securityContext", "runAsNonRoot")
    )
    assert where(main.at("securityContext", "seccompProfile"))[1] == runtime_doc.line_of(
        ("spec", "containers", 0, "securityContext")
    )
    # the InferenceService's override, at its line; a merged list item at its own index
    assert where(main.at("securityContext", "privileged"))[1] == isvc_doc.line_of(
        ("spec", "predictor", "model", "securityContext", "privileged")
    )
    assert where(main.at("env", 1, "value"))[1] == isvc_doc.line_of(
        ("spec", "predictor", "model", "env", 0, "value")
    )
    assert where(main.at("args", 1))[1] == isvc_doc.line_of(
        ("spec", "predictor", "model", "args", 0)
    )
    assert where(agent.at("image"))[1] == runtime_doc.line_of(("spec", "containers", 1, "image"))
    assert where(pod.at("volumes", 0))[1] == runtime_doc.line_of(("spec", "volumes", 0))
    assert where(pod.at("securityContext", "runAsNonRoot"))[0] == "repo.yaml"
    # the model's own fields are the InferenceService's, never the runtime's container's
    assert where(main.at("modelFormat"))[1] == isvc_doc.line_of(
        ("spec", "predictor", "model", "modelFormat")
    )
    source, at = pod.source_of(main.at("storageUri"))
    assert source is not None and source.resource is resources[0]
    assert at == ("spec", "predictor", "model", "storageUri")


def test_default_storage_initializer_warning_is_located_at_the_storage_uri() -> None:
    """kserve.storage-initializer on a pod with a runtime merged in: at the InferenceService's
    storageUri (it was at the runtime's container, the longest source prefix)."""
    from servegate.rules.base import Context
    from servegate.rules.kserve.storage_initializer import RULE

    bodies = [
        isvc(
            "iris",
            {
                "model": {
                    "runtime": "rt",
                    "modelFormat": {"name": "sklearn"},
                    "storageUri": "gs://models/iris",
                }
            },
        ),
        runtime("rt", [SKLEARN]),
    ]
    resources = objects(*bodies)
    pod = predictor_pod(UnitPods(resources, UnitSettings(mesh="none")), resources[0])
    assert pod.built is not None and pod.built.runtime is resources[1]
    (hit,) = list(RULE.check(pod, Context((1, 33))))
    source, at = pod.source_of(hit.path)
    assert (source.resource if source else pod.resource) is resources[0]
    assert at == ("spec", "predictor", "model", "storageUri")


def test_runtime_version_retags_the_runtime_image() -> None:
    bodies = [
        isvc("a", {"model": {"modelFormat": {"name": "sklearn"}, "runtimeVersion": "latest"}}),
        runtime(
            "rt",
            [SKLEARN],
            containers=[{"name": "kserve-container", "image": "reg.example.com:5000/sk:1.2"}],
        ),
    ]
    resources = objects(*bodies)
    pod = predictor_pod(UnitPods(resources, UnitSettings(mesh="none")), resources[0])
    assert pod.containers[0].body["image"] == "reg.example.com:5000/sk:latest"


def test_transformer_container_merged_and_other_containers_appended() -> None:
    bodies = [
        isvc(
            "a",
            {
                "model": {"modelFormat": {"name": "sklearn"}},
                "containers": [
                    {"name": "transformer-container", "args": ["--x"]},
                    {"name": "sidecar", "image": "mine/sidecar:1"},
                ],
            },
        ),
        runtime(
            "rt",
            [SKLEARN],
            containers=[
                {"name": "kserve-container", "image": "r/sk:1"},
                {"name": "transformer-container", "image": "r/t:1", "securityContext": HARDENED},
            ],
        ),
    ]
    resources = objects(*bodies)
    pod = predictor_pod(UnitPods(resources, UnitSettings(mesh="none")), resources[0])
    names = [c.name for c in pod.containers]
    assert names == ["kserve-container", "transformer-container", "sidecar"]
    transformer = pod.containers[1]
    assert transformer.body["image"] == "r/t:1" and transformer.body["args"] == ["--x"]
    assert transformer.security_context == HARDENED


def test_no_runtime_in_the_set_judges_the_model_as_written() -> None:
    resources = objects(
        isvc("a", {"model": {"runtime": "elsewhere", "modelFormat": {"name": "sklearn"}}})
    )
    pod = predictor_pod(UnitPods(resources, UnitSettings(mesh="none")), resources[0])
    assert pod.built is not None and pod.built.runtime is None
    assert "'elsewhere' is not in the checked set" in pod.built.runtime_note
    assert pod.built.runtime_at == ("spec", "predictor", "model", "runtime")
    assert [c.name for c in pod.containers] == ["kserve-container"]


def test_runtime_without_kserve_container_is_a_problem() -> None:
    bodies = [
        isvc("a", {"model": {"runtime": "rt", "modelFormat": {"name": "sklearn"}}}),
        runtime("rt", [SKLEARN], containers=[{"name": "server", "image": "r/s:1"}]),
    ]
    resources = objects(*bodies)
    pod = predictor_pod(UnitPods(resources, UnitSettings(mesh="none")), resources[0])
    assert pod.built is not None
    [(blamed, path, why)] = pod.built.problems
    assert blamed is resources[1] and path == ("spec", "containers") and "kserve-container" in why


def test_a_used_runtime_is_judged_in_its_pods_only() -> None:
    bodies = [
        isvc("a", {"model": {"modelFormat": {"name": "sklearn"}}}),
        runtime("used", [SKLEARN]),
        runtime("unused", [{"name": "xgboost", "autoSelect": True}]),
    ]
    resources = objects(*bodies)
    unit = UnitPods(resources, UnitSettings(mesh="none"))
    assert unit.pods(resources[1]) == []
    assert [p.label for p in unit.pods(resources[2])] == ["ServingRuntime"]


STORAGE: dict[str, Any] = {
    "apiVersion": "serving.kserve.io/v1alpha1",
    "kind": "ClusterStorageContainer",
    "metadata": {"name": "s3"},
    "spec": {
        "container": {
            "name": "storage-initializer",
            "image": "r/si:1",
            "securityContext": HARDENED,
        },
        "supportedUriFormats": [
            {"prefix": "s3://"},
            {"regex": "https://(.+?).blob.core.windows.net/(.+)"},
        ],
        "workloadType": "initContainer",
    },
}


@pytest.mark.parametrize(
    ("uri", "storage", "default"),
    [
        ("s3://models/iris", True, False),
        ("https://acct.blob.core.windows.net/c/m", True, False),
        ("gs://models/iris", False, True),
        ("pvc://models/iris", False, False),
        ("oci://registry.example.com/model:1", False, False),
    ],
)
def test_storage_initializer_from_the_matching_storage_container(
    uri: str, storage: bool, default: bool
) -> None:
    resources = objects(
        isvc("a", {"model": {"modelFormat": {"name": "sklearn"}, "storageUri": uri}}), STORAGE
    )
    pod = predictor_pod(UnitPods(resources, UnitSettings(mesh="none")), resources[0])
    inits = [c for c in pod.containers if c.section == "initContainers"]
    assert pod.built is not None
    assert (pod.built.storage is not None) == storage
    assert pod.built.storage_default == default
    if storage:
        [init] = inits
        # KServe's defaults under the ClusterStorageContainer's fields
        assert init.body["resources"]["limits"] == {"cpu": "1", "memory": "1Gi"}
        assert init.body["image"] == "r/si:1" and init.security_context == HARDENED
        source, path = pod.source_of(init.at("securityContext", "runAsNonRoot"))
        assert source is not None and source.resource is resources[1]
        assert path == ("spec", "container", "securityContext", "runAsNonRoot")
    else:
        assert inits == []


def test_disabled_or_named_storage_containers() -> None:
    disabled = {
        **STORAGE,
        "metadata": {"name": "off", "annotations": {"serving.kserve.io/disabled": "true"}},
    }
    named = {
        **STORAGE,
        "metadata": {"name": "mine"},
        "spec": {**STORAGE["spec"], "supportedUriFormats": []},
    }
    model = {"model": {"modelFormat": {"name": "sklearn"}, "storageUri": "s3://m/x"}}
    resources = objects(isvc("a", model), disabled)
    pod = predictor_pod(UnitPods(resources, UnitSettings(mesh="none")), resources[0])
    assert pod.built is not None and pod.built.storage_default
    resources = objects(isvc("a", {**model, "storageContainerName": "mine"}), named)
    pod = predictor_pod(UnitPods(resources, UnitSettings(mesh="none")), resources[0])
    assert pod.built is not None and pod.built.storage is resources[1]


def test_declared_restricted_default_storage_initializer_is_added_hardened() -> None:
    resources = objects(
        isvc("a", {"model": {"modelFormat": {"name": "sklearn"}, "storageUri": "s3://m/x"}})
    )
    pod = predictor_pod(
        UnitPods(resources, UnitSettings(mesh="none", storage_initializer="restricted")),
        resources[0],
    )
    [init] = [c for c in pod.containers if c.section == "initContainers"]
    assert init.injected and init.security_context["runAsNonRoot"] is True

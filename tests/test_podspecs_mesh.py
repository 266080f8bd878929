"""Istio's injected containers (servegate.podspecs.mesh): when Istio injects, what it adds under
each mesh mode, and where a finding about them points."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import namespace as namespace_body
from helpers import objects_of

from servegate.podspecs.mesh import injection, mesh_mode
from servegate.podspecs.unit import UnitPods, UnitSettings
from servegate.resource import Origin, Resource


def deployment(
    labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None, **spec: Any
) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "api", "namespace": "ml"},
        "spec": {
            "template": {
                "metadata": {"labels": labels or {}, "annotations": annotations or {}},
                "spec": {"containers": [{"name": "app", "image": "r/app:1"}], **spec},
            }
        },
    }


def namespace(**labels: str) -> dict[str, Any]:
    return namespace_body("ml", **labels)


def containers(mesh: str, *bodies: dict[str, Any]) -> list[str]:
    resources = objects_of(*bodies)
    [pod] = UnitPods(resources, UnitSettings(mesh=mesh)).pods(resources[0])
    return [f"{c.section}:{c.name}" for c in pod.containers]


ENABLED = {"istio-injection": "enabled"}


@pytest.mark.parametrize(
    ("ns", "labels", "annotations", "spec", "injected"),
    [
        (ENABLED, {}, {}, {}, True),
        ({"istio.io/rev": "1-24"}, {}, {}, {}, True),
        ({"istio-injection": "disabled", "istio.io/rev": "1-24"}, {}, {}, {}, False),
        ({"istio-injection": "disabled"}, {"sidecar.istio.io/inject": "true"}, {}, {}, False),
        ({}, {"sidecar.istio.io/inject": "true"}, {}, {}, True),
        ({}, {"istio.io/rev": "canary"}, {}, {}, True),
        ({}, {}, {"sidecar.istio.io/inject": "true"}, {}, False),  # annotations select no webhook
        (ENABLED, {"sidecar.istio.io/inject": "false"}, {}, {}, False),
        (ENABLED, {}, {"sidecar.istio.io/inject": "false"}, {}, False),
        (
            ENABLED,
            {"sidecar.istio.io/inject": "true"},
            {"sidecar.istio.io/inject": "false"},
            {},
            True,
        ),
        (ENABLED, {}, {}, {"hostNetwork": True}, False),
        ({}, {}, {}, {}, False),
    ],
)
def test_when_istio_injects(
    ns: dict[str, str],
    labels: dict[str, str],
    annotations: dict[str, str],
    spec: dict[str, Any],
    injected: bool,
) -> None:
    resources = [
        Resource.from_body(b, Origin("repo.yaml"))
        for b in (deployment(labels, annotations, **spec), namespace(**ns))
    ]
    [pod] = UnitPods(resources, UnitSettings(mesh="none")).pods(resources[0])
    assert (injection(pod, resources[1]) is not None) is injected


def test_what_each_mesh_adds() -> None:
    bodies = (deployment(), namespace(**ENABLED))
    assert containers("sidecar", *bodies) == [
        "initContainers:istio-init",
        "containers:app",
        "containers:istio-proxy",
    ]
    assert containers("istio-cni", *bodies) == [
        "initContainers:istio-validation",
        "containers:app",
        "containers:istio-proxy",
    ]
    assert containers("ambient", *bodies)[0] == "initContainers:istio-validation"
    assert containers("none", *bodies) == ["containers:app"]
    no_init = (deployment(annotations={"sidecar.istio.io/interceptionMode": "NONE"}), bodies[1])
    assert containers("sidecar", *no_init) == ["containers:app", "containers:istio-proxy"]


def test_injected_containers_point_at_the_switch_and_say_why() -> None:
    resources = [
        Resource.from_body(b, Origin("repo.yaml")) for b in (deployment(), namespace(**ENABLED))
    ]
    [pod] = UnitPods(resources, UnitSettings(mesh="sidecar")).pods(resources[0])
    init = pod.containers[0]
    assert init.injected and init.security_context["capabilities"]["add"] == [
        "NET_ADMIN",
        "NET_RAW",
    ]
    source, path = pod.source_of(init.at("securityContext", "capabilities", "add", 0))
    assert source is not None and source.resource is resources[1]
    assert path == ("metadata", "labels", "istio-injection")
    assert "NET_ADMIN and NET_RAW" in source.why and "istio-cni" in source.why
    # a missing seccompProfile is the pod's to set, not the namespace's
    source, path = pod.source_of(pod.containers[-1].at("securityContext", "seccompProfile", "type"))
    assert source is not None and source.resource is resources[0]
    assert path == ("spec", "template", "spec", "securityContext", "seccompProfile", "type")
    # only the Pod Security rules see injected containers
    assert [c.name for c in pod.written().containers] == ["app"]


def test_templates_get_no_injection() -> None:
    runtime = {
        "apiVersion": "serving.kserve.io/v1alpha1",
        "kind": "ServingRuntime",
        "metadata": {"name": "rt", "namespace": "ml"},
        "spec": {"containers": [{"name": "kserve-container", "image": "r/s:1"}]},
    }
    resources = [
        Resource.from_body(b, Origin("repo.yaml")) for b in (runtime, namespace(**ENABLED))
    ]
    [pod] = UnitPods(resources, UnitSettings(mesh="sidecar")).pods(resources[0])
    assert [c.name for c in pod.containers] == ["kserve-container"]


def test_mesh_mode_from_the_first_layer_that_sets_it() -> None:
    assert mesh_mode({}, {}) == "sidecar"
    assert mesh_mode({}, {"mesh": "ambient"}) == "ambient"
    assert mesh_mode({"mesh": "istio-cni"}, {"mesh": "ambient"}) == "istio-cni"
    assert mesh_mode({"mesh": "cilium"}, {"mesh": "ambient"}) == "sidecar"  # unknown: admits least

"""PeerAuthentication inheritance (servegate/rules/istio/_peerauth.py) as Istio's
ComposePeerAuthentication resolves it."""

from __future__ import annotations

from typing import Any

from servegate.resource import Origin, Resource
from servegate.rules.base import Context
from servegate.rules.istio._peerauth import Level, MeshPolicies, level


def pa(
    name: str, namespace: str, mode: str | None, selector: dict[str, str] | None = None
) -> Resource:
    spec: dict[str, Any] = {}
    if mode is not None:
        spec["mtls"] = {"mode": mode}
    if selector is not None:
        spec["selector"] = {"matchLabels": selector}
    body = {
        "apiVersion": "security.istio.io/v1",
        "kind": "PeerAuthentication",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }
    return Resource.from_body(body, Origin(file="x.yaml"))


CTX = Context((1, 33))


def test_levels() -> None:
    assert level(pa("m", "istio-system", "STRICT"), "istio-system") is Level.MESH
    assert level(pa("n", "ml", "STRICT"), "istio-system") is Level.NAMESPACE
    assert level(pa("n", "ml", "STRICT", {}), "istio-system") is Level.NAMESPACE
    assert level(pa("w", "ml", "STRICT", {"app": "a"}), "istio-system") is Level.WORKLOAD
    assert level(pa("w", "istio-system", "STRICT", {"app": "a"}), "istio-system") is Level.IGNORED


def test_unset_inherits_from_the_next_wider_level() -> None:
    mesh = pa("mesh", "istio-system", "STRICT")
    ns = pa("default", "ml", "UNSET")
    workload = pa("model", "ml", None, {"app": "fraud"})
    policies = MeshPolicies.of([mesh, ns, workload], CTX)
    assert policies.resolve(ns).mode == "STRICT"
    assert policies.resolve(workload).mode == "STRICT"


def test_no_parent_and_mesh_unset_are_permissive() -> None:
    ns = pa("default", "ml", "UNSET")
    assert MeshPolicies.of([ns], CTX).resolve(ns).mode == "PERMISSIVE"
    mesh = pa("mesh", "istio-system", "UNSET")
    policies = MeshPolicies.of([mesh, ns], CTX)
    assert policies.resolve(mesh).mode == "PERMISSIVE"
    assert policies.resolve(ns).mode == "PERMISSIVE"


def test_namespace_policy_overrides_mesh_for_workloads() -> None:
    mesh = pa("mesh", "istio-system", "STRICT")
    ns = pa("default", "ml", "PERMISSIVE")
    workload = pa("model", "ml", "UNSET", {"app": "fraud"})
    assert MeshPolicies.of([mesh, ns, workload], CTX).resolve(workload).mode == "PERMISSIVE"


def test_root_namespace_is_a_parameter() -> None:
    mesh = pa("mesh", "istio-config", "STRICT")
    ns = pa("default", "ml", "UNSET")
    ctx = Context((1, 33), params={"istioRootNamespace": "istio-config"})
    assert MeshPolicies.of([mesh, ns], ctx).resolve(ns).mode == "STRICT"
    assert MeshPolicies.of([mesh, ns], CTX).resolve(ns).mode == "PERMISSIVE"

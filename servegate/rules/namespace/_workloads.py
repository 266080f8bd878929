"""Which namespaces hold workloads in a rendered overlay (namespace and istio rules share it)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from servegate.podspecs import has_pods
from servegate.resource import Resource


def workload_namespaces(resources: Sequence[Resource]) -> set[str]:
    """Namespaces named by a pod-bearing resource (Deployment, InferenceService...)."""
    return {r.namespace for r in resources if r.namespace and has_pods(r)}


def namespaces_with_workloads(resources: Sequence[Resource]) -> Iterator[Resource]:
    """Namespace objects of ``resources`` that some pod-bearing resource lives in."""
    used = workload_namespaces(resources)
    for r in resources:
        if r.kind == "Namespace" and r.api_version == "v1" and r.name in used:
            yield r

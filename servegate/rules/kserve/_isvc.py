"""What the kserve rules share: deployment modes and the components of an InferenceService."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from servegate.podspecs import KSERVE_COMPONENTS
from servegate.resource import FieldPath, Resource

MODE_ANNOTATION = "serving.kserve.io/deploymentMode"
CURRENT_MODES = frozenset({"Knative", "Standard", "ModelMesh"})
LEGACY_MODES = {"Serverless": "Knative", "RawDeployment": "Standard"}
"""KServe 0.17 renamed the modes (kserve/kserve#4608); the webhook rewrites the old names."""
AUTOSCALING_FIELDS = (
    "minReplicas",
    "maxReplicas",
    "scaleTarget",
    "scaleMetric",
    "scaleMetricType",
    "autoScaling",
)


def raw_mode(r: Resource) -> str | None:
    value = r.annotations.get(MODE_ANNOTATION)
    return None if value is None else str(value)


def mode(r: Resource) -> str | None:
    """The deployment mode with legacy names mapped to current ones; None when not set."""
    value = raw_mode(r)
    return None if value is None else LEGACY_MODES.get(value, value)


def components(r: Resource) -> Iterator[tuple[str, FieldPath, dict[str, Any]]]:
    """(label, path, body) of predictor, transformer, explainer and Standard-mode canaries."""
    for name in KSERVE_COMPONENTS:
        body = r.spec.get(name)
        if isinstance(body, dict):
            yield name, ("spec", name), body
    canaries = r.spec.get("canary")
    if isinstance(canaries, list):
        for i, entry in enumerate(canaries):
            pred = entry.get("predictor") if isinstance(entry, dict) else None
            if isinstance(pred, dict):
                yield f"canary[{i}] predictor", ("spec", "canary", i, "predictor"), pred


def is_predictor(label: str) -> bool:
    return label.endswith("predictor")


def who(r: Resource, label: str) -> str:
    return f"InferenceService {r.name!r} {label}"

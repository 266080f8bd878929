"""What the kserve rules share: deployment modes and the components of an InferenceService."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeGuard

from servegate.podspecs import KSERVE_COMPONENTS
from servegate.resource import FieldPath, Resource
from servegate.rules.base import Context

MODE_ANNOTATION = "serving.kserve.io/deploymentMode"
CURRENT_MODES = frozenset({"Knative", "Standard", "ModelMesh"})
LEGACY_MODES = {"Serverless": "Knative", "RawDeployment": "Standard"}
"""KServe 0.17 renamed the modes (kserve/kserve#4608); the webhook rewrites the old names."""


AUTOSCALER_CLASS = "serving.kserve.io/autoscalerClass"
"""KServe's autoscaler for Standard mode: hpa (the default), keda, external or none."""
KNATIVE_CLASS = "autoscaling.knative.dev/class"
KNATIVE_HPA_CLASS = "hpa.autoscaling.knative.dev"
DEFAULT_MODE_PARAM = "kserveDefaultDeploymentMode"
"""The cluster's ``inferenceservice-config`` ``deploy.defaultDeploymentMode`` (policy parameter)."""
WEBHOOK_COMPONENTS = ("predictor", "transformer", "explainer")
"""The components KServe's validating webhook runs the component checks on (not canaries)."""


def effective_mode(r: Resource, ctx: Context) -> str | None:
    """The mode KServe's validating webhook sees, after its defaulting webhook ran.

    The defaulter (kserve/kserve ``inference_service_defaults.go``, ``DefaultInferenceService``)
    rewrites the legacy names and, when the annotation is absent, writes the cluster default
    (the ``kserveDefaultDeploymentMode`` parameter, ``Standard`` since KServe 0.17). None for a
    mode KServe does not know (``kserve.deployment-mode`` reports it).
    """
    value = raw_mode(r)
    if value is None:
        value = str(ctx.param(DEFAULT_MODE_PARAM) or "Standard")
    value = LEGACY_MODES.get(value, value)
    return value if value in CURRENT_MODES else None


def webhook_components(r: Resource) -> Iterator[tuple[str, FieldPath, dict[str, Any]]]:
    """(name, path, body) of predictor, transformer and explainer."""
    for name in WEBHOOK_COMPONENTS:
        body = r.spec.get(name)
        if isinstance(body, dict):
            yield name, ("spec", name), body


def is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


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

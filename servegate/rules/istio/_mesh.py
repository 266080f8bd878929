"""What the istio rules read from the environment profile, and Istio's own vocabulary."""

from __future__ import annotations

from servegate.podspecs.mesh import DEFAULT_MESH, MESH_MODES
from servegate.resource import as_dict, as_list
from servegate.rules.base import Context

INJECTION = "istio-injection"
REVISION = "istio.io/rev"
DATAPLANE = "istio.io/dataplane-mode"
KNATIVE_NAMESPACE = "knative-serving"
PROBE_PATHS = frozenset({"/healthz", "/metrics", "/readyz", "/livez", "/health", "/ready"})
"""Paths Knative's system pods probe and scrape (Knative's Istio authorization guide)."""
KNATIVE_ACTIVATOR_SA = "activator"
"""Knative's activator's own service account, since Knative v1.11 (knative/serving#14133)."""


def mesh_mode(ctx: Context) -> str:
    """The cluster's mesh data plane, the parameter ``mesh`` the unit's plan resolved
    (servegate.yaml ``policy.mesh``, else the environment's ``mesh``: ``servegate.plan``), else
    Istio's default install (``sidecar``, no CNI)."""
    value = ctx.param("mesh")
    return value if isinstance(value, str) and value in MESH_MODES else DEFAULT_MESH


def requires_mtls(ctx: Context) -> bool:
    """True unless the environment says otherwise: an unknown environment is the strictest."""
    if mesh_mode(ctx) == "none":
        return False
    return str(ctx.environment.get("mtls") or "STRICT").upper() == "STRICT"


def requires_mesh(ctx: Context) -> bool:
    if ctx.environment.get("mesh") is False or mesh_mode(ctx) == "none":
        return False
    return str(ctx.environment.get("mtls") or "STRICT").upper() != "DISABLE"


def is_prod(ctx: Context) -> bool:
    """Production rules apply to prod and to an unknown environment."""
    env = ctx.environment
    return not env or env.get("name") == "prod" or env.get("production") is True


items = as_list

mapping = as_dict

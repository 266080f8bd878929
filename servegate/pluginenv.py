"""The Argo CD plugin's parameters that an Application sets, and which of them relax the gate.

Argo CD passes an Application's ``spec.source.plugin.env`` entries to the plugin as
``ARGOCD_ENV_<name>`` (argo-cd docs ``operator-manual/config-management-plugins.md``), so
whoever can edit an Application chooses them: they belong to the checked repo's layer, not
the operator's. ``servegate argocd generate`` applies the ones that cannot weaken the check
(``SERVEGATE_PSS_LEVEL=restricted``; a Kubernetes version no older than the one the check
targets without it), takes ``SERVEGATE_ENV`` as a
request that holds only when that environment is no weaker than the one servegate.yaml gives
the app's folder, and refuses the others unless the operator allows them
(``allowPluginEnv: true`` in the operator configuration);
``argocd.plugin-env-weakens`` reports an Application in the repo that sets one.
"""

from __future__ import annotations

PREFIX = "SERVEGATE_"
#: The Kubernetes version the check targets: harmless when no older than the operator's
#: (else the root servegate.yaml's, else the newest supported); an older one relaxes the
#: versioned Pod Security checks (``pss.host-probes-lifecycle`` exists from v1.34 on).
K8S_VERSION = frozenset({"K8S_VERSION", "SERVEGATE_K8S_VERSION"})
#: Parameters the plugin reads that may relax the check (honoured only when the operator
#: allows plugin env).
POLICY = ("SERVEGATE_ENV", "SERVEGATE_PSS_LEVEL", "SERVEGATE_SELECT", "SERVEGATE_IGNORE")


def weakening(name: str, value: str, k8s_version: tuple[int, int]) -> str | None:
    """Why the plugin parameter ``name=value`` (without ``ARGOCD_ENV_``) would relax the gate
    or is no parameter at all; None when it is harmless or not servegate's. ``k8s_version`` is
    the Kubernetes version the check targets without the Application's parameters."""
    value = value.strip()
    if name in K8S_VERSION:
        return _older(name, value, k8s_version)
    if not name.upper().startswith(PREFIX):
        return None
    if name == "SERVEGATE_PSS_LEVEL":
        if value in ("", "restricted"):
            return None
        return f"{name}={value} lowers the Pod Security level the gate enforces"
    if name == "SERVEGATE_IGNORE":
        return f"{name}={value} switches rules off" if value else None
    if name == "SERVEGATE_SELECT":
        return f"{name}={value} narrows the rules that run" if value else None
    if name == "SERVEGATE_ENV":
        return None  # a request, applied like a nested servegate.yaml's mapping (no weaker)
    return f"{name} is no parameter of servegate's plugin (only the operator configures the gate)"


def _older(name: str, value: str, target: tuple[int, int]) -> str | None:
    parts = value.lstrip("v").split(".")
    try:
        asked = (int(parts[0]), int(parts[1]))
    except (ValueError, IndexError):
        return None if not value else f"{name}={value} is no Kubernetes version (MAJOR.MINOR)"
    if asked >= target:
        return None
    return (
        f"{name}={value} is older than the Kubernetes version the gate targets "
        f"({target[0]}.{target[1]}): older Pod Security versions admit more"
    )

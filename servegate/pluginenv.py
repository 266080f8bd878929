"""The Argo CD plugin's parameters that an Application sets, and which of them relax the gate.

Argo CD passes an Application's ``spec.source.plugin.env`` entries to the plugin as
``ARGOCD_ENV_<name>`` (argo-cd docs ``operator-manual/config-management-plugins.md``), so
whoever can edit an Application chooses them: they belong to the checked repo's layer, not
the operator's. ``servegate argocd generate`` applies the ones that cannot weaken the check
(the Kubernetes version, ``SERVEGATE_PSS_LEVEL=restricted``), takes ``SERVEGATE_ENV`` as a
request that holds only when that environment is no weaker than the one servegate.yaml gives
the app's folder, and refuses the others unless the operator allows them
(``allowPluginEnv: true`` in the operator configuration);
``argocd.plugin-env-weakens`` reports an Application in the repo that sets one.
"""

from __future__ import annotations

PREFIX = "SERVEGATE_"
#: Parameters that never relax the check.
HARMLESS = frozenset({"K8S_VERSION", "SERVEGATE_K8S_VERSION"})
#: Parameters the plugin reads that may relax the check (honoured only when the operator
#: allows plugin env).
POLICY = ("SERVEGATE_ENV", "SERVEGATE_PSS_LEVEL", "SERVEGATE_SELECT", "SERVEGATE_IGNORE")


def weakening(name: str, value: str) -> str | None:
    """Why the plugin parameter ``name=value`` (without ``ARGOCD_ENV_``) would relax the gate
    or is no parameter at all; None when it is harmless or not servegate's."""
    value = value.strip()
    if name in HARMLESS or not name.upper().startswith(PREFIX):
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

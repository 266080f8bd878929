"""## What it does
Flags an Argo CD Application or ApplicationSet whose plugin environment
(`spec.source.plugin.env`, an entry of `spec.sources`, the ApplicationSet's template or a
generator's template override) sets a servegate parameter that
would relax the gate: `SERVEGATE_IGNORE`, `SERVEGATE_SELECT`, a `SERVEGATE_PSS_LEVEL` other
than `restricted`, a `K8S_VERSION` (or `SERVEGATE_K8S_VERSION`) older than the version the
check targets (older Pod Security versions admit more), any `SERVEGATE_*` name the plugin
does not read, or a `SERVEGATE_ENV` other
than the environment `servegate.yaml` gives the Application's file (the plugin applies that one
only when it is no weaker than the app folder's).

## Why is this bad?
Argo CD hands these entries to the Config Management Plugin as `ARGOCD_ENV_<name>`, so anyone
who can edit the Application would choose what the gate checks. servegate's plugin refuses to
generate manifests for such an Application unless the operator allows plugin parameters
(`allowPluginEnv: true` in the operator configuration); this rule says so before the sync does.

## Example
```yaml
kind: Application
spec:
  source:
    plugin:
      name: servegate
      env:
        - {name: SERVEGATE_IGNORE, value: pss}
```

## Use instead
```yaml
kind: Application
spec:
  source:
    plugin:
      name: servegate
```
An object that truly needs an exception gets an exemption with a reason (listed as
suppressed), in the root `servegate.yaml` or as an annotation on the object.

## References
- argo-cd docs `operator-manual/config-management-plugins.md` (plugin env passed as
  `ARGOCD_ENV_<name>`)
- `servegate/pluginenv.py` (the parameters the plugin refuses)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from servegate.model import Severity
from servegate.pluginenv import weakening
from servegate.resource import FieldPath, Resource
from servegate.rules.argocd._argo import items, mapping, who
from servegate.rules.base import Context, Scope, Violation, rule


def _plugins(node: Any, path: FieldPath, depth: int = 0) -> Iterator[tuple[FieldPath, Any]]:
    """Every ``plugin`` mapping below ``node`` with its path: an Application's source or
    sources, an ApplicationSet's template, and the templates its generators override
    (matrix and merge generators nest them)."""
    if depth > 12:
        return
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "plugin" and isinstance(value, dict):
                yield (*path, key), value
            else:
                yield from _plugins(value, (*path, key), depth + 1)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _plugins(value, (*path, i), depth + 1)


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    for path, plugin in _plugins(r.spec, ("spec",)):
        for i, entry in enumerate(items(plugin.get("env"))):
            entry = mapping(entry)
            name, value = str(entry.get("name") or ""), str(entry.get("value") or "").strip()
            why = weakening(name, value, ctx.k8s_version)
            mapped = ctx.environment.get("name")
            if name == "SERVEGATE_ENV" and value and value != mapped:
                why = (
                    f"{name}={value} differs from the environment servegate.yaml gives this "
                    f"Application ({mapped or 'none'})"
                )
            if why is not None:
                yield Violation(
                    (*path, "env", i, "name"),
                    f"plugin env {why}: servegate's plugin refuses it unless the operator "
                    "allows plugin parameters",
                    who(r),
                )


RULE = rule(
    "argocd.plugin-env-weakens",
    "Applications do not relax servegate through plugin env",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={"Application", "ApplicationSet"},
    doc=__doc__,
)

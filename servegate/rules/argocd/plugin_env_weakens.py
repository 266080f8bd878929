"""## What it does
Flags an Argo CD Application (or an ApplicationSet's template) whose plugin environment
(`spec.source.plugin.env`, or an entry of `spec.sources`) sets a servegate parameter that
would relax the gate: `SERVEGATE_IGNORE`, `SERVEGATE_SELECT`, a `SERVEGATE_PSS_LEVEL` other
than `restricted`, any `SERVEGATE_*` name the plugin does not read, or a `SERVEGATE_ENV` other
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


def _sources(r: Resource) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    if r.kind == "ApplicationSet":
        spec = mapping(mapping(r.spec.get("template")).get("spec"))
        base: FieldPath = ("spec", "template", "spec")
    else:
        spec, base = r.spec, ("spec",)
    if "source" in spec:
        yield (*base, "source"), mapping(spec.get("source"))
    for i, source in enumerate(items(spec.get("sources"))):
        yield (*base, "sources", i), mapping(source)


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    for path, source in _sources(r):
        for i, entry in enumerate(items(mapping(source.get("plugin")).get("env"))):
            entry = mapping(entry)
            name, value = str(entry.get("name") or ""), str(entry.get("value") or "").strip()
            why = weakening(name, value)
            mapped = ctx.environment.get("name")
            if name == "SERVEGATE_ENV" and value and value != mapped:
                why = (
                    f"{name}={value} differs from the environment servegate.yaml gives this "
                    f"Application ({mapped or 'none'})"
                )
            if why is not None:
                yield Violation(
                    (*path, "plugin", "env", i, "name"),
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

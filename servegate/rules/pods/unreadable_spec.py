"""## What it does
Flags pod specs that servegate cannot read, so cannot judge: an Argo Workflows `podSpecPatch`
that does not parse as YAML or JSON, is too long, does not apply as a strategic merge patch, or
spells a PodSpec field in another case; a `resource.manifest` that does not parse, or a
`resource.manifestFrom` whose manifest is read from an artifact at run time; an object of a
kind servegate does not know that is too large or too deep to search for pod specs.

## Why is this bad?
servegate is a gate: what it cannot read it cannot pass. Argo Workflows applies every
`podSpecPatch` to the pod it builds and creates whatever `resource.manifest` holds; a patch
that only takes its final form at run time (a whole patch from `{{inputs.parameters...}}`) can
turn on `hostNetwork` or `privileged` after the check. Go's JSON decoding ignores case, so
`HostNetwork: true` in a patch sets `hostNetwork`.

## Example
```yaml
spec:
  podSpecPatch: '{{inputs.parameters.patch}}'
```

## Use instead
```yaml
spec:
  podSpecPatch: |
    containers:
    - name: main
      resources:
        limits: {memory: "{{inputs.parameters.memory}}"}
```

## References
- argoproj/argo-workflows `workflow/util/util.go` (`ApplyPodSpecPatch`, `ConvertYAMLToJSON`)
  and `workflow/controller/workflowpod.go` (`processPodSpecPatch`)
- argoproj/argo-workflows `docs/resource-template.md` (`manifest`, `manifestFrom`)
- Go `encoding/json` `Unmarshal`: "preferring an exact match but also accepting a
  case-insensitive match"
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.objects import manifest_sources, parse_manifest, workflow_manifests
from servegate.podspecs import ARGO_WORKFLOW_KINDS, unresolved
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule


def check(resource: Resource, ctx: Context) -> Iterator[Violation]:
    for path, why in unresolved(resource):
        yield Violation(path, f"cannot be judged: {why}", resource.kind)
    if resource.kind not in ARGO_WORKFLOW_KINDS:
        return
    for path, text in workflow_manifests(resource):
        problem = parse_manifest(text).problem
        if problem is not None:
            yield Violation(path, f"cannot be checked: resource.manifest {problem}", resource.kind)
    for path, why in manifest_sources(resource):
        yield Violation(path, f"cannot be checked: {why}", resource.kind)


RULE = rule(
    "pods.unreadable-spec",
    "Pod specs servegate cannot read are errors",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    doc=__doc__,
)

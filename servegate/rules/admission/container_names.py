"""## What it does
Checks container names in the pod specs of built-in kinds and InferenceServices: each is a
DNS-1123 label (at most 63 lowercase alphanumerics or `-`), required in built-in pod specs,
and unique across the pod's init, regular and ephemeral containers.

## Why is this bad?
The API server refuses the pod or workload (KServe's Deployment for an InferenceService).

## Example
```yaml
containers:
- name: Model_Server
  image: registry.example.com/ml/server:1.0
```

## Use instead
```yaml
containers:
- name: model-server
  image: registry.example.com/ml/server:1.0
```

## References
- kubernetes/kubernetes `pkg/apis/core/validation/validation.go` (`validateContainerCommon`:
  `ValidateDNS1123Label` on the name; `validateInitContainers`/`validateContainers`: Duplicate
  value across all containers)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.podspecs import CONTAINER_LISTS, PodSpecView
from servegate.rules.admission._k8s import dns1123_label, is_core_pod
from servegate.rules.base import Context, Scope, Violation, rule


def check(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    core = is_core_pod(pod)
    if not (core or pod.resource.kind == "InferenceService"):
        return
    seen: set[str] = set()
    for c in pod.containers:
        if c.section not in CONTAINER_LISTS:
            continue  # KServe shortcuts are named by KServe
        name = c.body.get("name")
        if not isinstance(name, str) or not name:
            if core:
                yield Violation(c.path, "a container needs a name", f"{pod.label} {c.section}")
            continue
        for problem in dns1123_label(name):
            yield Violation(c.at("name"), f"container name {name!r}: {problem}", pod.label)
        if name in seen:
            yield Violation(c.at("name"), f"container name {name!r} is used twice", pod.label)
        seen.add(name)


RULE = rule(
    "admission.container-names",
    "Container names are DNS-1123 labels, unique in the pod",
    Severity.ERROR,
    Scope.POD,
    check,
    doc=__doc__,
)

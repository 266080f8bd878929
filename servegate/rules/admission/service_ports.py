"""## What it does
Checks a Service's ports as the API server does: `port` is 1 to 65535, `targetPort` a port
number (1 to 65535) or an IANA service name, `nodePort` 0 to 65535, and `name` a DNS-1123
label, required when the Service has more than one port.

## Why is this bad?
The API server refuses the Service, so the model's endpoint never appears.

## Example
```yaml
spec:
  ports:
  - port: 80
    targetPort: Metrics
  - port: 9090
```

## Use instead
```yaml
spec:
  ports:
  - name: http
    port: 80
    targetPort: http
  - name: metrics
    port: 9090
```

## References
- kubernetes/kubernetes `pkg/apis/core/validation/validation.go` (`ValidateService`,
  `validateServicePort`, `validatePortNumOrName`)
- kubernetes/apimachinery `pkg/util/validation/validation.go` (`IsValidPortNum`,
  `IsValidPortName`)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource, as_list
from servegate.rules.admission._k8s import dns1123_label, is_int, port_name
from servegate.rules.base import Context, Scope, Violation, rule

MAX_PORT = 65535


def _range(value: object, low: int) -> bool:
    return is_int(value) and low <= value <= MAX_PORT  # type: ignore[operator]


def check(resource: Resource, ctx: Context) -> Iterator[Violation]:
    if resource.group != "":
        return
    ports = as_list(resource.spec.get("ports"))
    for i, port in enumerate(ports):
        if not isinstance(port, dict):
            continue
        at = ("spec", "ports", i)
        number = port.get("port")
        if is_int(number) and not _range(number, 1):
            yield Violation((*at, "port"), f"{number} is not a port (1-65535)")
        node = port.get("nodePort")
        if is_int(node) and not _range(node, 0):
            yield Violation((*at, "nodePort"), f"{node} is not a port (0-65535)")
        target = port.get("targetPort")
        if is_int(target) and not _range(target, 1):
            yield Violation((*at, "targetPort"), f"{target} is not a port (1-65535)")
        elif isinstance(target, str) and target and not target.isdigit():
            for problem in port_name(target):
                yield Violation((*at, "targetPort"), f"targetPort {target!r}: {problem}")
        name = port.get("name")
        if isinstance(name, str) and name:
            for problem in dns1123_label(name):
                yield Violation((*at, "name"), f"port name {name!r}: {problem}")
        elif len(ports) > 1:
            yield Violation((*at, "name"), "a Service with several ports must name each one")


RULE = rule(
    "admission.service-ports",
    "Service ports are in range and named",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={"Service"},
    doc=__doc__,
)

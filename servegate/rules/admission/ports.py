"""## What it does
Checks ports as the API server does: a container's `containerPort` is 1 to 65535, a
`hostPort` 0 to 65535, a port `name` an IANA service name (at most 15 lowercase alphanumerics
and `-`, at least one letter, no `--`, no `-` at either end) and unique within the container;
a Service's `port` is 1 to 65535, its `targetPort` a port number or an IANA name, its
`nodePort` 0 to 65535, and its `name` a DNS-1123 label, required when it has more than one
port.

## Why is this bad?
The API server refuses the object; for pods KServe or a controller creates, the model never
starts and the InferenceService stays not ready.

## Example
```yaml
ports:
- name: http_metrics
  containerPort: 80800
```

## Use instead
```yaml
ports:
- name: metrics
  containerPort: 8080
```

## References
- kubernetes/kubernetes `pkg/apis/core/validation/validation.go` (`validateContainerPorts`,
  `ValidateServicePort` within `ValidateService`, `validatePortNumOrName`)
- kubernetes/apimachinery `pkg/util/validation/validation.go` (`IsValidPortNum`,
  `IsValidPortName`)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.findings import Severity
from servegate.podspecs import pod_specs
from servegate.resource import Resource, as_list
from servegate.rules.admission._k8s import dns1123_label, is_int, port_name
from servegate.rules.base import Context, Scope, Violation, rule

MAX_PORT = 65535


def _range(value: object, low: int) -> bool:
    return is_int(value) and low <= value <= MAX_PORT  # type: ignore[operator]


def _container_ports(resource: Resource) -> Iterator[Violation]:
    for pod in pod_specs(resource):
        for c in pod.containers:
            names: set[str] = set()
            for i, port in enumerate(as_list(c.body.get("ports"))):
                if not isinstance(port, dict):
                    continue
                who = f"{pod.label} container {c.name!r}"
                number = port.get("containerPort")
                if is_int(number) and not _range(number, 1):
                    yield Violation(
                        c.at("ports", i, "containerPort"), f"{number} is not a port (1-65535)", who
                    )
                host = port.get("hostPort")
                if is_int(host) and not _range(host, 0):
                    yield Violation(
                        c.at("ports", i, "hostPort"), f"{host} is not a port (0-65535)", who
                    )
                name = port.get("name")
                if isinstance(name, str) and name:
                    for problem in port_name(name):
                        yield Violation(
                            c.at("ports", i, "name"), f"port name {name!r}: {problem}", who
                        )
                    if name in names:
                        yield Violation(
                            c.at("ports", i, "name"), f"port name {name!r} is used twice", who
                        )
                    names.add(name)


def _service_ports(resource: Resource) -> Iterator[Violation]:
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


def check(resource: Resource, ctx: Context) -> Iterator[Violation]:
    yield from _container_ports(resource)
    if resource.kind == "Service" and resource.group == "":
        yield from _service_ports(resource)


RULE = rule(
    "admission.ports",
    "Ports are in range and port names are valid",
    Severity.ERROR,
    Scope.RESOURCE,
    check,
    doc=__doc__,
)

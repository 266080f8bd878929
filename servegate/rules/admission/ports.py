"""## What it does
Checks container ports as the API server does, in every pod spec (KServe's included): a
`containerPort` is 1 to 65535, a `hostPort` 0 to 65535, a port `name` an IANA service name (at
most 15 lowercase alphanumerics and `-`, at least one letter, no `--`, no `-` at either end)
and unique within the container. Service ports are `admission.service-ports`.

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
- kubernetes/kubernetes `pkg/apis/core/validation/validation.go` (`validateContainerPorts`)
- kubernetes/apimachinery `pkg/util/validation/validation.go` (`IsValidPortNum`,
  `IsValidPortName`)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.podspecs import PodSpecView
from servegate.resource import as_list
from servegate.rules.admission._k8s import is_int, port_name
from servegate.rules.base import Context, Scope, Violation, rule

MAX_PORT = 65535


def _range(value: object, low: int) -> bool:
    return is_int(value) and low <= value <= MAX_PORT  # type: ignore[operator]


def check(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
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
                    yield Violation(c.at("ports", i, "name"), f"port name {name!r}: {problem}", who)
                if name in names:
                    yield Violation(
                        c.at("ports", i, "name"), f"port name {name!r} is used twice", who
                    )
                names.add(name)


RULE = rule(
    "admission.ports",
    "Container ports are in range and port names are valid",
    Severity.ERROR,
    Scope.POD,
    check,
    doc=__doc__,
)

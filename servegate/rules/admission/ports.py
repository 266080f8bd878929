"""## What it does
Checks container ports as the API server does, in every pod spec (KServe's included): a
`containerPort` is 1 to 65535, a `hostPort` 0 to 65535, a port `name` an IANA service name (at
most 15 lowercase alphanumerics and `-`, at least one letter, no `--`, no `-` at either end)
and unique within the container. The `port` of a probe's or a lifecycle hook's `httpGet` or
`tcpSocket` is a port number (1 to 65535) or such a name, a probe's `grpc.port` a number.
Service ports are `admission.service-ports`.

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
- kubernetes/kubernetes `pkg/apis/core/validation/validation.go` (`validateContainerPorts`;
  `validateHTTPGetAction`, `validateTCPSocketAction`, `validateGRPCAction` through
  `validateHandler`/`validateProbe`: `ValidatePortNumOrName`)
- kubernetes/apimachinery `pkg/util/validation/validation.go` (`IsValidPortNum`,
  `IsValidPortName`)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from servegate.model import Severity
from servegate.podspecs import ContainerView, PodSpecView
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
        yield from _handler_ports(pod, c)


_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
_HOOKS = ("postStart", "preStop")


def _handler_ports(pod: PodSpecView, c: ContainerView) -> Iterator[Violation]:
    """``ValidatePortNumOrName`` on each probe's and lifecycle hook's port."""
    who = f"{pod.label} container {c.name!r}"
    handlers: list[tuple[tuple[str, ...], Any]] = [((p,), c.body.get(p)) for p in _PROBES]
    lifecycle = c.body.get("lifecycle")
    if isinstance(lifecycle, dict):
        handlers.extend((("lifecycle", h), lifecycle.get(h)) for h in _HOOKS)
    for at, handler in handlers:
        if not isinstance(handler, dict):
            continue
        for action in ("httpGet", "tcpSocket", "grpc"):
            body = handler.get(action)
            if not isinstance(body, dict) or "port" not in body:
                continue
            port = body["port"]
            where = c.at(*at, action, "port")
            if is_int(port):
                if not _range(port, 1):
                    yield Violation(
                        where, f"{'.'.join(at)} {action} port {port} is not a port (1-65535)", who
                    )
            elif isinstance(port, str) and action != "grpc":
                for problem in port_name(port):
                    yield Violation(
                        where, f"{'.'.join(at)} {action} port name {port!r}: {problem}", who
                    )


RULE = rule(
    "admission.ports",
    "Container ports are in range and port names are valid",
    Severity.ERROR,
    Scope.POD,
    check,
    doc=__doc__,
)

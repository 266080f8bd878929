"""## What it does
Checks container resource requirements as the API server does for the pod it will create:
each quantity parses (built-in pod specs; CRD schemas check the format themselves) and is not
negative; a request is not above its limit; an extended resource (a domain-prefixed name such
as `nvidia.com/gpu`) is a whole number with its limit set and equal to its request.

## Why is this bad?
The API server refuses the pod, or KServe's Deployment for an InferenceService, so the model
never starts. `1Gx` or `500 Mi` read as valid YAML, and a GPU request without the same limit is
a common slip.

## Example
```yaml
resources:
  requests: {cpu: "2", memory: 4Gi, nvidia.com/gpu: 1}
  limits: {cpu: "1", memory: 4Gi}
```

## Use instead
```yaml
resources:
  requests: {cpu: "1", memory: 4Gi, nvidia.com/gpu: 1}
  limits: {cpu: "1", memory: 4Gi, nvidia.com/gpu: 1}
```

## References
- kubernetes/kubernetes `pkg/apis/core/validation/validation.go` (`ValidateResourceRequirements`:
  "must be less than or equal to ... limit", "must be equal to ... limit", "Limit must be set
  for non overcommitable resources"; `ValidateResourceQuantityValue`, `validateResourceName`)
- kubernetes/apimachinery `pkg/api/resource/quantity.go` (`ParseQuantity`), read by
  `servegate/quantity.py`
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

from servegate import quantity
from servegate.model import Severity
from servegate.podspecs import PodSpecView
from servegate.resource import as_dict
from servegate.rules.admission._k8s import is_core_pod
from servegate.rules.base import Context, Scope, Violation, rule


def _extended(name: str) -> bool:
    """``IsExtendedResourceName``: domain-prefixed, not kubernetes.io, not ``requests.*``."""
    if "/" not in name or name.startswith("requests."):
        return False
    domain = name.partition("/")[0]
    return not (domain == "kubernetes.io" or domain.endswith(".kubernetes.io"))


def _values(
    pod: PodSpecView,
    res: dict[str, object],
    key: str,
    core: bool,
    where: tuple[str | int, ...],
    who: str,
) -> Iterator[Violation | tuple[str, Fraction]]:
    for name, raw in as_dict(res.get(key)).items():
        try:
            value = quantity.parse(raw)
        except quantity.QuantityError as err:
            if core and raw is not None:
                yield Violation((*where, key, name), f"{key}.{name} {raw!r}: {err}", who)
            continue
        if value < 0:
            yield Violation((*where, key, name), f"{key}.{name} must not be negative", who)
        elif _extended(str(name)) and value.denominator != 1:
            yield Violation((*where, key, name), f"{key}.{name} must be a whole number", who)
        yield str(name), value


def check(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    core = is_core_pod(pod)
    for c in pod.containers:
        res = as_dict(c.body.get("resources"))
        if not res:
            continue
        where = c.at("resources")
        who = f"{pod.label} container {c.name!r}"
        found: dict[str, dict[str, Fraction]] = {"requests": {}, "limits": {}}
        for key in ("limits", "requests"):
            for item in _values(pod, res, key, core, where, who):
                if isinstance(item, Violation):
                    yield item
                else:
                    found[key][item[0]] = item[1]
        limits = found["limits"]
        for name, request in found["requests"].items():
            limit = limits.get(name)
            at = (*where, "requests", name)
            if _extended(name):
                if limit is None:
                    yield Violation(at, f"{name}: a limit equal to the request is required", who)
                elif limit != request:
                    yield Violation(at, f"{name}: the request must equal the limit", who)
            elif limit is not None and request > limit:
                yield Violation(
                    at,
                    f"requests.{name} is more than limits.{name} "
                    f"({_show(request)} > {_show(limit)})",
                    who,
                )


def _show(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else str(float(value))


RULE = rule(
    "admission.resources",
    "Resource quantities parse and requests fit their limits",
    Severity.ERROR,
    Scope.POD,
    check,
    doc=__doc__,
)

"""## What it does
Checks environment variable names (`env[].name`, `envFrom[].prefix`) in the pod specs of
built-in kinds and InferenceServices: a name is required (not empty); since Kubernetes 1.32 any
printable ASCII except `=`; before, a C-like identifier that may also hold `-` and `.`
(`[-._a-zA-Z][-._a-zA-Z0-9]*`).

## Why is this bad?
The API server refuses the pod or workload (KServe's Deployment for an InferenceService).

## Example
```yaml
env:
- name: MODEL=NAME
  value: fraud
```

## Use instead
```yaml
env:
- name: MODEL_NAME
  value: fraud
```

## References
- kubernetes/kubernetes `pkg/apis/core/validation/validation.go` (`ValidateEnv`,
  `validateEnvVarName`), `pkg/features/kube_features.go` (`RelaxedEnvironmentVariableValidation`:
  beta and on by default in 1.32, GA in 1.34)
- kubernetes/apimachinery `pkg/util/validation/validation.go` (`IsEnvVarName`,
  `IsRelaxedEnvVarName`)
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from servegate.model import Severity
from servegate.podspecs import PodSpecView
from servegate.resource import as_list
from servegate.rules.admission._k8s import is_core_pod
from servegate.rules.base import Context, Scope, Violation, rule

_STRICT = re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*")
RELAXED_SINCE = (1, 32)


def _problem(name: str, relaxed: bool) -> str | None:
    if relaxed:
        if any(not " " <= ch <= "~" or ch == "=" for ch in name):
            return "must consist of printable ASCII characters except '='"
        return None
    if not _STRICT.fullmatch(name):
        return (
            "must consist of alphabetic characters, digits, '_', '-', or '.', and must not "
            "start with a digit (Kubernetes before 1.32)"
        )
    return None


def check(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    if not (is_core_pod(pod) or pod.resource.kind == "InferenceService"):
        return
    relaxed = ctx.k8s_version >= RELAXED_SINCE
    for c in pod.containers:
        who = f"{pod.label} container {c.name!r}"
        for i, var in enumerate(as_list(c.body.get("env"))):
            name = var.get("name") if isinstance(var, dict) else None
            if name == "":
                yield Violation(c.at("env", i, "name"), "env name is required (empty)", who)
            elif isinstance(name, str):
                problem = _problem(name, relaxed)
                if problem:
                    yield Violation(c.at("env", i, "name"), f"env name {name!r} {problem}", who)
        for i, source in enumerate(as_list(c.body.get("envFrom"))):
            prefix = source.get("prefix") if isinstance(source, dict) else None
            if isinstance(prefix, str) and prefix:
                problem = _problem(prefix, relaxed)
                if problem:
                    yield Violation(
                        c.at("envFrom", i, "prefix"), f"envFrom prefix {prefix!r} {problem}", who
                    )


RULE = rule(
    "admission.env-names",
    "Environment variable names are valid",
    Severity.ERROR,
    Scope.POD,
    check,
    doc=__doc__,
)

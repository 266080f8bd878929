"""## What it does
Flags a `PYTHONPATH` environment variable in a container of an InferenceService (any component,
its model or framework container, its `workerSpec`) or of a ServingRuntime or
ClusterServingRuntime (containers and `workerSpec`). KServe's validating webhooks refuse it
since KServe 0.18.

## Why is this bad?
The model servers are Python: `PYTHONPATH` decides which code they import before they load the
model, so whoever sets it can run code in every replica, with the model's credentials. KServe
refuses the object "for security reasons", at sync, though the schema admits it.

## Example
```yaml
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
      env:
      - {name: PYTHONPATH, value: /mnt/models/plugins}
```

## Use instead
Bake the code into the serving image (or a custom ServingRuntime image) and keep `PYTHONPATH`
out of the manifests.

## References
- kserve/kserve `pkg/validation/env_policy.go` (`DefaultBlockedEnvVars`, `ValidateBlockedEnvVars`)
- kserve/kserve `pkg/apis/serving/v1beta1/inference_service_validation.go`
  (`validateBlockedEnvVars`) and `pkg/webhook/admission/servingruntime/servingruntime_webhook.go`
- https://github.com/kserve/kserve/pull/5340
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.podspecs import pod_specs
from servegate.resource import Resource, as_dict, as_list
from servegate.rules.base import Context, Scope, Violation, rule

BLOCKED_ENV = frozenset({"PYTHONPATH"})
_KINDS = frozenset({"InferenceService", "ServingRuntime", "ClusterServingRuntime"})


def check(resource: Resource, ctx: Context) -> Iterator[Violation]:
    # KServe's webhooks judge each object as written, not the pod it merges them into
    for pod in pod_specs(resource):
        for container in pod.containers:
            for i, env in enumerate(as_list(container.body.get("env"))):
                name = as_dict(env).get("name")
                if name in BLOCKED_ENV:
                    yield Violation(
                        container.at("env", i, "name"),
                        f"setting {name} is not allowed for security reasons (KServe's webhook "
                        "refuses it)",
                        f"{pod.label} container {container.name!r}",
                    )


RULE = rule(
    "kserve.blocked-env",
    "No PYTHONPATH in model server containers",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds=_KINDS,
    doc=__doc__,
)

"""## What it does
Flags InferenceService containers (model and framework containers, custom `containers`,
transformers, explainers, canaries, workers) without resource requests for `cpu` and `memory`
or without a `memory` limit. A CPU limit is not required (it throttles latency-sensitive
servers); set one if your platform asks for it.

## Why is this bad?
Without requests the scheduler packs model servers onto nodes that cannot hold them and the
autoscaler has nothing to scale on; without a memory limit one model that leaks or loads a
huge artifact takes the node's memory from every other pod.

## Example
```yaml
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
      storageUri: s3://acme-models/iris
```

## Use instead
```yaml
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
      storageUri: s3://acme-models/iris
      resources:
        requests: {cpu: "1", memory: 2Gi}
        limits: {cpu: "1", memory: 2Gi}
```

## References
- https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/
- https://kserve.github.io/website/docs/model-serving/predictive-inference/autoscaling/kpa-autoscaler
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.podspecs import PodSpecView
from servegate.rules.base import Context, Scope, Violation, rule


def check(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    if pod.resource.kind != "InferenceService":
        return
    for c in pod.containers:
        if c.section in ("initContainers", "ephemeralContainers"):
            continue
        res = c.body.get("resources")
        res = res if isinstance(res, dict) else {}
        requests = res.get("requests")
        requests = requests if isinstance(requests, dict) else {}
        limits = res.get("limits")
        limits = limits if isinstance(limits, dict) else {}
        missing = [f"requests.{k}" for k in ("cpu", "memory") if k not in requests]
        if "memory" not in limits:
            missing.append("limits.memory")
        if missing:
            yield Violation(
                c.at("resources"), f"no {', '.join(missing)}", f"{pod.label} container {c.name!r}"
            )


RULE = rule(
    "kserve.resources",
    "Model containers set resource requests and limits",
    Severity.ERROR,
    Scope.POD,
    check,
    doc=__doc__,
)

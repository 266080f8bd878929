"""## What it does
Checks the preconditions KServe's validating webhook puts on a multi-node InferenceService
(`spec.predictor.workerSpec` set):

- at most one container in `workerSpec`;
- `workerSpec.tensorParallelSize` and `pipelineParallelSize` at least 1;
- the model container (`predictor.model`, or a framework shortcut, which KServe's defaulter
  turns into `model`) sets no `TENSOR_PARALLEL_SIZE` or `PIPELINE_PARALLEL_SIZE` env var: the
  sizes belong in `workerSpec`;
- the model has a `storageUri` with protocol `pvc` or `oci` (not `hf`, `s3`...);
- `serving.kserve.io/autoscalerClass: none`: a Ray/vLLM cluster of head and workers is not
  scaled by HPA or KEDA;
- resource names in the model and worker containers that are not cpu, memory, storage or
  ephemeral-storage are known GPU types (`nvidia.com/gpu`, `amd.com/gpu`, `intel.com/gpu`,
  `habana.ai/gaudi`, or those the `serving.kserve.io/gpu-resource-types` JSON array adds).

## Why is this bad?
The CRD schema admits every one of these; KServe's webhook refuses the object, one reason at a
time, at sync. Teams meet them as a series of deploy-time failures (kserve/kserve#4226, #4228).

## Example
```yaml
metadata:
  annotations:
    serving.kserve.io/deploymentMode: Standard
spec:
  predictor:
    model:
      modelFormat: {name: huggingface}
      storageUri: hf://meta-llama/Meta-Llama-3-70B-Instruct
      env:
      - {name: TENSOR_PARALLEL_SIZE, value: "8"}
    workerSpec:
      containers: [{name: worker-container}]
```

## Use instead
```yaml
metadata:
  annotations:
    serving.kserve.io/deploymentMode: Standard
    serving.kserve.io/autoscalerClass: none
spec:
  predictor:
    model:
      modelFormat: {name: huggingface}
      storageUri: pvc://llama3-70b/model
    workerSpec:
      tensorParallelSize: 8
      pipelineParallelSize: 2
      containers: [{name: worker-container}]
```

## References
- kserve/kserve `pkg/apis/serving/v1beta1/inference_service_validation.go`
  (`validateMultiNodeVariables`, added in kserve/kserve#3972)
- kserve/kserve `pkg/utils/utils.go` (`HasUnknownGpuResourceType`,
  `UpdateGPUResourceTypeListByAnnotation`) and `pkg/constants/constants.go`
  (`DefaultGPUResourceTypeList`)
- https://github.com/kserve/kserve/issues/4226, https://github.com/kserve/kserve/issues/4228
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from servegate.model import Severity
from servegate.podspecs import KSERVE_SHORTCUTS
from servegate.resource import FieldPath, Resource, as_dict, as_list
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.kserve._isvc import AUTOSCALER_CLASS, is_int

PARALLEL_ENV = ("PIPELINE_PARALLEL_SIZE", "TENSOR_PARALLEL_SIZE")
STORAGE_PROTOCOLS = ("pvc", "oci")
BASIC_RESOURCES = frozenset({"cpu", "memory", "storage", "ephemeral-storage"})
GPU_RESOURCES = ("nvidia.com/gpu", "amd.com/gpu", "intel.com/gpu", "habana.ai/gaudi")
GPU_ANNOTATION = "serving.kserve.io/gpu-resource-types"


def _gpu_types(r: Resource) -> tuple[set[str], Violation | None]:
    known = set(GPU_RESOURCES)
    raw = r.annotations.get(GPU_ANNOTATION)
    if not raw:
        return known, None
    try:
        extra = json.loads(str(raw))
    except ValueError:
        extra = None
    if not isinstance(extra, list) or not all(isinstance(x, str) for x in extra):
        return known, Violation(
            ("metadata", "annotations", GPU_ANNOTATION),
            f"invalid GPU format({raw}) for {GPU_ANNOTATION} annotation: must be a valid JSON "
            "array",
            f"InferenceService {r.name!r}",
        )
    return known | set(extra), None


def _unknown_gpus(
    container: dict[str, Any], path: FieldPath, known: set[str], detail: str
) -> Iterator[Violation]:
    resources = as_dict(container.get("resources"))
    for section in ("limits", "requests"):
        for name in as_dict(resources.get(section)):
            if str(name) not in BASIC_RESOURCES and str(name) not in known:
                yield Violation(
                    (*path, "resources", section, name),
                    f"unknown GPU resource type {name!r}: list it in the {GPU_ANNOTATION} "
                    "annotation",
                    detail,
                )


def _model(predictor: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    for key in KSERVE_SHORTCUTS:
        if key != "art" and isinstance(predictor.get(key), dict):
            return key, predictor[key]
    return None


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    predictor = as_dict(r.spec.get("predictor"))
    worker = predictor.get("workerSpec")
    if not isinstance(worker, dict):
        return
    detail = f"InferenceService {r.name!r} (multi-node)"
    base: FieldPath = ("spec", "predictor")
    wpath: FieldPath = (*base, "workerSpec")
    known, bad_annotation = _gpu_types(r)
    if bad_annotation is not None:
        yield bad_annotation
    containers = as_list(worker.get("containers"))
    if len(containers) > 1:
        yield Violation(
            (*wpath, "containers"),
            "setting multiple containers in workerSpec is not allowed",
            detail,
        )
    for key in ("pipelineParallelSize", "tensorParallelSize"):
        value = worker.get(key)
        if is_int(value) and value < 1:
            yield Violation((*wpath, key), f"workerSpec.{key} cannot be less than 1", detail)
    found = _model(predictor)
    if found is not None:
        key, model = found
        mpath = (*base, key)
        for i, env in enumerate(as_list(model.get("env"))):
            name = as_dict(env).get("name")
            if name in PARALLEL_ENV:
                yield Violation(
                    (*mpath, "env", i),
                    f"setting {name} in environment variables is not allowed with workerSpec: "
                    f"use workerSpec.{'tensor' if name.startswith('T') else 'pipeline'}"
                    "ParallelSize",
                    detail,
                )
        yield from _unknown_gpus(model, mpath, known, detail)
        uri = model.get("storageUri")
        if not isinstance(uri, str) or not uri:
            yield Violation(
                mpath, "storageUri must be set for multi-node (pvc:// or oci://)", detail
            )
        else:
            protocol = uri.split("://")[0]
            if protocol not in STORAGE_PROTOCOLS:
                yield Violation(
                    (*mpath, "storageUri"),
                    f"multi-node only supports the 'pvc' and 'oci' storage protocols, not "
                    f"{protocol!r}",
                    detail,
                )
        cls = r.annotations.get(AUTOSCALER_CLASS)
        if cls != "none":
            yield Violation(
                ("metadata", "annotations", AUTOSCALER_CLASS),
                f"multi-node only supports autoscalerClass 'none', got "
                f"{'no annotation (hpa)' if cls is None else repr(cls)}: set "
                f"{AUTOSCALER_CLASS}: none",
                detail,
            )
    for i, container in enumerate(containers):
        if isinstance(container, dict):
            yield from _unknown_gpus(container, (*wpath, "containers", i), known, detail)


RULE = rule(
    "kserve.multi-node",
    "Multi-node InferenceServices meet KServe's preconditions",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={"InferenceService"},
    doc=__doc__,
)

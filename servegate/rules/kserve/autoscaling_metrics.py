"""## What it does
Checks an InferenceService's scaling fields against the autoscaler that will run them, the way
KServe's validating webhook does, per component (predictor, transformer, explainer):

- Standard mode with `serving.kserve.io/autoscalerClass: hpa`: `scaleMetric` is `cpu` or
  `memory`, a cpu `scaleTarget` is 1..100, and every `autoScaling.metrics` entry is of type
  `Resource` (External and PodMetric metrics need the `keda` class).
- Standard mode with `keda`: no `scaleMetric`; `Resource` metrics are cpu (`Utilization`) or
  memory (`Utilization`/`AverageValue`); `External` and `PodMetric` metrics have a query and a
  `target.value`; each target sets the field its type names.
- Standard mode without the annotation (KServe then uses `hpa`, which drops every metric that is
  not `Resource`), or with `none`/`external` (KServe creates no autoscaler): `autoScaling`
  metrics that would be silently ignored.
- Knative mode (the default branch of the webhook, ModelMesh too) with the Knative Pod
  Autoscaler: `scaleMetric` is `concurrency` or `rps`, an rps `scaleTarget` is at least 1, and
  `autoScaling`, which only Standard mode reads, is flagged as ignored. With
  `autoscaling.knative.dev/class: hpa.autoscaling.knative.dev` the hpa checks apply.

A missing deployment-mode annotation means the cluster default (policy parameter
`kserveDefaultDeploymentMode`, `Standard` unless set); legacy names count as their new ones.

## Why is this bad?
The CRD schema admits all of these, so `kubectl apply --dry-run` and Argo CD's diff are green;
KServe's webhook then refuses the object at sync ("invalid HPA metric source type with value
[External], valid metric source types are Resource"), or the controller silently drops the
metric and the model never scales on the signal the team chose.

## Example
```yaml
metadata:
  annotations:
    serving.kserve.io/deploymentMode: Standard
    serving.kserve.io/autoscalerClass: hpa
spec:
  predictor:
    autoScaling:
      metrics:
      - type: External
        external:
          metric: {backend: prometheus, query: sum(rate(requests_total[1m]))}
          target: {type: Value, value: "50"}
```

## Use instead
```yaml
metadata:
  annotations:
    serving.kserve.io/deploymentMode: Standard
    serving.kserve.io/autoscalerClass: keda
spec:
  predictor:
    autoScaling:
      metrics:
      - type: External
        external:
          metric: {backend: prometheus, query: sum(rate(requests_total[1m]))}
          target: {type: Value, value: "50"}
```

## References
- kserve/kserve `pkg/apis/serving/v1beta1/inference_service_validation.go`
  (`validateAutoScalingCompExtension`, `validateScalingHPACompExtension`,
  `validateScalingKedaCompExtension`, `validateScalingKPACompExtension`, `validateScaleTarget`)
- kserve/kserve `pkg/controller/v1beta1/inferenceservice/reconcilers/hpa/hpa_reconciler.go`
  (`getHPAMetrics` skips metrics without `resource`) and
  `reconcilers/autoscaler/autoscaler_reconciler.go` (no annotation means `hpa`)
- https://github.com/kserve/kserve/issues/4259
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from servegate.model import Severity
from servegate.resource import FieldPath, Resource, as_dict, as_list
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.kserve._isvc import (
    AUTOSCALER_CLASS,
    KNATIVE_CLASS,
    KNATIVE_HPA_CLASS,
    effective_mode,
    is_int,
    webhook_components,
    who,
)

_HPA_METRICS = ("cpu", "memory")
_KPA_METRICS = ("concurrency", "rps")


def _metrics(body: dict[str, Any], path: FieldPath) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    specs = as_list(as_dict(body.get("autoScaling")).get("metrics"))
    for i, metric in enumerate(specs):
        if isinstance(metric, dict):
            yield (*path, "autoScaling", "metrics", i), metric


def _hpa(body: dict[str, Any], path: FieldPath, detail: str) -> Iterator[Violation]:
    metric = body.get("scaleMetric") or "cpu"
    if metric not in _HPA_METRICS:
        yield Violation(
            (*path, "scaleMetric"),
            f"[{metric}] is not a supported metric for the hpa autoscaler: use cpu or memory",
            detail,
        )
    target = body.get("scaleTarget")
    if is_int(target) and ((metric == "cpu" and target < 1) or target > 100):
        yield Violation(
            (*path, "scaleTarget"),
            "the target utilization percentage should be a [1-100] integer",
            detail,
        )
    elif is_int(target) and metric == "memory" and target < 1:
        yield Violation((*path, "scaleTarget"), "the target memory should be at least 1", detail)
    for where, spec in _metrics(body, path):
        kind = spec.get("type")
        if kind != "Resource":
            hint = " (External and PodMetric metrics need autoscalerClass keda)"
            yield Violation(
                (*where, "type"),
                f"invalid HPA metric source type with value [{kind}], valid metric source "
                f"types are Resource{hint if kind in ('External', 'PodMetric') else ''}",
                detail,
            )
        elif not isinstance(spec.get("resource"), dict):
            yield Violation(
                where, "metricSpec.Resource is not set for resource metric source type", detail
            )


def _target(target: dict[str, Any], where: FieldPath, detail: str) -> Iterator[Violation]:
    kind = target.get("type")
    if kind == "Utilization":
        value = target.get("averageUtilization")
        if value is None:
            yield Violation(where, "the AverageUtilization type should be set", detail)
        elif not is_int(value) or not 1 <= value <= 100:
            yield Violation(
                (*where, "averageUtilization"),
                "the target utilization percentage should be a [1-100] integer",
                detail,
            )
    elif kind == "AverageValue" and target.get("averageValue") is None:
        yield Violation(where, "the AverageValue type should be set", detail)
    elif kind == "Value" and target.get("value") is None:
        yield Violation(where, "the Value type should be set", detail)


def _keda_resource(spec: dict[str, Any], where: FieldPath, detail: str) -> Iterator[Violation]:
    resource = spec.get("resource")
    if not isinstance(resource, dict):
        yield Violation(
            where, "metricSpec.Resource is not set for resource metric source type", detail
        )
        return
    name = resource.get("name")
    target = as_dict(resource.get("target"))
    at = (*where, "resource")
    if name == "cpu" and target.get("type") != "Utilization":
        yield Violation((*at, "target"), "the cpu target value type should be Utilization", detail)
    elif name == "memory" and target.get("type") not in ("AverageValue", "Utilization"):
        yield Violation(
            (*at, "target"),
            "the memory target value type should be AverageValue or Utilization",
            detail,
        )
    elif name not in ("cpu", "memory"):
        yield Violation((*at, "name"), f"resource type {name} is not supported", detail)
    yield from _target(target, (*at, "target"), detail)


def _keda_query(
    spec: dict[str, Any], key: str, label: str, where: FieldPath, detail: str
) -> Iterator[Violation]:
    source = spec.get(key)
    if not isinstance(source, dict):
        yield Violation(
            where, f"metricSpec.{label} is not set for {label.lower()} metric source type", detail
        )
        return
    at = (*where, key)
    if not as_dict(source.get("metric")).get("query"):
        yield Violation((*at, "metric"), "the query should not be empty", detail)
    target = as_dict(source.get("target"))
    if target.get("value") is None:
        yield Violation((*at, "target"), "the target threshold value should not be empty", detail)
    yield from _target(target, (*at, "target"), detail)


def _keda(body: dict[str, Any], path: FieldPath, detail: str) -> Iterator[Violation]:
    if body.get("scaleMetric") is not None:
        yield Violation((*path, "scaleMetric"), "ScaleMetric is not supported for KEDA", detail)
    for where, spec in _metrics(body, path):
        kind = spec.get("type")
        if kind == "Resource":
            yield from _keda_resource(spec, where, detail)
        elif kind == "External":
            yield from _keda_query(spec, "external", "External", where, detail)
        elif kind == "PodMetric":
            yield from _keda_query(spec, "podmetric", "PodMetric", where, detail)
        else:
            yield Violation(
                (*where, "type"),
                f"unknown KEDA metric type with value [{kind}]: valid types are "
                "Resource, External, PodMetric",
                detail,
            )


def _kpa(body: dict[str, Any], path: FieldPath, detail: str) -> Iterator[Violation]:
    metric = body.get("scaleMetric") or "concurrency"
    if metric not in _KPA_METRICS:
        yield Violation(
            (*path, "scaleMetric"),
            f"[{metric}] is not a supported metric for the Knative Pod Autoscaler: use "
            f"concurrency or rps (or autoscaling.knative.dev/class: {KNATIVE_HPA_CLASS})",
            detail,
        )
    target = body.get("scaleTarget")
    if metric == "rps" and is_int(target) and target < 1:
        yield Violation((*path, "scaleTarget"), "the target for rps should be at least 1", detail)
    if "autoScaling" in body:
        yield Violation(
            (*path, "autoScaling"),
            "autoScaling is ignored in Knative mode: only Standard mode's hpa and keda "
            "autoscalers read it",
            detail,
        )


_HPA_DEFAULT = (
    f"no autoscalerClass means hpa, which reads only Resource metrics: set {AUTOSCALER_CLASS}: keda"
)


def _ignored(body: dict[str, Any], path: FieldPath, detail: str, why: str) -> Iterator[Violation]:
    for where, spec in _metrics(body, path):
        kind = spec.get("type")
        if why or kind != "Resource":
            yield Violation(
                (*where, "type"), f"{kind} metric is ignored: {why or _HPA_DEFAULT}", detail
            )


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    mode = effective_mode(r, ctx)
    if mode is None:
        return
    cls = r.annotations.get(AUTOSCALER_CLASS)
    knative_hpa = r.annotations.get(KNATIVE_CLASS) == KNATIVE_HPA_CLASS
    for name, path, body in webhook_components(r):
        detail = who(r, name)
        if mode == "Standard":
            if cls == "hpa":
                yield from _hpa(body, path, detail)
            elif cls == "keda":
                yield from _keda(body, path, detail)
            elif cls is None:
                yield from _ignored(body, path, detail, "")
            elif cls in ("none", "external"):
                yield from _ignored(
                    body, path, detail, f"autoscalerClass {cls} creates no autoscaler"
                )
        elif knative_hpa:
            yield from _hpa(body, path, detail)
        else:
            yield from _kpa(body, path, detail)


RULE = rule(
    "kserve.autoscaling-metrics",
    "Scaling metrics fit the autoscaler class and mode",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={"InferenceService"},
    params={"kserveDefaultDeploymentMode": "Standard"},
    doc=__doc__,
)

"""The pods KServe creates for an InferenceService: its runtime merged in, and its
storage-initializer.

Sources (kserve/kserve v0.20.0):

* Runtime selection, ``pkg/controller/v1beta1/inferenceservice/components/predictor.go``
  ``reconcileModel``: an explicit ``model.runtime`` names a ServingRuntime of the
  InferenceService's namespace, else a ClusterServingRuntime of that name
  (``utils.go`` ``GetServingRuntime``). Without one, ``predictor_model.go``
  ``GetSupportingRuntimes``: the runtimes that are not ``disabled``, whose ``multiModel``
  matches (ModelMesh only), whose ``workerSpec`` presence matches the predictor's
  (multi-node), that serve the model format (``RuntimeSupportsModel``: ``mt:<name>`` or
  ``mt:<name>:<version>`` among the formats with ``autoSelect: true``) and its protocol
  (``IsProtocolVersionSupported``; a model without ``protocolVersion`` asks for ``v1``, the
  defaulting webhook sets ``v2`` for the ``triton`` and ``vLLM`` formats and for the legacy
  ``triton``/``onnx``/``huggingface`` shortcuts); namespaced runtimes first, each group ordered
  by protocol, then (servegate cannot know creation times) name, then by the format's
  ``priority``, highest first (``sortServingRuntimeList``, ``sortSupportedRuntimeByPriority``).
  Only the runtimes in the checked set are known: a model none of them serves gets a runtime
  installed in the cluster, and is judged as the InferenceService writes it.
* Legacy framework shortcuts (``sklearn:``, ``onnx:``...) become ``model`` with that format
  (``inference_service_defaults.go`` ``setPredictorModelDefaults``).
* The pod, ``predictor.go`` ``buildPodSpec`` and ``utils.go``
  ``MergeServingRuntimeAndInferenceServiceSpecs``: the runtime's ``kserve-container`` merged
  with the model's container (:mod:`servegate.podspecs.merge`), a ``transformer-container``
  the runtime and the predictor both name merged the same way, the runtime's other containers
  and the predictor's other ``containers`` appended; the pod spec merged by ``MergePodSpec``.
  Labels and annotations: the runtime's, the InferenceService's, the component's, the later
  winning (``buildObjectMeta``). A multi-node predictor's workers: the runtime's
  ``workerSpec`` ``worker-container`` merged with the predictor ``workerSpec``'s first
  container (``multiNodeProcess``).
* The storage-initializer, ``pkg/webhook/admission/pod/storage_initializer_injector.go``:
  added as an init container when the predictor has a storage URI that is not ``pvc://`` or
  ``oci://`` (``CommonStorageInitialization``); KServe's default container
  (``pkg/utils/storage.go`` ``CreateInitContainerWithConfig`` with the ``storageInitializer``
  settings of ``config/configmap/inferenceservice.yaml``: requests 100m CPU and 100Mi memory,
  limits 1 CPU and 1Gi, **no securityContext** since kserve/kserve#3985) merged with the
  ``spec.container`` of the first ClusterStorageContainer that is not disabled, has
  ``workloadType: initContainer`` and a ``supportedUriFormats`` entry whose ``prefix`` starts
  the URI or whose ``regex`` matches it (``GetStorageContainerSpec``,
  ``IsStorageUriSupported``), or the one ``predictor.storageContainerName`` names.

What is not modelled: ModelMesh pods (built by modelmesh-serving), the agent container the
logger and batcher add, Knative's queue-proxy (hardened by Knative), OCI modelcars.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from servegate.podspecs.merge import (
    Origins,
    merge_containers,
    merge_pod_specs,
    merge_storage_container,
)
from servegate.podspecs.patch import CONTAINER, POD_SPEC, PatchError, _properties
from servegate.podspecs.views import (
    Built,
    ContainerView,
    PodSpecView,
    Source,
)
from servegate.resource import FieldPath, Resource, as_dict, as_list

GROUP = "serving.kserve.io"
RUNTIME_KINDS = frozenset({"ServingRuntime", "ClusterServingRuntime"})
PREDICTOR_CONTAINER = "kserve-container"
TRANSFORMER_CONTAINER = "transformer-container"
WORKER_CONTAINER = "worker-container"
STORAGE_INITIALIZER = "storage-initializer"
MODE_ANNOTATION = "serving.kserve.io/deploymentMode"

#: Legacy predictor shortcuts and the model format KServe's defaulter gives them.
LEGACY_FORMATS = {
    "sklearn": "sklearn",
    "xgboost": "xgboost",
    "tensorflow": "tensorflow",
    "pytorch": "pytorch",
    "triton": "triton",
    "onnx": "onnx",
    "huggingface": "huggingface",
    "pmml": "pmml",
    "lightgbm": "lightgbm",
    "paddle": "paddle",
}
#: Shortcuts whose protocol the defaulter sets to v2 when absent (``assign<X>Runtime``).
_LEGACY_V2 = frozenset({"triton", "onnx", "huggingface"})
#: Formats whose protocol the defaulter sets to v2 when absent (``setPredictorModelDefaults``).
_FORMAT_V2 = frozenset({"triton", "vLLM"})
_PROTOCOL_ORDER = {"v1": 1, "v2": 2, "grpc-v1": 3, "grpc-v2": 4}
_UNKNOWN_PROTOCOL = 5
#: ModelSpec / PredictorExtensionSpec fields that are not Container fields (v1beta1
#: ``predictor_model.go``, ``predictor.go``).
_MODEL_FIELDS = (
    "modelFormat",
    "runtime",
    "storageUri",
    "storage",
    "protocolVersion",
    "runtimeVersion",
)

#: KServe's default storage-initializer (``CreateInitContainerWithConfig`` with the
#: ``storageInitializer`` settings of ``config/configmap/inferenceservice.yaml``, v0.20.0).
DEFAULT_STORAGE_INITIALIZER: Mapping[str, Any] = {
    "name": STORAGE_INITIALIZER,
    "image": "kserve/storage-initializer:latest",
    "terminationMessagePolicy": "FallbackToLogsOnError",
    "resources": {
        "requests": {"cpu": "100m", "memory": "100Mi"},
        "limits": {"cpu": "1", "memory": "1Gi"},
    },
}
#: The securityContext of a storage-initializer hardened for Pod Security ``restricted`` (the
#: ``storageInitializer: restricted`` parameter: the cluster's default ClusterStorageContainer
#: carries it, as kubeflow/community-distribution#3527 and kserve/kserve#5855 set it).
RESTRICTED_CONTEXT: Mapping[str, Any] = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}
STORAGE_PARAM = "storageInitializer"
"""Policy parameter: what the cluster's default storage initializer is, ``kserve`` (KServe's
own: no securityContext) or ``restricted`` (hardened for Pod Security restricted)."""


def is_kserve(r: Resource) -> bool:
    return r.group == GROUP


# --- the checked set's runtimes and storage containers ------------------------------------


@dataclass(frozen=True, slots=True)
class ModelAsk:
    """What an InferenceService predictor asks of a runtime."""

    format: str
    version: str | None
    protocol: str
    runtime: str | None
    multi_model: bool = False
    multi_node: bool = False

    def label(self) -> str:
        return f"{self.format}" + (f" {self.version}" if self.version else "")


class Runtimes:
    """The ServingRuntimes (by namespace) and ClusterServingRuntimes of one unit, in the order
    KServe considers them. Built once per unit."""

    def __init__(self, resources: Sequence[Resource]) -> None:
        self.namespaced: dict[str | None, list[Resource]] = {}
        self.cluster: list[Resource] = []
        for r in resources:
            if r.kind not in RUNTIME_KINDS or not is_kserve(r) or not r.spec:
                continue
            if r.kind == "ServingRuntime":
                self.namespaced.setdefault(r.namespace, []).append(r)
            else:
                self.cluster.append(r)
        for group in (*self.namespaced.values(), self.cluster):
            group.sort(key=lambda r: (_protocol_rank(r.spec), r.name))

    def __bool__(self) -> bool:
        return bool(self.namespaced or self.cluster)

    def named(self, name: str, namespace: str | None) -> Resource | None:
        """``GetServingRuntime``: the namespace's ServingRuntime, else the ClusterServingRuntime."""
        candidates: list[Resource] = [*self.namespaced.get(namespace, []), *self.cluster]
        for r in candidates:
            if r.name == name:
                return r
        return None

    def select(self, ask: ModelAsk, namespace: str | None) -> Resource | None:
        """The runtime KServe would pick among these (``GetSupportingRuntimes``, first)."""
        for group in (self.namespaced.get(namespace, []), self.cluster):
            found = [r for r in group if _supports(r.spec, ask, explicit=False)]
            found.sort(key=lambda r: _priority_key(r.spec, ask.format))
            if found:
                return found[0]
        return None


def _protocol_rank(spec: Mapping[str, Any]) -> int:
    protocols = as_list(spec.get("protocolVersions"))
    if not protocols:
        return _UNKNOWN_PROTOCOL
    return min(_PROTOCOL_ORDER.get(str(p), _UNKNOWN_PROTOCOL) for p in protocols)


def _priority_key(spec: Mapping[str, Any], format_name: str) -> tuple[int, int]:
    for f in as_list(spec.get("supportedModelFormats")):
        if isinstance(f, dict) and f.get("name") == format_name:
            priority = f.get("priority")
            if isinstance(priority, int) and not isinstance(priority, bool):
                return 0, -priority
            return 1, 0
    return 1, 0


def _supports(spec: Mapping[str, Any], ask: ModelAsk, *, explicit: bool) -> bool:
    if spec.get("disabled") is True:
        return False
    if (spec.get("multiModel") is True) != ask.multi_model:
        return False
    if isinstance(spec.get("workerSpec"), dict) != ask.multi_node:
        return False
    return serves_format(spec, ask, explicit=explicit) and serves_protocol(spec, ask.protocol)


def serves_format(spec: Mapping[str, Any], ask: ModelAsk, *, explicit: bool) -> bool:
    """``RuntimeSupportsModel``: formats with ``autoSelect: true`` count unless ``explicit``."""
    labels = set()
    for f in as_list(spec.get("supportedModelFormats")):
        if not isinstance(f, dict) or not isinstance(f.get("name"), str):
            continue
        if explicit or f.get("autoSelect") is True:
            labels.add(f"mt:{f['name']}")
            if f.get("version") is not None:
                labels.add(f"mt:{f['name']}:{f['version']}")
    wanted = f"mt:{ask.format}" + (f":{ask.version}" if ask.version is not None else "")
    return wanted in labels


def serves_protocol(spec: Mapping[str, Any], protocol: str) -> bool:
    """``IsProtocolVersionSupported``: a runtime that lists no protocol serves any."""
    protocols = as_list(spec.get("protocolVersions"))
    return not protocol or not protocols or protocol in [str(p) for p in protocols]


class StorageContainers:
    """The ClusterStorageContainers of one unit, in file order (KServe lists them unordered:
    servegate takes the first that serves a URI, and a repo should not hold two)."""

    def __init__(self, resources: Sequence[Resource]) -> None:
        self.items = [
            r for r in resources if r.kind == "ClusterStorageContainer" and is_kserve(r) and r.spec
        ]

    def for_uri(self, uri: str, name: str | None = None) -> Resource | None:
        """``GetStorageContainerSpec``: the one named, else the first that serves ``uri``."""
        for r in self.items:
            if name and r.name != name:
                continue
            spec = r.spec
            if spec.get("workloadType", "initContainer") != "initContainer":
                continue
            if r.annotations.get("serving.kserve.io/disabled") == "true" or spec.get("disabled"):
                continue
            if name or _serves_uri(spec, uri):
                return r
        return None


def _serves_uri(spec: Mapping[str, Any], uri: str) -> bool:
    """``IsStorageUriSupported``: a prefix the URI starts with, or a regex it matches (Go's
    ``regexp.MatchString``: anywhere in the URI)."""
    for f in as_list(spec.get("supportedUriFormats")):
        f = as_dict(f)
        prefix, regex = f.get("prefix"), f.get("regex")
        if isinstance(prefix, str) and prefix:
            if uri.startswith(prefix):
                return True
        elif isinstance(regex, str) and regex:
            compiled = _regex(regex)
            if compiled is not None and compiled.search(uri):
                return True
    return False


@cache
def _regex(text: str) -> re.Pattern[str] | None:
    try:
        return re.compile(text)
    except re.error:
        return None


# --- one InferenceService's pods ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Settings:
    """What the cluster contributes that the repo does not say (policy parameters)."""

    storage_initializer: str = "kserve"


def needs_storage_initializer(uri: str) -> bool:
    """Whether KServe downloads ``uri`` with an init container (not a PVC mount or an OCI
    modelcar)."""
    return bool(uri) and not uri.startswith(("pvc://", "oci://", "oci+"))


def predictor_model(component: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """(key, body) of the predictor's model: ``model`` or a legacy framework shortcut."""
    for key in ("model", *LEGACY_FORMATS):
        body = component.get(key)
        if isinstance(body, dict):
            return key, body
    return None


def model_ask(
    key: str, model: Mapping[str, Any], component: Mapping[str, Any], mode: str
) -> ModelAsk:
    """What the model asks of a runtime, after KServe's defaulting webhook."""
    fmt = as_dict(model.get("modelFormat"))
    name = str(fmt.get("name") or LEGACY_FORMATS.get(key, ""))
    version = fmt.get("version")
    protocol = model.get("protocolVersion")
    if not protocol and (key in _LEGACY_V2 or name in _FORMAT_V2):
        protocol = "v2"
    runtime = model.get("runtime")
    return ModelAsk(
        name,
        str(version) if version is not None else None,
        str(protocol or "v1"),
        str(runtime) if isinstance(runtime, str) and runtime else None,
        multi_model=mode == "ModelMesh",
        multi_node=isinstance(component.get("workerSpec"), dict),
    )


def storage_uri(
    key: str | None, model: Mapping[str, Any], component: Mapping[str, Any]
) -> tuple[str, FieldPath]:
    """The predictor's storage URI and where it is written (relative to the component):
    ``<model>.storageUri``, or a custom ``kserve-container``'s ``STORAGE_URI`` env."""
    if key is not None:
        uri = model.get("storageUri")
        if isinstance(uri, str):
            return uri, (key, "storageUri")
        return "", ()
    for i, c in enumerate(as_list(component.get("containers"))):
        if as_dict(c).get("name") != PREDICTOR_CONTAINER:
            continue
        for j, e in enumerate(as_list(as_dict(c).get("env"))):
            e = as_dict(e)
            if e.get("name") == "STORAGE_URI" and isinstance(e.get("value"), str):
                return e["value"], ("containers", i, "env", j, "value")
        break
    return "", ()


def container_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    """The Container fields of a model spec (``modelFormat``, ``runtime``, ``storageUri``...
    are the model's, not the container's)."""
    known = _properties(CONTAINER) or {}
    return {k: v for k, v in body.items() if k in known}


def model_fields(body: Mapping[str, Any]) -> list[str]:
    """The fields of a model spec that are the model's, not its container's (``storageUri``,
    ``modelFormat``, ``runtime``, ``protocolVersion``...), and the ones KServe's ModelSpec
    always has room for even when unset."""
    known = _properties(CONTAINER) or {}
    return sorted({*(k for k in body if k not in known), *_MODEL_FIELDS})


def pod_fields(component: Mapping[str, Any]) -> dict[str, Any]:
    """The PodSpec fields of a component (its containers apart)."""
    known = _properties(POD_SPEC) or {}
    return {
        k: v
        for k, v in component.items()
        if k in known and k not in ("containers", "initContainers", "ephemeralContainers")
    }


class Builder:
    """Builds the effective pods of InferenceServices for one unit."""

    def __init__(self, runtimes: Runtimes, storage: StorageContainers, settings: Settings) -> None:
        self.runtimes = runtimes
        self.storage = storage
        self.settings = settings
        self.used: set[int] = set()
        """``id()`` of the runtimes and storage containers some InferenceService's pods use."""

    def runtime_for(
        self, r: Resource, component: Mapping[str, Any]
    ) -> tuple[Resource | None, ModelAsk | None, str]:
        """The runtime of a predictor component: (runtime or None, what it asks, why None)."""
        found = predictor_model(component)
        if found is None:
            return None, None, ""
        key, model = found
        ask = model_ask(key, model, component, _mode(r))
        if ask.multi_model:
            return None, ask, ""  # ModelMesh builds its own pods
        if ask.runtime is not None:
            runtime = self.runtimes.named(ask.runtime, r.namespace)
            if runtime is None:
                return (
                    None,
                    ask,
                    (
                        f"runtime {ask.runtime!r} is not in the checked set: judged as the "
                        "InferenceService sets it (check the runtime with the repo, or pass it)"
                    ),
                )
            return runtime, ask, ""
        if not ask.format:
            return None, ask, ""
        runtime = self.runtimes.select(ask, r.namespace)
        if runtime is None:
            return (
                None,
                ask,
                (
                    f"no ServingRuntime or ClusterServingRuntime in the checked set serves "
                    f"{ask.label()} over {ask.protocol}: KServe selects one installed in the "
                    "cluster, which servegate does not see; judged as the InferenceService sets it"
                ),
            )
        return runtime, ask, ""

    def pods(self, r: Resource, walked: Sequence[PodSpecView]) -> list[PodSpecView]:
        """The effective pods of InferenceService ``r``, from the views the walker found."""
        out: list[PodSpecView] = []
        heads = {p.label for p in walked if p.component == "predictor"}
        for pod in walked:
            if pod.component != "predictor":
                if pod.label.removesuffix(" workerSpec") not in heads:
                    out.append(pod)  # transformer, explainer (and their workers)
                continue
            component = as_dict(_at(r.body, pod.path))
            runtime, ask, why = self.runtime_for(r, component)
            worker = _worker_view(walked, pod)
            if runtime is None:
                built = Built(
                    runtime_note=why,
                    runtime_at=_runtime_at(component, ask, pod.path),
                    runtime_named=bool(ask and ask.runtime),
                )
                if why:
                    pod = _hinted(pod, why)
                out.append(self._with_storage(r, replace(pod, built=built), component))
                if worker is not None:
                    out.append(self._with_storage(r, replace(worker, built=built), component))
                continue
            self.used.add(id(runtime))
            built = Built(runtime=runtime, runtime_at=_runtime_at(component, ask, pod.path))
            head = self._merged(r, pod, component, runtime, built)
            out.append(self._with_storage(r, head, component))
            if worker is not None:
                merged = self._worker(r, pod, component, runtime, built)
                out.append(self._with_storage(r, merged or replace(worker, built=built), component))
        return out

    # -- the predictor pod ----------------------------------------------------------------

    def _merged(
        self,
        r: Resource,
        pod: PodSpecView,
        component: dict[str, Any],
        runtime: Resource,
        built: Built,
    ) -> PodSpecView:
        found = predictor_model(component)
        assert found is not None
        key, model = found
        rt_spec = runtime.spec
        merged = self._assemble(
            r,
            pod,
            component,
            runtime,
            built,
            runtime_pod=rt_spec,
            runtime_pod_path=("spec",),
            main=PREDICTOR_CONTAINER,
            main_body=container_fields(model),
            main_path=(*pod.path, key),
            main_section=key,
            own_containers=[
                (i, c)
                for i, c in enumerate(as_list(component.get("containers")))
                if isinstance(c, dict)
            ],
            runtime_version=model.get("runtimeVersion"),
        )
        # the model's own fields (storageUri, modelFormat, runtime...) are no container's:
        # a finding about them belongs to the InferenceService, not to the runtime merged in
        own = {(*pod.path, key, k): Source(r, (*pod.path, key, k)) for k in model_fields(model)}
        return replace(merged, sources={**merged.sources, **own})

    def _worker(
        self,
        r: Resource,
        pod: PodSpecView,
        component: dict[str, Any],
        runtime: Resource,
        built: Built,
    ) -> PodSpecView | None:
        rt_worker = as_dict(runtime.spec.get("workerSpec"))
        worker = as_dict(component.get("workerSpec"))
        if not rt_worker:
            return None
        mine = [c for c in as_list(worker.get("containers")) if isinstance(c, dict)]
        wpath = (*pod.path, "workerSpec")
        base = replace(
            pod,
            label=f"{pod.label} workerSpec",
            path=wpath,
            spec=worker,
            containers=(),
        )
        return self._assemble(
            r,
            base,
            worker,
            runtime,
            built,
            runtime_pod=rt_worker,
            runtime_pod_path=("spec", "workerSpec"),
            main=WORKER_CONTAINER,
            main_body=mine[0] if mine else {},
            main_path=(*wpath, "containers", 0),
            main_section="containers",
            own_containers=[],
            runtime_version=None,
        )

    def _assemble(
        self,
        r: Resource,
        pod: PodSpecView,
        component: dict[str, Any],
        runtime: Resource,
        built: Built,
        *,
        runtime_pod: Mapping[str, Any],
        runtime_pod_path: FieldPath,
        main: str,
        main_body: dict[str, Any],
        main_path: FieldPath,
        main_section: str,
        own_containers: list[tuple[int, dict[str, Any]]],
        runtime_version: Any,
    ) -> PodSpecView:
        sources: dict[FieldPath, Source] = {}
        what = f"{runtime.kind} {runtime.name!r}"
        rt_containers = [
            (j, c)
            for j, c in enumerate(as_list(runtime_pod.get("containers")))
            if isinstance(c, dict)
        ]
        containers: list[ContainerView] = []
        problems: list[tuple[Resource, FieldPath, str]] = []

        rt_main = next(((j, c) for j, c in rt_containers if c.get("name") == main), None)
        if rt_main is None:
            # KServe refuses the InferenceService ("failed to find kserve-container in
            # ServingRuntime containers"): judge the model container as written
            problems.append(
                (
                    runtime,
                    (*runtime_pod_path, "containers"),
                    f"{what} has no container named {main!r} to merge the model of "
                    f"InferenceService {r.name!r} into: KServe refuses it (InvalidPredictorSpec)",
                )
            )
            merged_main, origins = dict(main_body), _own()
            rt_main_path: FieldPath = (*runtime_pod_path, "containers")
        else:
            rt_main_path = (*runtime_pod_path, "containers", rt_main[0])
            try:
                merged_main, origins = merge_containers(rt_main[1], main_body)
            except PatchError as err:
                problems.append((r, main_path, f"cannot be merged with {what}: {err}"))
                merged_main, origins = dict(main_body), _own()
        if isinstance(runtime_version, str) and runtime_version:
            image = merged_main.get("image")
            if isinstance(image, str) and "@sha256:" not in image:
                merged_main["image"] = _retag(image, runtime_version)
                origins[("image",)] = ("overlay", ("runtimeVersion",))
        _trace_sources(
            sources,
            main_path,
            origins,
            r,
            main_path,
            runtime,
            rt_main_path,
            f"{what} container {main!r}",
        )
        containers.append(
            ContainerView(
                str(merged_main.get("name") or main), main_section, merged_main, main_path
            )
        )

        # transformer-container: merged when both name it
        rt_transformer = next(
            ((j, c) for j, c in rt_containers if c.get("name") == TRANSFORMER_CONTAINER), None
        )
        own_transformer = next(
            ((i, c) for i, c in own_containers if c.get("name") == TRANSFORMER_CONTAINER), None
        )
        if rt_transformer is not None and own_transformer is not None:
            tpath = (*pod.path, "containers", own_transformer[0])
            try:
                body, torigins = merge_containers(rt_transformer[1], own_transformer[1])
            except PatchError as err:
                problems.append((r, tpath, f"cannot be merged with {what}: {err}"))
                body, torigins = own_transformer[1], _own()
            _trace_sources(
                sources,
                tpath,
                torigins,
                r,
                tpath,
                runtime,
                (*runtime_pod_path, "containers", rt_transformer[0]),
                f"{what} container {TRANSFORMER_CONTAINER!r}",
            )
            containers.append(ContainerView(TRANSFORMER_CONTAINER, "containers", body, tpath))
        for j, c in rt_containers:
            if c.get("name") == main or (
                c.get("name") == TRANSFORMER_CONTAINER and own_transformer is not None
            ):
                continue
            vpath = (*pod.path, "<runtime>", "containers", j)
            name = str(c.get("name") or f"containers[{j}]")
            sources[vpath] = Source(
                runtime, (*runtime_pod_path, "containers", j), f"{what} container {name!r}"
            )
            containers.append(ContainerView(name, "containers", c, vpath))
        for i, c in own_containers:
            if c.get("name") == TRANSFORMER_CONTAINER and rt_transformer is not None:
                continue
            name = str(c.get("name") or f"containers[{i}]")
            containers.append(ContainerView(name, "containers", c, (*pod.path, "containers", i)))

        spec, pod_origins = merge_pod_specs(runtime_pod, pod_fields(component))
        for rel, (side, at) in pod_origins.items():
            if side == "base":
                sources[(*pod.path, *rel)] = Source(runtime, (*runtime_pod_path, *at), what)
            elif at != rel:
                sources[(*pod.path, *rel)] = Source(r, (*pod.path, *at))
        for i, c in enumerate(as_list(component.get("initContainers"))):
            if isinstance(c, dict):
                name = str(c.get("name") or f"initContainers[{i}]")
                containers.insert(
                    0, ContainerView(name, "initContainers", c, (*pod.path, "initContainers", i))
                )
        spec["containers"] = [c.body for c in containers if c.section != "initContainers"]
        metadata, meta_sources = _metadata(r, pod, runtime, runtime_pod, runtime_pod_path, what)
        sources.update(meta_sources)
        return replace(
            pod,
            spec=spec,
            containers=tuple(containers),
            metadata=metadata,
            sources={**pod.sources, **sources},
            built=replace(built, problems=tuple(problems)),
        )

    # -- storage -----------------------------------------------------------------------

    def _with_storage(
        self, r: Resource, pod: PodSpecView, component: Mapping[str, Any]
    ) -> PodSpecView:
        found = predictor_model(component)
        key, model = found if found is not None else (None, {})
        uri, where = storage_uri(key, model, component)
        if not needs_storage_initializer(uri):
            return pod
        if any(c.name == STORAGE_INITIALIZER for c in pod.containers):
            return pod  # KServe adds none when the pod has one (CommonStorageInitialization)
        named = component.get("storageContainerName")
        csc = self.storage.for_uri(uri, str(named) if isinstance(named, str) and named else None)
        built = pod.built or Built()
        uri_at = (*pod.path, *where) if where else pod.path
        if pod.label.endswith("workerSpec"):
            uri_at = (*pod.path[:-1], *where) if where else pod.path
        if csc is None:
            built = replace(built, storage_default=True, storage_at=uri_at, storage_uri=uri)
            if self.settings.storage_initializer != "restricted":
                return replace(pod, built=built)
            body = {**DEFAULT_STORAGE_INITIALIZER, "securityContext": dict(RESTRICTED_CONTEXT)}
            vpath = (*pod.path, "<storage-initializer>")
            container = ContainerView(
                STORAGE_INITIALIZER,
                "initContainers",
                body,
                vpath,
                injected="KServe's storage initializer (storageInitializer: restricted)",
            )
            source = Source(
                r,
                uri_at,
                f"{pod.label} storage-initializer (the cluster's default, storageInitializer: "
                "restricted)",
                whole=True,
            )
            return replace(
                pod,
                containers=(container, *pod.containers),
                sources={**pod.sources, vpath: source},
                built=built,
            )
        self.used.add(id(csc))
        built = replace(built, storage=csc, storage_at=uri_at, storage_uri=uri)
        try:
            body, origins = merge_storage_container(
                DEFAULT_STORAGE_INITIALIZER, as_dict(csc.spec.get("container"))
            )
        except PatchError:
            body, origins = dict(as_dict(csc.spec.get("container"))), _own()
        vpath = (*pod.path, "<storage-initializer>")
        label = f"ClusterStorageContainer {csc.name!r} container {STORAGE_INITIALIZER!r}"
        sources = dict(pod.sources)
        for rel, (side, at) in origins.items():
            # fields KServe's default supplies are the ClusterStorageContainer's to change
            sources[(*vpath, *rel)] = Source(
                csc, ("spec", "container", *(at if side == "overlay" else rel)), label
            )
        container = ContainerView(STORAGE_INITIALIZER, "initContainers", body, vpath)
        return replace(pod, containers=(container, *pod.containers), sources=sources, built=built)


def _hinted(pod: PodSpecView, why: str) -> PodSpecView:
    """``pod`` with ``why`` (its runtime is not in the checked set) appended to every finding
    about its model container, judged as written."""
    found = next((c for c in pod.containers if c.section in ("model", *LEGACY_FORMATS)), None)
    if found is None:
        return pod
    hint = Source(pod.resource, found.path, why=why.partition(": ")[0] + ": judged as written")
    # the model's own fields (runtime, storageUri...) are not its container's: no hint there
    # (the kserve.runtime-not-checked note at model.runtime says it once)
    own = {(*found.path, k): Source(pod.resource, (*found.path, k)) for k in _MODEL_FIELDS}
    return replace(pod, sources={**pod.sources, found.path: hint, **own})


def _own() -> Origins:
    """The origins of a value taken as the overlay wrote it."""
    return {(): ("overlay", ())}


def _trace_sources(
    sources: dict[FieldPath, Source],
    path: FieldPath,
    origins: Origins,
    own: Resource,
    own_path: FieldPath,
    runtime: Resource,
    runtime_path: FieldPath,
    label: str,
) -> None:
    """Sources of a merged container at ``path``: runtime fields in the runtime, the
    InferenceService's where their index differs from the merged one."""
    for rel, (side, at) in origins.items():
        if side == "base":
            sources[(*path, *rel)] = Source(runtime, (*runtime_path, *at), label)
        else:
            sources[(*path, *rel)] = Source(own, (*own_path, *at))


def _metadata(
    r: Resource,
    pod: PodSpecView,
    runtime: Resource,
    runtime_pod: Mapping[str, Any],
    runtime_pod_path: FieldPath,
    what: str,
) -> tuple[dict[str, Any], dict[FieldPath, Source]]:
    """``buildObjectMeta``: the runtime's labels and annotations under the InferenceService's
    and the component's (the walker merged those two already)."""
    sources: dict[FieldPath, Source] = {}
    out: dict[str, Any] = {}
    for field in ("labels", "annotations"):
        mine = as_dict(pod.metadata.get(field))
        theirs = as_dict(runtime_pod.get(field))
        merged = {**theirs, **mine}
        if merged:
            out[field] = merged
        for key in theirs:
            if key not in mine:
                sources[(*pod.metadata_path, field, key)] = Source(
                    runtime, (*runtime_pod_path, field, key), what
                )
    return out, sources


def _retag(image: str, tag: str) -> str:
    """``UpdateImageTag`` with ``runtimeVersion``: replace the tag, or add one."""
    match = re.search(r":([\w.\-_]*)$", image)
    if match is None or "/" in match.group(0):
        return f"{image}:{tag}"
    return image[: match.start()] + f":{tag}"


def _mode(r: Resource) -> str:
    value = str(r.annotations.get(MODE_ANNOTATION) or "")
    return "ModelMesh" if value == "ModelMesh" else value


def _runtime_at(component: Mapping[str, Any], ask: ModelAsk | None, path: FieldPath) -> FieldPath:
    found = predictor_model(component)
    if found is None:
        return path
    key, model = found
    if ask is not None and ask.runtime is not None:
        return (*path, key, "runtime")
    if "modelFormat" in model:
        return (*path, key, "modelFormat")
    return (*path, key)


def _at(body: Any, path: FieldPath) -> Any:
    for part in path:
        if isinstance(part, int):
            body = body[part] if isinstance(body, list) and 0 <= part < len(body) else None
        else:
            body = as_dict(body).get(part)
    return body


def _worker_view(walked: Sequence[PodSpecView], head: PodSpecView) -> PodSpecView | None:
    for pod in walked:
        if pod.label == f"{head.label} workerSpec":
            return pod
    return None

"""KServe's default ClusterServingRuntimes, and KServe's runtime selection over them.

Data read from kserve/kserve ``config/runtimes/`` (the files ``kustomization.yaml`` lists, which
``kubectl apply -k config/default`` and the release manifests install) at the tags v0.15.2,
v0.16.0, v0.17.1, v0.18.1, v0.19.0, v0.20.0 and main@aaac4e29: each runtime's
``spec.protocolVersions`` and ``spec.supportedModelFormats`` (name, version, autoSelect).
``kserve-huggingfaceserver-multinode`` is left out: it has a ``workerSpec``, and a single-node
predictor never selects a multi-node runtime.

:func:`supporting_runtimes` is KServe's own selection
(``pkg/apis/serving/v1beta1/predictor_model.go``: ``GetSupportingRuntimes``,
``RuntimeSupportsModel``; ``ServingRuntimeSpec.IsProtocolVersionSupported`` in
``pkg/apis/serving/v1alpha1/servingruntime_types.go``): a runtime serves a model when it is not
disabled, its formats include the model's ``mt:<name>`` or ``mt:<name>:<version>`` label
(counting only ``autoSelect: true`` formats unless the model names its ``runtime``), and its
``protocolVersions`` are empty or include the model's ``protocolVersion`` (default ``v1``,
``ModelSpec.GetProtocol``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ModelFormat:
    name: str
    version: str | None = None
    auto_select: bool = True


@dataclass(frozen=True, slots=True)
class Runtime:
    """What selection reads of a (Cluster)ServingRuntime."""

    name: str
    protocols: tuple[str, ...]
    formats: tuple[ModelFormat, ...]
    disabled: bool = False
    multi_model: bool = False
    multi_node: bool = False

    def labels(self, explicit: bool) -> frozenset[str]:
        """``mt:name`` and ``mt:name:version`` labels; every format when ``explicit``."""
        found: set[str] = set()
        for f in self.formats:
            if explicit or f.auto_select:
                found.add(f"mt:{f.name}")
                if f.version is not None:
                    found.add(f"mt:{f.name}:{f.version}")
        return frozenset(found)

    def supports_protocol(self, protocol: str) -> bool:
        return not protocol or not self.protocols or protocol in self.protocols


def _fmt(spec: str) -> ModelFormat:
    """``"onnx:1"``, ``"pytorch:1:manual"`` (autoSelect false)."""
    name, _, rest = spec.partition(":")
    version, _, manual = rest.partition(":")
    return ModelFormat(name, version or None, manual != "manual")


def _rt(name: str, protocols: str, *formats: str) -> Runtime:
    return Runtime(name, tuple(p for p in protocols.split(",") if p), tuple(map(_fmt, formats)))


_TENSORFLOW = _rt("kserve-tensorflow-serving", "v1,grpc-v1", "tensorflow:1", "tensorflow:2")
_SKLEARN = _rt("kserve-sklearnserver", "v1,v2", "sklearn:1")
_MLSERVER = _rt(
    "kserve-mlserver",
    "v2",
    "sklearn:0",
    "sklearn:1",
    "xgboost:1",
    "xgboost:2",
    "lightgbm:3",
    "lightgbm:4",
    "mlflow:1",
    "mlflow:2",
)
_TRITON = _rt(
    "kserve-tritonserver",
    "v2,grpc-v2",
    "tensorrt:8",
    "tensorflow:1",
    "tensorflow:2",
    "onnx:1",
    "pytorch:1:manual",
    "triton:2",
)
_PMML = _rt("kserve-pmmlserver", "v1,v2", "pmml:3", "pmml:4")
_PADDLE = _rt("kserve-paddleserver", "v1,v2", "paddle:2")
_TORCHSERVE = _rt("kserve-torchserve", "v1,v2,grpc-v2", "pytorch:1")
_HUGGINGFACE = _rt("kserve-huggingfaceserver", "v2,v1", "huggingface:1")
_PREDICTIVE = _rt(
    "kserve-predictiveserver", "v1,v2", "sklearn:1:manual", "xgboost:2:manual", "lightgbm:4:manual"
)

_V15 = (
    _TENSORFLOW,
    _SKLEARN,
    _MLSERVER,
    _rt("kserve-xgbserver", "v1,v2", "xgboost:1"),
    _TRITON,
    _PMML,
    _PADDLE,
    _rt("kserve-lgbserver", "v1,v2", "lightgbm:3"),
    _TORCHSERVE,
    _HUGGINGFACE,
)
_V17 = (
    _TENSORFLOW,
    _SKLEARN,
    _PREDICTIVE,
    _MLSERVER,
    _rt("kserve-xgbserver", "v1,v2", "xgboost:2"),
    _TRITON,
    _PMML,
    _PADDLE,
    _rt("kserve-lgbserver", "v1,v2", "lightgbm:4"),
    _TORCHSERVE,
    _HUGGINGFACE,
)
_V20 = (
    *_V17,
    _rt("kserve-autogluonserver", "v1,v2", "autogluon:1"),
    _rt("kserve-vllmserver", "", "vLLM:1"),
)

DEFAULT_RUNTIMES: Mapping[str, tuple[Runtime, ...]] = {
    "0.15": _V15,
    "0.16": _V15,
    "0.17": _V17,
    "0.18": _V17,
    "0.19": _V17,
    "0.20": _V20,
    "0.21": _V20,
}
"""KServe minor version -> the default ClusterServingRuntimes it installs."""


def default_runtimes(version: str) -> tuple[Runtime, ...]:
    """The default runtimes of a KServe version label (the newest known for an unknown one)."""
    return DEFAULT_RUNTIMES.get(version) or DEFAULT_RUNTIMES[max(DEFAULT_RUNTIMES)]


def runtime_from_object(obj: Mapping[str, Any]) -> Runtime | None:
    """A Runtime from a ServingRuntime/ClusterServingRuntime object (None when malformed)."""
    meta = obj.get("metadata")
    spec = obj.get("spec")
    if not isinstance(meta, Mapping) or not isinstance(spec, Mapping):
        return None
    formats: list[ModelFormat] = []
    for item in spec.get("supportedModelFormats") or ():
        if isinstance(item, Mapping) and isinstance(item.get("name"), str):
            version = item.get("version")
            formats.append(
                ModelFormat(
                    item["name"],
                    str(version) if version is not None else None,
                    item.get("autoSelect") is True,
                )
            )
    protocols = spec.get("protocolVersions") or ()
    return Runtime(
        name=str(meta.get("name") or ""),
        protocols=tuple(str(p) for p in protocols) if isinstance(protocols, list) else (),
        formats=tuple(formats),
        disabled=spec.get("disabled") is True,
        multi_model=spec.get("multiModel") is True,
        multi_node=isinstance(spec.get("workerSpec"), Mapping),
    )


def model_label(name: str, version: str | None) -> str:
    return f"mt:{name}:{version}" if version is not None else f"mt:{name}"


def default_protocol(format_name: str) -> str:
    """The protocol KServe assumes for a model without ``protocolVersion``: the defaulting
    webhook sets ``v2`` for the ``triton`` format (``setPredictorModelDefaults``), selection
    reads everything else as ``v1`` (``ModelSpec.GetProtocol``)."""
    return "v2" if format_name == "triton" else "v1"


def supporting_runtimes(
    runtimes: Iterable[Runtime],
    format_name: str,
    format_version: str | None = None,
    protocol: str | None = None,
    runtime: str | None = None,
) -> list[Runtime]:
    """The runtimes KServe could pick for a single-node predictor model, in input order.

    ``protocol`` None means the model sets none. With ``runtime`` set, only the runtime of that
    name is considered, every one of its formats counts, and the protocol is checked only when
    the model sets one (KServe then takes the runtime's own); without, the protocol is the
    model's or :func:`default_protocol`.
    """
    label = model_label(format_name, format_version)
    explicit = runtime is not None
    wanted = protocol or ("" if explicit else default_protocol(format_name))
    return [
        r
        for r in runtimes
        if (runtime is None or r.name == runtime)
        and not r.disabled
        and not r.multi_model
        and not r.multi_node
        and label in r.labels(explicit)
        and r.supports_protocol(wanted)
    ]


def protocols_served(runtimes: Iterable[Runtime], format_name: str) -> list[str]:
    """Protocol versions some auto-selectable runtime serves for ``format_name``, v1 first."""
    order = ("v1", "v2", "grpc-v1", "grpc-v2")
    found = {
        p
        for r in runtimes
        if not r.disabled
        and not r.multi_model
        and not r.multi_node
        and f"mt:{format_name}" in r.labels(False)
        for p in (r.protocols or order)
    }
    return [p for p in order if p in found]

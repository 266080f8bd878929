"""The KServe version table and the runtime selection servegate reads from it."""

from __future__ import annotations

import pytest

from servegate import kserve_runtimes, kserve_versions
from servegate.kserve_runtimes import default_runtimes, protocols_served, supporting_runtimes


@pytest.mark.parametrize(
    ("value", "label", "knative", "standard", "canary_api", "routed"),
    [
        ("0.15", "0.15", "Serverless", "RawDeployment", False, False),
        ("v0.15.2", "0.15", "Serverless", "RawDeployment", False, False),
        ("0.16", "0.16", "Knative", "Standard", False, False),
        ("0.20.0", "0.20", "Knative", "Standard", True, False),
        ("main", "0.21", "Knative", "Standard", True, True),
    ],
)
def test_versions(
    value: str, label: str, knative: str, standard: str, canary_api: bool, routed: bool
) -> None:
    version = kserve_versions.parse(value)
    assert version.label == label
    assert (version.mode_name("knative"), version.mode_name("standard")) == (knative, standard)
    assert (version.has_canary_api, version.routes_canary) == (canary_api, routed)


@pytest.mark.parametrize("value", ["0.14", "1.0", "0.22", "latest", ""])
def test_unsupported_versions_name_the_range(value: str) -> None:
    with pytest.raises(kserve_versions.UnsupportedVersion, match=r"0\.15 to 0\.21"):
        kserve_versions.parse(value)


def names(found: list[kserve_runtimes.Runtime]) -> list[str]:
    return [r.name for r in found]


def test_selection_follows_kserve() -> None:
    head = default_runtimes("0.21")
    assert names(supporting_runtimes(head, "onnx")) == []  # Triton serves v2 only
    assert names(supporting_runtimes(head, "onnx", protocol="v2")) == ["kserve-tritonserver"]
    assert protocols_served(head, "onnx") == ["v2", "grpc-v2"]
    # autoSelect false: Triton lists pytorch, but only an explicit runtime gets it
    assert "kserve-tritonserver" not in names(supporting_runtimes(head, "pytorch", protocol="v2"))
    assert names(
        supporting_runtimes(head, "pytorch", protocol="v2", runtime="kserve-tritonserver")
    ) == ["kserve-tritonserver"]
    # an explicit runtime without protocolVersion takes the runtime's own
    assert names(supporting_runtimes(head, "sklearn", runtime="kserve-mlserver")) == [
        "kserve-mlserver"
    ]
    # the webhook defaults the triton format to v2
    assert names(supporting_runtimes(head, "triton")) == ["kserve-tritonserver"]
    # versions matter: lightgbm 3 left kserve-lgbserver in 0.17 (only MLServer, over v2, keeps it)
    assert names(supporting_runtimes(default_runtimes("0.15"), "lightgbm", "3")) == [
        "kserve-lgbserver"
    ]
    assert names(supporting_runtimes(default_runtimes("0.17"), "lightgbm", "3")) == []
    assert names(supporting_runtimes(default_runtimes("0.17"), "lightgbm", "3", "v2")) == [
        "kserve-mlserver"
    ]


def test_runtime_objects_are_read_like_kserve() -> None:
    runtime = kserve_runtimes.runtime_from_object(
        {
            "metadata": {"name": "mine"},
            "spec": {
                "supportedModelFormats": [{"name": "onnx", "version": 1, "autoSelect": True}],
                "workerSpec": {},
            },
        }
    )
    assert runtime is not None and runtime.multi_node
    assert runtime.labels(explicit=False) == {"mt:onnx", "mt:onnx:1"}
    assert supporting_runtimes([runtime], "onnx") == []  # multi-node: not for one predictor
    assert kserve_runtimes.runtime_from_object({"spec": []}) is None

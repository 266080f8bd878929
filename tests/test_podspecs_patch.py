"""Strategic merge of pod specs (servegate.podspecs.patch) agrees with kubectl's, the real
apimachinery implementation (``kubectl patch --local --type strategic``, offline)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from servegate.podspecs.patch import CONTAINER, PatchError, merge, parse_pod_spec_patch

Spec = dict[str, Any]

BASE: Spec = {
    "securityContext": {"runAsNonRoot": True, "supplementalGroups": [1, 2]},
    "containers": [
        {
            "name": "main",
            "image": "a",
            "securityContext": {"runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}},
            "env": [{"name": "A", "value": "1"}],
            "ports": [{"containerPort": 80}],
            "volumeMounts": [{"name": "v", "mountPath": "/v"}],
        },
        {"name": "side", "image": "b"},
    ],
    "volumes": [{"name": "v", "emptyDir": {}}, {"name": "h", "hostPath": {"path": "/"}}],
    "tolerations": [{"key": "x", "operator": "Exists"}],
}

PATCHES: list[Spec] = [
    {
        "hostNetwork": True,
        "containers": [{"name": "main", "securityContext": {"privileged": True}}],
    },
    {"containers": [{"name": "new", "image": "n"}], "tolerations": [{"key": "y"}]},
    {
        "containers": [
            {"name": "main", "env": [{"name": "B", "value": "2"}], "ports": [{"containerPort": 81}]}
        ]
    },
    {"containers": [{"name": "main", "securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}]},
    {"securityContext": {"runAsNonRoot": None, "supplementalGroups": [3]}},
    {"containers": [{"name": "side", "$patch": "delete"}]},
    {"containers": [{"name": "only", "image": "o"}, {"$patch": "replace"}]},
    {
        "containers": [
            {"name": "main", "securityContext": {"$patch": "replace", "privileged": True}}
        ]
    },
    {"volumes": [{"name": "h", "emptyDir": {}, "$retainKeys": ["name", "emptyDir"]}]},
    {"volumes": [{"name": "v", "$patch": "delete"}, {"name": "n", "hostPath": {"path": "/etc"}}]},
    {"initContainers": [{"name": "i", "image": "i", "securityContext": {"privileged": None}}]},
    {"$setElementOrder/containers": [{"name": "side"}, {"name": "main"}]},
    {"containers": [{"name": "main", "$deleteFromPrimitiveList/args": ["x"], "args": ["y"]}]},
]


def kubectl_merge(base: Spec, patch: Spec, tmp_path: Path) -> Spec:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": base}
    (tmp_path / "pod.json").write_text(json.dumps(pod))
    done = subprocess.run(
        [
            "kubectl",
            "patch",
            "--local",
            "-f",
            str(tmp_path / "pod.json"),
            "--type",
            "strategic",
            "-p",
            json.dumps({"spec": patch}),
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: Spec = json.loads(done.stdout)["spec"]
    return result


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_merge_agrees_with_kubectl(tmp_path: Path) -> None:
    for patch in PATCHES:
        assert merge(BASE, patch) == kubectl_merge(BASE, patch, tmp_path), patch


def test_merge_copies_and_reports_errors() -> None:
    before = json.dumps(BASE)
    merge(BASE, PATCHES[0])
    assert json.dumps(BASE) == before
    with pytest.raises(PatchError, match="merge key"):
        merge(BASE, {"containers": [{"image": "x"}]})
    with pytest.raises(PatchError, match="directive"):
        merge(BASE, {"$bogus": 1})
    # a list the original lacks is taken whole, without merge-key checks (apimachinery mergeMap)
    assert merge({}, {"containers": [{"image": "x"}]}) == {"containers": [{"image": "x"}]}


def test_container_merge_as_the_prometheus_operator_does() -> None:
    generated = {"name": "prometheus", "securityContext": {"readOnlyRootFilesystem": True}}
    user = {"name": "prometheus", "securityContext": {"runAsUser": 0}, "env": [{"name": "E"}]}
    assert merge(generated, user, CONTAINER) == {
        "name": "prometheus",
        "securityContext": {"readOnlyRootFilesystem": True, "runAsUser": 0},
        "env": [{"name": "E"}],
    }


def test_pod_spec_patch_text_is_read_as_argo_reads_it() -> None:
    assert parse_pod_spec_patch('{"hostNetwork": true}').patch == {"hostNetwork": True}
    assert parse_pod_spec_patch("hostNetwork: yes").patch == {"hostNetwork": True}  # YAML 1.1
    assert parse_pod_spec_patch("").patch is None
    nan = parse_pod_spec_patch('{"a": NaN}')
    assert nan.patch is None and "NaN" in str(nan.problem)
    assert parse_pod_spec_patch("a: &x [1]\nb: *x").patch == {"a": [1], "b": [1]}
    # unknown fields are dropped by Go, not a reason to refuse; only case variants are
    assert parse_pod_spec_patch("someFutureField: 1").patch == {"someFutureField": 1}
    kelvin = parse_pod_spec_patch('{"hostNetwor\u212a": true}')  # Go folds the Kelvin sign to k
    assert kelvin.patch is None and "only in case" in str(kelvin.problem)


def test_plain_y_and_n_are_booleans_as_argos_yaml_decoder_reads_them() -> None:
    """sigs.k8s.io/yaml (go-yaml v2) reads plain y/Y/n/N as booleans; quoted ones stay text."""
    text = 'hostNetwork: y\ncontainers:\n- name: main\n  securityContext: {privileged: Y}\n  env: [{name: A, value: "y"}]\n'
    patch = parse_pod_spec_patch(text).patch
    assert patch is not None
    assert patch["hostNetwork"] is True
    assert patch["containers"][0]["securityContext"]["privileged"] is True
    assert patch["containers"][0]["env"][0]["value"] == "y"
    assert parse_pod_spec_patch("hostPID: N").patch == {"hostPID": False}

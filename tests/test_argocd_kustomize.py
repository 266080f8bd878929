"""servegate.argocd_kustomize: an Application's spec.source.kustomize applied as Argo CD applies it
(argoproj/argo-cd util/kustomize/kustomize.go Build: kustomize edit, then patches appended),
rendered by the real kustomize through a shadow of the repo that never writes into it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import tree_digest

from servegate.argocd_kustomize import EditError, edit, effective, make_shadow
from servegate.render import build
from servegate.yamlsafe import load_plain

ENV = {"ARGOCD_APP_NAME": "model-prod"}


def _edit(data: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    return edit(data, settings, ENV, lambda _: True)


def test_prefix_suffix_namespace_replace_the_overlays_own() -> None:
    out = _edit(
        {"namePrefix": "a-", "namespace": "dev", "resources": ["x.yaml"]},
        {"namePrefix": "b-", "nameSuffix": "-z", "namespace": "prod"},
    )
    assert out == {
        "namePrefix": "b-",
        "namespace": "prod",
        "resources": ["x.yaml"],
        "nameSuffix": "-z",
    }


def test_images_update_the_entry_of_the_same_name_or_add_one() -> None:
    out = _edit(
        {"images": [{"name": "model", "newTag": "v1"}]},
        {
            "images": [
                "model@sha256:abc",
                "proxy=registry:5000/envoy:1.2",
                "sidecar:${ARGOCD_APP_NAME}",
            ]
        },
    )
    assert out["images"] == [
        {"name": "model", "digest": "sha256:abc"},
        {"name": "proxy", "newName": "registry:5000/envoy", "newTag": "1.2"},
        {"name": "sidecar", "newTag": "model-prod"},
    ]


def test_replicas_labels_annotations_patches_components() -> None:
    out = _edit(
        {
            "replicas": [{"name": "web", "count": 1}],
            "patches": [{"path": "p.yaml"}],
            "components": ["../c1"],
        },
        {
            "replicas": [{"name": "web", "count": "3"}, {"name": "db", "count": 2}],
            "commonLabels": {"team": "${ARGOCD_APP_NAME}"},
            "commonAnnotations": {"note": "${ARGOCD_APP_NAME}"},
            "patches": [{"target": {"kind": "Pod"}, "patch": "[]"}],
            "components": ["../c1", "../c2"],
        },
    )
    assert out["replicas"] == [{"name": "web", "count": 3}, {"name": "db", "count": 2}]
    assert out["commonLabels"] == {"team": "model-prod"}
    assert out["commonAnnotations"] == {"note": "${ARGOCD_APP_NAME}"}  # only with envsubst on
    assert out["patches"] == [{"path": "p.yaml"}, {"target": {"kind": "Pod"}, "patch": "[]"}]
    assert out["components"] == ["../c1", "../c2"]


def test_labels_without_selector_and_force() -> None:
    out = _edit({}, {"commonLabels": {"a": "1"}, "labelWithoutSelector": True})
    assert out["labels"] == [{"pairs": {"a": "1"}, "includeSelectors": False}]
    with pytest.raises(EditError):
        _edit({"commonLabels": {"a": "0"}}, {"commonLabels": {"a": "1"}})
    assert _edit(
        {"commonLabels": {"a": "0"}}, {"commonLabels": {"a": "1"}, "forceCommonLabels": True}
    )["commonLabels"] == {"a": "1"}


def test_missing_components_dropped_only_when_asked() -> None:
    settings = {"components": ["../gone"], "ignoreMissingComponents": True}
    assert "components" not in edit({}, settings, ENV, lambda _: False)
    assert edit({}, {"components": ["../gone"]}, ENV, lambda _: False)["components"] == ["../gone"]


def test_effective_settings() -> None:
    assert not effective({"version": "v5", "kubeVersion": "1.30"})
    assert effective({"patches": [{"patch": "[]"}]})


def test_shadow_render_is_argo_cds_and_writes_nothing_into_the_repo(tmp_path: Path) -> None:
    """Argo CD writes into the overlay, so its patches run before the overlay's namePrefix, which
    its own namePrefix replaces: a wrapper around the overlay would get both wrong."""
    repo = tmp_path / "repo"
    (repo / "base").mkdir(parents=True)
    (repo / "overlays/prod/patches").mkdir(parents=True)
    (repo / "base/pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: evil}\nspec:\n  containers: [{name: c, image: i}]\n"
    )
    (repo / "base/kustomization.yaml").write_text("resources: [pod.yaml]\n")
    (repo / "overlays/prod/patches/label.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: evil, labels: {tier: x}}\n"
    )
    kustomization = {
        "resources": ["../../base"],
        "namePrefix": "own-",
        "patches": [{"path": "patches/label.yaml"}],
    }
    (repo / "overlays/prod/kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    before = tree_digest(repo)
    settings = {
        "namePrefix": "argo-",
        "patches": [
            {
                "target": {"kind": "Pod", "name": "evil"},
                "patch": "- op: add\n  path: /spec/hostPID\n  value: true",
            }
        ],
    }
    data = _edit(kustomization, settings)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    shadow = make_shadow(
        repo,
        "overlays/prod",
        "kustomization.yaml",
        yaml.safe_dump(data),
        {"patches/label.yaml"},
        scratch,
    )
    output, error, _ = build(shadow.wrapper, shadow.root)
    assert error is None, error
    (pod,) = load_plain(output or "")
    assert pod["metadata"]["name"] == "argo-evil"
    assert pod["spec"]["hostPID"] is True
    assert pod["metadata"]["labels"] == {"tier": "x"}
    origin = pod["metadata"]["annotations"]["config.kubernetes.io/origin"]
    path = yaml.safe_load(origin)["path"]
    resolved = os.path.normpath(os.path.join(shadow.virtual_wrapper, path))
    assert resolved == str(repo / "base/pod.yaml")  # findings point into the repo
    assert tree_digest(repo) == before

"""servegate.origins: every finding of ``servegate check`` points at the line that set the field.

End to end, through the CLI and real kustomize: a field set by an inline patch, a JSON 6902
patch (inline or in a file), a replacement, a strategic-merge patch that replaces a list, or a
generator entry is reported there, not at the base.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

from helpers import CLI, DEPLOYMENT_HARDENED, Run, Tree

from servegate.origins import BuildOrigin, take_build_origin


def located(run: Run, rule: str) -> list[tuple[str, int, str]]:
    data: dict[str, Any] = run.json()
    return sorted(
        (f["file"], f["line"], f["resource"]["name"]) for f in data["findings"] if f["rule"] == rule
    )


def check(cli: CLI, root: Path) -> Run:
    return cli("check", root, "--format", "json", "--no-cache")


def test_inline_strategic_merge_patch_selected_by_labels(tree: Tree, cli: CLI) -> None:
    root = tree(
        {
            "base/kustomization.yaml": "resources: [deploy.yaml]\ncommonLabels: {tier: gpu}\n",
            "base/deploy.yaml": DEPLOYMENT_HARDENED,
            "overlays/eu/kustomization.yaml": """\
                namespace: ml-eu
                namePrefix: eu-
                resources: [../../base]
                patches:
                - target: {kind: Deployment, labelSelector: "tier in (gpu)"}
                  patch: |-
                    apiVersion: apps/v1
                    kind: Deployment
                    metadata: {name: any}
                    spec:
                      template:
                        spec:
                          hostNetwork: true
                """,
        }
    )
    run = check(cli, root)
    assert located(run, "pss.host-namespaces") == [
        ("overlays/eu/kustomization.yaml", 13, "eu-model")
    ]


def test_nested_overlays_and_components_each_patch_kind(tree: Tree, cli: CLI) -> None:
    """Three layers, each kind of patch where users put it: an inline JSON 6902 patch in a
    component of the middle overlay, a legacy inline strategic-merge patch in that overlay, a
    strategic-merge patch file in a component of the top overlay (which renames nothing but
    sets a namespace), and a JSON 6902 file in JSON whose ``replace`` drops a base field."""
    root = tree(
        {
            "base/kustomization.yaml": "resources: [deploy.yaml]\n",
            "base/deploy.yaml": DEPLOYMENT_HARDENED,
            "components/hostpid/kustomization.yaml": """\
                apiVersion: kustomize.config.k8s.io/v1alpha1
                kind: Component
                patches:
                - target:
                    kind: Deployment
                  patch: |-
                    - op: add
                      path: /spec/template/spec/hostPID
                      value: true
                """,
            "components/priv/kustomization.yaml": """\
                apiVersion: kustomize.config.k8s.io/v1alpha1
                kind: Component
                patches:
                - path: priv.yaml
                """,
            "components/priv/priv.yaml": """\
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: model
                spec:
                  template:
                    spec:
                      containers:
                      - name: c
                        securityContext:
                          privileged: true
                """,
            "overlays/mid/kustomization.yaml": """\
                namePrefix: mid-
                resources: [../../base]
                components: [../../components/hostpid]
                patchesStrategicMerge:
                - |-
                  apiVersion: apps/v1
                  kind: Deployment
                  metadata:
                    name: model
                  spec:
                    template:
                      spec:
                        hostIPC: true
                """,
            "overlays/top/kustomization.yaml": """\
                namespace: ml-top
                resources: [../mid]
                components: [../../components/priv]
                patches:
                - path: caps.json
                  target: {kind: Deployment, name: mid-model}
                """,
            "overlays/top/caps.json": (
                '[{"op": "replace", "path": '
                '"/spec/template/spec/containers/0/securityContext/capabilities",\n'
                '  "value": {"add": ["NET_ADMIN"]}}]\n'
            ),
        }
    )
    data: dict[str, Any] = cli(
        "check", root / "overlays/top", "--format", "json", "--no-cache"
    ).json()
    assert sorted((f["rule"], f["file"], f["line"]) for f in data["findings"]) == [
        ("pss.capabilities-restricted", "overlays/top/caps.json", 2),  # add: [NET_ADMIN]
        ("pss.capabilities-restricted", "overlays/top/caps.json", 2),  # drop removed
        ("pss.host-namespaces", "components/hostpid/kustomization.yaml", 9),
        ("pss.host-namespaces", "overlays/mid/kustomization.yaml", 13),
        ("pss.privileged", "components/priv/priv.yaml", 11),
    ]


def test_a_component_patches_and_replaces_into_an_inference_service(tree: Tree, cli: CLI) -> None:
    """A component's inline strategic-merge patch of a custom resource and its replacements
    file (``create: true``) point at their own lines, in every overlay that uses it."""
    root = tree(
        {
            "base/kustomization.yaml": "resources: [isvc.yaml, knobs.yaml]\n",
            "base/knobs.yaml": """\
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: knobs}
                data: {host: "true"}
                """,
            "base/isvc.yaml": """\
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata:
                  name: fraud
                spec:
                  predictor:
                    serviceAccountName: runner
                    securityContext:
                      runAsNonRoot: true
                      seccompProfile: {type: RuntimeDefault}
                    model:
                      modelFormat: {name: sklearn}
                      storageUri: gs://bucket/model
                      resources:
                        requests: {cpu: "1", memory: 1Gi}
                        limits: {cpu: "1", memory: 1Gi}
                      securityContext:
                        allowPrivilegeEscalation: false
                        capabilities: {drop: [ALL]}
                """,
            "components/c/kustomization.yaml": """\
                apiVersion: kustomize.config.k8s.io/v1alpha1
                kind: Component
                patches:
                - target: {group: serving.kserve.io, kind: InferenceService}
                  patch: |-
                    apiVersion: serving.kserve.io/v1beta1
                    kind: InferenceService
                    metadata: {name: whatever}
                    spec:
                      predictor:
                        model:
                          securityContext:
                            allowPrivilegeEscalation: true
                replacements:
                - path: repl.yaml
                """,
            "components/c/repl.yaml": """\
                - source: {kind: ConfigMap, name: knobs, fieldPath: data.host}
                  targets:
                  - select: {kind: InferenceService}
                    fieldPaths: [spec.predictor.hostNetwork]
                    options: {create: true}
                """,
            "overlays/a/kustomization.yaml": (
                "namespace: ml-a\nresources: [../../base]\ncomponents: [../../components/c]\n"
            ),
            "overlays/b/kustomization.yaml": (
                "namespace: ml-b\nresources: [../../base]\ncomponents: [../../components/c]\n"
            ),
        }
    )
    data: dict[str, Any] = check(cli, root).json()
    assert sorted(
        (f["rule"], f["file"], f["line"], f["resource"]["namespace"])
        for f in data["findings"]
        if f["rule"].startswith("pss.")
    ) == [
        ("pss.allow-privilege-escalation", "components/c/kustomization.yaml", 13, "ml-a"),
        ("pss.allow-privilege-escalation", "components/c/kustomization.yaml", 13, "ml-b"),
        ("pss.host-namespaces", "components/c/repl.yaml", 4, "ml-a"),
        ("pss.host-namespaces", "components/c/repl.yaml", 4, "ml-b"),
    ]


def test_json6902_in_a_file_and_a_replacement(tree: Tree, cli: CLI) -> None:
    root = tree(
        {
            "base/kustomization.yaml": "resources: [deploy.yaml]\n",
            "base/deploy.yaml": DEPLOYMENT_HARDENED,
            "overlays/a/kustomization.yaml": """\
                namespace: ml-a
                resources: [../../base]
                patchesJson6902:
                - target: {group: apps, version: v1, kind: Deployment, name: model}
                  path: privileged.yaml
                """,
            "overlays/a/privileged.yaml": """\
                - op: add
                  path: /spec/template/spec/containers/0/securityContext/privileged
                  value: true
                """,
            "overlays/b/kustomization.yaml": """\
                namespace: ml-b
                resources: [../../base]
                replacements:
                - sourceValue: "true"
                  targets:
                  - select: {kind: Deployment}
                    fieldPaths: [spec.template.spec.hostPID]
                    options: {create: true}
                """,
        }
    )
    run = check(cli, root)
    assert located(run, "pss.privileged") == [("overlays/a/privileged.yaml", 3, "model")]
    assert located(run, "pss.host-namespaces") == [("overlays/b/kustomization.yaml", 7, "model")]


def test_a_field_a_patch_removed_points_at_the_patch(tree: Tree, cli: CLI) -> None:
    root = tree(
        {
            "base/kustomization.yaml": "resources: [deploy.yaml]\n",
            "base/deploy.yaml": DEPLOYMENT_HARDENED,
            "overlays/a/kustomization.yaml": """\
                namespace: ml-a
                resources: [../../base]
                patches:
                - target: {kind: Deployment}
                  patch: |-
                    - op: remove
                      path: /spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation
                """,
        }
    )
    run = check(cli, root)
    assert located(run, "pss.allow-privilege-escalation") == [
        ("overlays/a/kustomization.yaml", 7, "model")
    ]


def test_a_generated_secret_points_at_its_generator_entry(tree: Tree, cli: CLI) -> None:
    root = tree(
        {
            "base/kustomization.yaml": """\
                resources: [cm.yaml]
                secretGenerator:
                - name: creds
                  literals:
                  - username=admin
                  - password=hunter2
                """,
            "base/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n",
            "overlays/a/kustomization.yaml": "namePrefix: a-\nresources: [../../base]\n",
        }
    )
    run = check(cli, root)
    findings = [f for f in run.json()["findings"] if f["rule"] == "repo.committed-secret"]
    assert findings
    assert {(f["file"], f["line"]) for f in findings} <= {
        ("base/kustomization.yaml", line) for line in (3, 5, 6)
    }


def test_build_origin_of_files_and_generators() -> None:
    body: dict[str, Any] = {
        "metadata": {
            "name": "x",
            "annotations": {"config.kubernetes.io/origin": "path: ../../base/deploy.yaml\n"},
        }
    }
    assert take_build_origin(body) == BuildOrigin(path="../../base/deploy.yaml")
    assert "annotations" not in body["metadata"]
    generated: dict[str, Any] = {
        "metadata": {
            "annotations": {
                "config.kubernetes.io/origin": (
                    "configuredIn: ../k/kustomization.yaml\nconfiguredBy:\n"
                    "  apiVersion: builtin\n  kind: SecretGenerator\n"
                ),
                "keep": "me",
            }
        }
    }
    assert take_build_origin(generated) == BuildOrigin(
        None, "../k/kustomization.yaml", "SecretGenerator"
    )
    assert generated["metadata"]["annotations"] == {"keep": "me"}


def test_origin_file_by_string_equals_relpath() -> None:
    from servegate.origins import _relative

    rng = random.Random(5)
    parts = ["r", "repo", "a", "..", "b.yaml", "repo2"]
    roots = [Path("/r/repo"), Path("/"), Path("/r/repo/a"), Path("rel/repo")]
    for _ in range(2000):
        absolute = os.path.normpath("/" + "/".join(rng.choice(parts) for _ in range(5)))
        for root in roots:
            expected = Path(os.path.relpath(absolute, root)).as_posix()
            assert _relative(absolute, root) == expected, (absolute, root)

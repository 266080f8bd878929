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

from helpers import CLI as Cli
from helpers import DEPLOYMENT_HARDENED, Run, Tree

from servegate.origins import BuildOrigin, take_build_origin


HARDENED = DEPLOYMENT_HARDENED


def located(run: Run, rule: str) -> list[tuple[str, int, str]]:
    data: dict[str, Any] = run.json()
    return sorted(
        (f["file"], f["line"], f["resource"]["name"]) for f in data["findings"] if f["rule"] == rule
    )


def check(cli: Cli, root: Path) -> Run:
    return cli("check", root, "--format", "json", "--no-cache")


def test_inline_strategic_merge_patch_selected_by_labels(tree: Tree, cli: Cli) -> None:
    root = tree(
        {
            "base/kustomization.yaml": "resources: [deploy.yaml]\ncommonLabels: {tier: gpu}\n",
            "base/deploy.yaml": HARDENED,
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


def test_json6902_in_a_file_and_a_replacement(tree: Tree, cli: Cli) -> None:
    root = tree(
        {
            "base/kustomization.yaml": "resources: [deploy.yaml]\n",
            "base/deploy.yaml": HARDENED,
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


def test_a_field_a_patch_removed_points_at_the_patch(tree: Tree, cli: Cli) -> None:
    root = tree(
        {
            "base/kustomization.yaml": "resources: [deploy.yaml]\n",
            "base/deploy.yaml": HARDENED,
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


def test_a_generated_secret_points_at_its_generator_entry(tree: Tree, cli: Cli) -> None:
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

"""The objects a document stands for (servegate.objects): lists unwrapped as kubectl and Argo CD
unwrap them, Argo Workflows resource manifests taken out, each located at its own line."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from helpers import Run

from servegate.objects import resources
from servegate.resource import Origin
from servegate.yamlsafe import load_text

LISTS = """\
apiVersion: v1
kind: Whatever
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: a}
- apiVersion: v1
  kind: List
  items:
  - apiVersion: v1
    kind: Secret
    metadata: {name: deep}
- not an object
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: b}
  items: []
"""


def load(text: str) -> list[tuple[str, str, int]]:
    """(kind, name, line of the object's name) of every resource the text stands for."""
    [document] = load_text(textwrap.dedent(text)).documents
    return [
        (r.kind, r.name, r.locate(("metadata", "name"))[1])
        for r in resources(document.data, Origin("f.yaml", document))
    ]


def test_any_object_with_an_items_list_is_unwrapped_nested_too() -> None:
    # an object holding an empty items list is a list of nothing: kubectl applies nothing
    assert load(LISTS) == [("ConfigMap", "a", 6), ("Secret", "deep", 12)]


def test_items_without_kind_take_the_lists_as_kubectl_decodes_them() -> None:
    text = """\
    apiVersion: v1
    kind: PodList
    items:
    - metadata: {name: p}
      spec: {containers: [{name: c, image: x}]}
    - kind: Pod
      metadata: {name: no-api-version}
    """
    assert load(text) == [("Pod", "p", 4)]
    bare = "kind: List\nitems:\n- {metadata: {name: n}}\n"
    assert load(bare) == []  # "List" less its suffix is no kind


def test_items_null_or_not_a_list_is_an_ordinary_object() -> None:
    assert load("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nitems: null\n") == [
        ("ConfigMap", "c", 3)
    ]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_agrees_with_kubectl_on_what_a_list_holds(tmp_path: Path) -> None:
    """kubectl (cli-runtime's FlattenListVisitor) as the oracle, on the lists it accepts."""
    cases = [
        LISTS.replace("- not an object\n", "").split("- apiVersion: v1\n  kind: List")[0],
        "apiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: p}\n  spec: {containers: []}\n",
        "kind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}\n",
        "apiVersion: v1\nkind: ConfigMapList\nitems: []\n",
    ]
    for text in cases:
        (tmp_path / "l.yaml").write_text(text)
        done = subprocess.run(
            ["kubectl", "annotate", "--local", "-f", str(tmp_path / "l.yaml"), "x=y", "-o", "name"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        theirs = [line.split("/", 1) for line in done.stdout.split()]
        ours = [[kind.lower(), name] for kind, name, _ in load(text)]
        assert ours == theirs, text


WORKFLOW = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: w}
spec:
  templates:
  - name: make
    resource:
      action: create
      manifest: |
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: one}
        ---
        apiVersion: v1
        kind: List
        items:
        - {apiVersion: v1, kind: Pod, metadata: {name: two}, spec: {containers: []}}
  - name: steps
    steps:
    - - name: inline
        inline:
          resource:
            action: apply
            manifest: '{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "three"}}'
  - name: gone
    resource:
      action: delete
      manifest: '{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "not-created"}}'
  - name: broken
    resource:
      action: create
      manifest: "{{inputs.parameters.m}}"
"""


def test_resource_manifests_are_resources_located_at_the_manifest() -> None:
    assert load(WORKFLOW) == [
        ("Workflow", "w", 3),
        ("ConfigMap", "one", 9),
        ("Pod", "two", 9),
        ("Secret", "three", 24),
    ]


def test_a_literal_manifest_locates_each_field_at_its_own_line() -> None:
    """A finding inside a ``manifest: |`` block is at its own line (the block's lines are the
    file's); a folded or quoted manifest, or several documents, keep the manifest's line."""
    text = textwrap.dedent(
        """\
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {name: w}
        spec:
          templates:
          - name: make
            resource:
              action: create
              manifest: |  # a comment after the indicator

                apiVersion: v1
                kind: Pod
                metadata: {name: p}
                spec:
                  hostPID: true
          - name: folded
            resource:
              action: create
              manifest: >
                {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "q"}, "spec": {"hostPID": true}}
        """
    )
    [document] = load_text(text).documents
    workflow, pod, folded = resources(document.data, Origin("wf.yaml", document))
    assert (pod.name, pod.origin.locate(("spec", "hostPID"))) == ("p", ("wf.yaml", 15))
    assert pod.origin.locate(("metadata", "name")) == ("wf.yaml", 13)
    assert (folded.name, folded.origin.locate(("spec", "hostPID"))) == ("q", ("wf.yaml", 19))
    assert workflow.origin.locate(("spec", "templates", 0, "name")) == ("wf.yaml", 6)


def test_what_a_literal_pod_spec_patch_sets_is_located_at_its_line(
    tree: Callable[[Mapping[str, str]], Path], cli: Callable[..., Run]
) -> None:
    workflow = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: w, namespace: ml}
spec:
  podSpecPatch: |
    hostNetwork: true
    hostPID: yes
  templates:
  - name: t
    podSpecPatch: '{"hostIPC": true}'
    container: {image: 'busybox:1.36'}
"""
    run = cli(
        "check", tree({"wf.yaml": workflow}), "--format", "json", "--select", "pss.host-namespaces"
    )
    assert run.code == 1, run.err
    lines = {(f["line"], f["message"].split("): ", 1)[1]) for f in run.json()["findings"]}
    # a literal block's fields at their own lines, a quoted patch at its key's
    assert lines == {
        (6, "hostNetwork: true is not allowed"),
        (7, "hostPID: true is not allowed"),
        (10, "hostIPC: true is not allowed"),
    }


def test_embedding_is_bounded() -> None:
    inner = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bottom}\n"
    for n in range(8):
        manifest = textwrap.indent(inner, " " * 8)
        inner = (
            f"apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {{name: w{n}}}\n"
            f"spec:\n  templates:\n  - name: t\n    resource:\n      action: create\n"
            f"      manifest: |\n{manifest}"
        )
    names = [name for _, name, _ in load(inner)]
    assert names == ["w7", "w6", "w5", "w4", "w3"]


def test_check_judges_list_items_and_manifests_end_to_end(
    tree: Callable[[Mapping[str, str]], Path], cli: Callable[..., Run]
) -> None:
    privileged = "{name: c, image: 'busybox:1.36', securityContext: {privileged: true}}"
    root = tree(
        {
            "list.yaml": f"""\
            apiVersion: v1
            kind: DeploymentList
            items:
            - metadata: {{name: d, namespace: ml}}
              spec:
                selector: {{matchLabels: {{app: d}}}}
                template:
                  metadata: {{labels: {{app: d}}}}
                  spec:
                    containers: [{privileged}]
            """,
            "wf.yaml": WORKFLOW.replace(
                "spec: {containers: []}", f"spec: {{containers: [{privileged}]}}"
            ),
        }
    )
    run = cli("check", root, "--format", "json", "--select", "pss.privileged,pods.unreadable-spec")
    assert run.code == 1, run.err
    found = {
        (f["rule"], f["file"], f["line"], f["resource"]["name"]) for f in run.json()["findings"]
    }
    assert found == {
        ("pss.privileged", "list.yaml", 10, "d"),
        ("pss.privileged", "wf.yaml", 9, "two"),
        ("pods.unreadable-spec", "wf.yaml", 32, "w"),
    }

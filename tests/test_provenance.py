"""servegate.provenance: the build replayed with locations, checked against real kustomize.

Each scenario is a small repo rendered by the real ``kubectl kustomize``; the replay of one
object must produce exactly what kustomize produced (so every transformation is modelled as
kustomize applies it), and a field's location must be the line that wrote it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import CLI, Tree

from servegate.discover import discover
from servegate.provenance import Trace, Tracer
from servegate.provenance.select import ResId, Selector, label_selector_matches
from servegate.provenance.tree import Loc, plain
from servegate.render import kubectl_path
from servegate.sources import SourceFiles

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: model
  labels: {app: model}
spec:
  selector: {matchLabels: {app: model}}
  template:
    metadata: {labels: {app: model}}
    spec:
      securityContext:
        runAsNonRoot: true
      containers:
      - name: a
        image: registry.example.com/a:1
        ports:
        - {containerPort: 8080, protocol: TCP}
        securityContext:
          allowPrivilegeEscalation: false
      - name: b
        image: registry.example.com/b:1
        args: [--one, --two]
"""

ISVC = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: fraud
spec:
  predictor:
    containers:
    - name: kserve-container
      image: registry.example.com/fraud:1
      securityContext:
        allowPrivilegeEscalation: false
"""


def with_base(tree: Tree, files: Mapping[str, str | bytes]) -> Path:
    """A repo of ``files`` and ``base/`` holding DEPLOY."""
    return tree(
        {
            "base/kustomization.yaml": "resources: [deploy.yaml]\n",
            "base/deploy.yaml": DEPLOY,
            **files,
        }
    )


class Replayed:
    def __init__(self, body: dict[str, Any], trace: Trace, tracer: Tracer, doc: Any) -> None:
        self.body = body
        self.trace = trace
        self.tracer = tracer
        self.doc = doc

    def at(self, dotted: str) -> Loc | None:
        return self.trace.locate(_path(dotted))


def _path(dotted: str) -> tuple[str | int, ...]:
    out: list[str | int] = []
    for part in dotted.split("."):
        name, _, index = part.partition("[")
        if name:
            out.append(name)
        if index:
            out.append(int(index.rstrip("]")))
    return tuple(out)


def kustomize(root: Path, overlay: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        [kubectl_path(), "kustomize", str(root / overlay)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def replay(root: Path, overlay: str, file: str, kind: str, name: str) -> Replayed:
    """Render ``overlay`` with kustomize, replay object ``kind``/``name`` (read from ``file``)
    and check that the replay produced what kustomize produced."""
    bodies = kustomize(root, overlay)
    body = next(b for b in bodies if b["kind"] == kind and b["metadata"]["name"] == name)
    discovery = discover([root])
    sources = SourceFiles(root)
    tracer = Tracer(root, discovery.kustomizations, sources, overlay)
    doc = next(
        d
        for d in sources.load(file).documents
        if isinstance(d.data, dict) and d.data["kind"] == kind
    )
    node = tracer.replay(body, file, doc, ())
    assert node is not None, "the replay found no way to the rendered object"
    assert plain(node) == body
    return Replayed(body, tracer.trace(body, file, doc, ()), tracer, doc)


def test_strategic_merge_of_a_core_kind_merges_by_key_and_puts_the_patch_first(tree: Tree) -> None:
    root = with_base(
        tree,
        {
            "prod/kustomization.yaml": "resources: [../base]\npatches:\n- path: patch.yaml\n",
            "prod/patch.yaml": """\
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: model}
                spec:
                  template:
                    spec:
                      containers:
                      - name: b
                        securityContext:
                          privileged: true
                        args: [--three]
                      - name: c
                        image: registry.example.com/c:1
                        ports:
                        - {containerPort: 9090}
                """,
        },
    )
    r = replay(root, "prod", "base/deploy.yaml", "Deployment", "model")
    names = [c["name"] for c in r.body["spec"]["template"]["spec"]["containers"]]
    assert names == ["b", "c", "a"]  # kyaml merge2 with ListIncreaseDirection prepend
    assert r.at("spec.template.spec.containers[0].securityContext.privileged") == (
        "prod/patch.yaml",
        10,
    )
    # a list without a merge strategy (args) is replaced whole by the patch's
    assert r.at("spec.template.spec.containers[0].args") == ("prod/patch.yaml", 11)
    assert r.at("spec.template.spec.containers[0].image") == ("base/deploy.yaml", 21)
    assert r.at("spec.template.spec.containers[1]") == ("prod/patch.yaml", 12)
    assert r.at("spec.template.spec.containers[2].securityContext.runAsNonRoot") == (
        "base/deploy.yaml",
        18,
    )
    # a field missing under a container the patch added is the patch's to fix
    assert r.at("spec.template.spec.containers[1].securityContext.runAsNonRoot") == (
        "prod/patch.yaml",
        12,
    )


def test_strategic_merge_directives_and_nulls_remove_at_the_patch(tree: Tree) -> None:
    root = with_base(
        tree,
        {
            "prod/kustomization.yaml": """\
                resources: [../base]
                patches:
                - patch: |-
                    apiVersion: apps/v1
                    kind: Deployment
                    metadata: {name: model}
                    spec:
                      template:
                        spec:
                          securityContext: null
                          containers:
                          - name: a
                            securityContext:
                              $patch: replace
                              runAsUser: 0
                          - name: b
                            $patch: delete
                """,
        },
    )
    r = replay(root, "prod", "base/deploy.yaml", "Deployment", "model")
    assert [c["name"] for c in r.body["spec"]["template"]["spec"]["containers"]] == ["a"]
    # removed by `securityContext: null` at line 10 of the kustomization
    assert r.at("spec.template.spec.securityContext.runAsNonRoot") == (
        "prod/kustomization.yaml",
        10,
    )
    # replaced whole by `$patch: replace`: what it lacks is the patch's
    assert r.at("spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation") == (
        "prod/kustomization.yaml",
        13,
    )
    assert r.at("spec.template.spec.containers[0].securityContext.runAsUser") == (
        "prod/kustomization.yaml",
        15,
    )


def test_a_custom_resource_list_is_replaced_whole(tree: Tree) -> None:
    root = tree(
        {
            "base/kustomization.yaml": "resources: [isvc.yaml]\n",
            "base/isvc.yaml": ISVC,
            "prod/kustomization.yaml": "resources: [../base]\npatches:\n- path: resources.yaml\n",
            "prod/resources.yaml": """\
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: fraud}
                spec:
                  predictor:
                    containers:
                    - name: kserve-container
                      resources: {limits: {cpu: "1"}}
                """,
        }
    )
    r = replay(root, "prod", "base/isvc.yaml", "InferenceService", "fraud")
    assert "image" not in r.body["spec"]["predictor"]["containers"][0]
    assert r.at("spec.predictor.containers[0].securityContext.allowPrivilegeEscalation") == (
        "prod/resources.yaml",
        7,
    )
    assert r.at("spec.predictor.containers[0].image") == ("prod/resources.yaml", 7)


def test_list_directive_replace_in_a_merged_list(tree: Tree) -> None:
    root = with_base(
        tree,
        {
            "prod/kustomization.yaml": "resources: [../base]\npatchesStrategicMerge:\n- patch.yaml\n",
            "prod/patch.yaml": """\
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: model}
                spec:
                  template:
                    spec:
                      containers:
                      - $patch: replace
                      - name: only
                        image: registry.example.com/only:1
                """,
        },
    )
    r = replay(root, "prod", "base/deploy.yaml", "Deployment", "model")
    assert [c["name"] for c in r.body["spec"]["template"]["spec"]["containers"]] == ["only"]
    assert r.at("spec.template.spec.containers[0].securityContext") == ("prod/patch.yaml", 9)


def test_ports_merge_on_container_port_and_protocol(tree: Tree) -> None:
    root = with_base(
        tree,
        {
            "prod/kustomization.yaml": "resources: [../base]\npatches:\n- path: patch.yaml\n",
            "prod/patch.yaml": """\
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: model}
                spec:
                  template:
                    spec:
                      containers:
                      - name: a
                        ports:
                        - {containerPort: 8080, protocol: TCP, hostPort: 80}
                        - {containerPort: 8080, protocol: UDP}
                """,
        },
    )
    r = replay(root, "prod", "base/deploy.yaml", "Deployment", "model")
    # several merge keys: the original's elements are re-appended after the patch's new ones
    ports = r.body["spec"]["template"]["spec"]["containers"][0]["ports"]
    assert [p["protocol"] for p in ports] == ["UDP", "TCP"]
    assert r.at("spec.template.spec.containers[0].ports[1].hostPort") == ("prod/patch.yaml", 10)
    assert r.at("spec.template.spec.containers[0].ports[1]") == ("base/deploy.yaml", 17)


def test_json6902_operations_inline_in_a_file_and_legacy(tree: Tree) -> None:
    root = with_base(
        tree,
        {
            "prod/kustomization.yaml": """\
                resources: [../base]
                patches:
                - target: {kind: Deployment, name: model}
                  patch: |-
                    - op: add
                      path: /spec/template/spec/containers/-
                      value:
                        name: debug
                        image: busybox
                        securityContext: {privileged: true}
                    - op: add
                      path: /metadata/annotations
                      value: {}
                    - op: add
                      path: /metadata/annotations/example.com~1team
                      value: ml
                    - op: remove
                      path: /spec/template/spec/containers/0/securityContext
                - path: ops.yaml
                  target: {group: apps, version: v1, kind: Deployment}
                patchesJson6902:
                - target: {group: apps, version: v1, kind: Deployment, name: model}
                  path: legacy.json
                """,
            "prod/ops.yaml": """\
                - op: replace
                  path: /spec/template/spec/containers/1/args
                  value: [--three]
                - op: copy
                  from: /spec/template/spec/containers/0/image
                  path: /spec/template/spec/containers/1/image
                - op: test
                  path: /metadata/name
                  value: model
                """,
            "prod/legacy.json": '[{"op": "move", "from": "/spec/template/spec/securityContext",\n'
            '  "path": "/spec/template/metadata/securityContext"},\n'
            ' {"op": "add", "path": "/spec/template/spec/hostNetwork", "value": true}]\n',
        },
    )
    r = replay(root, "prod", "base/deploy.yaml", "Deployment", "model")
    assert r.at("spec.template.spec.containers[2].securityContext.privileged") == (
        "prod/kustomization.yaml",
        10,
    )
    assert r.trace.locate(("metadata", "annotations", "example.com/team")) == (
        "prod/kustomization.yaml",
        16,
    )
    # removed by the `remove` operation: its path line
    assert r.at("spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation") == (
        "prod/kustomization.yaml",
        18,
    )
    assert r.at("spec.template.spec.containers[1].args") == ("prod/ops.yaml", 3)
    assert r.at("spec.template.spec.containers[1].image") == ("prod/ops.yaml", 6)
    assert r.at("spec.template.spec.hostNetwork") == ("prod/legacy.json", 3)
    assert r.at("spec.template.spec.securityContext.runAsNonRoot") == ("prod/legacy.json", 2)


def test_replacements_inline_and_in_a_file(tree: Tree) -> None:
    root = tree(
        {
            "base/kustomization.yaml": "resources: [deploy.yaml, config.yaml]\n",
            "base/deploy.yaml": DEPLOY,
            "base/config.yaml": """\
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: settings}
                data: {image: registry.example.com/z:9, user: "0", flag: "true"}
                """,
            "prod/kustomization.yaml": """\
                resources: [../base]
                replacements:
                - source: {kind: ConfigMap, name: settings, fieldPath: data.image}
                  targets:
                  - select: {kind: Deployment}
                    reject: [{name: other}]
                    fieldPaths:
                    - spec.template.spec.containers.[name=b].image
                - path: repl.yaml
                """,
            "prod/repl.yaml": """\
                - source: {kind: ConfigMap, name: settings, fieldPath: data.flag}
                  targets:
                  - select: {kind: Deployment, labelSelector: app=model}
                    fieldPaths: [spec.template.spec.hostNetwork]
                    options: {create: true}
                - source: {kind: ConfigMap, name: settings, fieldPath: data.user}
                  targets:
                  - select: {kind: Deployment, name: mod.*}
                    fieldPaths: ["spec.template.spec.containers.*.securityContext.runAsUser"]
                    options: {create: true}
                """,
        }
    )
    r = replay(root, "prod", "base/deploy.yaml", "Deployment", "model")
    assert r.at("spec.template.spec.containers[1].image") == ("prod/kustomization.yaml", 8)
    assert r.at("spec.template.spec.hostNetwork") == ("prod/repl.yaml", 4)
    assert r.at("spec.template.spec.containers[1].securityContext.runAsUser") == (
        "prod/repl.yaml",
        9,
    )


def test_targets_by_original_or_current_name_across_layers_with_prefixes(tree: Tree) -> None:
    root = tree(
        {
            "base/kustomization.yaml": "namePrefix: base-\nresources: [deploy.yaml]\n",
            "base/deploy.yaml": DEPLOY,
            "mid/kustomization.yaml": """\
                namespace: ml
                namePrefix: mid-
                resources: [../base]
                patches:
                - path: by-current-name.yaml
                """,
            "mid/by-current-name.yaml": """\
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: base-model}
                spec: {template: {spec: {hostIPC: true}}}
                """,
            "prod/kustomization.yaml": """\
                nameSuffix: -v2
                resources: [../mid]
                patches:
                - target: {kind: Deployment, name: model, namespace: ml}
                  patch: |-
                    - {op: add, path: /spec/template/spec/hostPID, value: true}
                - path: by-original-id.yaml
                - target: {kind: Deployment, name: base-model}
                  patch: |-
                    - {op: add, path: /spec/template/spec/hostUsers, value: false}
                """,
            "prod/by-original-id.yaml": """\
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: model}
                spec: {template: {spec: {hostNetwork: true}}}
                """,
        }
    )
    r = replay(root, "prod", "base/deploy.yaml", "Deployment", "mid-base-model-v2")
    assert r.at("spec.template.spec.hostIPC") == ("mid/by-current-name.yaml", 4)
    assert r.at("spec.template.spec.hostPID") == ("prod/kustomization.yaml", 6)
    assert r.at("spec.template.spec.hostNetwork") == ("prod/by-original-id.yaml", 4)
    # the intermediate name `base-model` is neither the original nor the current one
    assert "hostUsers" not in r.body["spec"]["template"]["spec"]
    assert r.at("metadata.namespace") == ("mid/kustomization.yaml", 1)


def test_components_apply_in_order_to_what_is_accumulated(tree: Tree) -> None:
    root = with_base(
        tree,
        {
            "debug/kustomization.yaml": """\
                apiVersion: kustomize.config.k8s.io/v1alpha1
                kind: Component
                patches:
                - target: {kind: Deployment}
                  patch: |-
                    - {op: add, path: /spec/template/spec/hostPID, value: true}
                """,
            "harden/kustomization.yaml": """\
                apiVersion: kustomize.config.k8s.io/v1alpha1
                kind: Component
                patches:
                - target: {kind: Deployment}
                  patch: |-
                    - {op: replace, path: /spec/template/spec/hostPID, value: false}
                """,
            "prod/kustomization.yaml": "resources: [../base]\ncomponents: [../debug, ../harden]\n",
        },
    )
    r = replay(root, "prod", "base/deploy.yaml", "Deployment", "model")
    assert r.body["spec"]["template"]["spec"]["hostPID"] is False
    assert r.at("spec.template.spec.hostPID") == ("harden/kustomization.yaml", 6)


def test_images_labels_annotations_and_transformer_configs(tree: Tree) -> None:
    root = with_base(
        tree,
        {
            "prod/kustomization.yaml": """\
                resources: [../base]
                images:
                - name: registry.example.com/a
                  newTag: latest
                commonAnnotations:
                  container.apparmor.security.beta.kubernetes.io/a: unconfined
                transformers:
                - patch-transformer.yaml
                """,
            "prod/patch-transformer.yaml": """\
                apiVersion: builtin
                kind: PatchTransformer
                metadata: {name: privileged}
                target: {kind: Deployment}
                patch: |-
                  - op: add
                    path: /spec/template/spec/containers/1/securityContext
                    value: {privileged: true}
                """,
        },
    )
    r = replay(root, "prod", "base/deploy.yaml", "Deployment", "model")
    assert r.at("spec.template.spec.containers[0].image") == ("prod/kustomization.yaml", 4)
    key = "container.apparmor.security.beta.kubernetes.io/a"
    assert r.trace.locate(("spec", "template", "metadata", "annotations", key)) == (
        "prod/kustomization.yaml",
        6,
    )
    assert r.at("spec.template.spec.containers[1].securityContext.privileged") == (
        "prod/patch-transformer.yaml",
        8,
    )


def test_an_unmodelled_change_gives_no_location_rather_than_a_wrong_one(tree: Tree) -> None:
    root = with_base(
        tree,
        {
            "prod/kustomization.yaml": """\
                resources: [../base]
                replicas: [{name: model, count: 3}]
                """,
        },
    )
    bodies = kustomize(root, "prod")
    discovery = discover([root])
    sources = SourceFiles(root)
    tracer = Tracer(root, discovery.kustomizations, sources, "prod")
    [doc] = sources.load("base/deploy.yaml").documents
    trace = tracer.trace(bodies[0], "base/deploy.yaml", doc, ())
    assert trace.locate(("spec", "replicas")) is None  # replicas: not replayed
    assert trace.locate(("spec", "template", "spec", "hostNetwork")) == ("base/deploy.yaml", 10)


def test_label_selectors_as_apimachinery_parses_them() -> None:
    labels = {"app": "model", "tier": "gpu", "n": "5"}
    assert label_selector_matches("", labels)
    assert label_selector_matches("app=model,tier", labels)
    assert label_selector_matches("app==model, !missing", labels)
    assert label_selector_matches("tier in (cpu, gpu),app notin (x)", labels)
    assert label_selector_matches("missing!=x", labels)
    assert label_selector_matches("n>4,n<6", labels)
    assert not label_selector_matches("tier notin (gpu)", labels)
    assert not label_selector_matches("app=other", labels)
    assert not label_selector_matches("app in (", labels)  # kustomize refuses it
    assert not label_selector_matches("!app", labels)


def test_selector_names_are_anchored_regular_expressions() -> None:
    base = ResId("apps", "v1", "Deployment", "model", "")
    renamed = ResId("apps", "v1", "Deployment", "prod-model", "ml")
    assert Selector(name="model").selects(base, renamed, {}, {})
    assert Selector(name="prod-.*", namespace="ml").selects(base, renamed, {}, {})
    assert not Selector(name="ode").selects(base, renamed, {}, {})
    assert Selector(namespace="default").selects(base, base, {}, {})
    assert not Selector(kind="Deploy").selects(base, renamed, {}, {})
    assert not Selector(name="[").selects(base, renamed, {}, {})


@pytest.mark.parametrize(
    ("style", "line"),
    [("|", 6), ("|-", 6), ("|2", 6)],
)
def test_inline_literal_blocks_map_to_their_file_lines(tree: Tree, style: str, line: int) -> None:
    root = with_base(
        tree,
        {
            "prod/kustomization.yaml": (
                "resources: [../base]\npatches:\n- target: {kind: Deployment}\n"
                f"  patch: {style}\n"
                "    - op: add\n      path: /spec/template/spec/hostNetwork\n      value: true\n"
            ),
        },
    )
    r = replay(root, "prod", "base/deploy.yaml", "Deployment", "model")
    assert r.at("spec.template.spec.hostNetwork") == ("prod/kustomization.yaml", line + 1)


def test_a_quoted_inline_patch_points_at_its_line(tree: Tree) -> None:
    root = with_base(
        tree,
        {
            "prod/kustomization.yaml": (
                "resources: [../base]\npatches:\n- target: {kind: Deployment}\n"
                '  patch: \'[{"op": "add", "path": "/spec/template/spec/hostPID", "value": true}]\'\n'
            ),
        },
    )
    r = replay(root, "prod", "base/deploy.yaml", "Deployment", "model")
    assert r.at("spec.template.spec.hostPID") == ("prod/kustomization.yaml", 4)


def test_a_patch_allowed_to_rename_and_a_base_reached_twice(tree: Tree) -> None:
    root = with_base(
        tree,
        {
            "blue/kustomization.yaml": "namePrefix: blue-\nresources: [../base]\n",
            "green/kustomization.yaml": """\
                namePrefix: green-
                resources: [../base]
                patches:
                - target: {kind: Deployment}
                  patch: |-
                    - {op: add, path: /spec/template/spec/hostIPC, value: true}
                """,
            "prod/kustomization.yaml": """\
                resources: [../blue, ../green]
                patches:
                - options: {allowNameChange: true}
                  patch: |-
                    apiVersion: apps/v1
                    kind: Deployment
                    metadata: {name: blue-model}
                    spec: {template: {spec: {hostPID: true}}}
                    ---
                    apiVersion: apps/v1
                    kind: Deployment
                    metadata: {name: green-model}
                    spec: {template: {spec: {hostNetwork: true}}}
                - options: {allowNameChange: true}
                  patch: |-
                    apiVersion: apps/v1
                    kind: Deployment
                    metadata: {name: blue-model}
                    $patch: merge
                """,
        },
    )
    blue = replay(root, "prod", "base/deploy.yaml", "Deployment", "blue-model")
    green = replay(root, "prod", "base/deploy.yaml", "Deployment", "green-model")
    assert blue.at("spec.template.spec.hostPID") == ("prod/kustomization.yaml", 8)
    assert green.at("spec.template.spec.hostIPC") == ("green/kustomization.yaml", 6)
    assert green.at("spec.template.spec.hostNetwork") == ("prod/kustomization.yaml", 13)


def test_removed_names_the_patch_that_removed_a_field_only(tree: Tree) -> None:
    root = with_base(
        tree,
        {
            "prod/kustomization.yaml": """\
                resources: [../base]
                patches:
                - target: {kind: Deployment, name: model}
                  patch: |-
                    - op: remove
                      path: /spec/template/spec/securityContext/runAsNonRoot
                """,
        },
    )
    r = replay(root, "prod", "base/deploy.yaml", "Deployment", "model")
    assert r.trace.removed(_path("spec.template.spec.securityContext.runAsNonRoot")) == (
        "prod/kustomization.yaml",
        6,  # the operation's path
    )
    # a field that is there, or that no patch removed, was removed by nobody
    assert r.trace.removed(_path("spec.template.spec.securityContext")) is None
    unset = _path("spec.template.spec.containers[0].securityContext.runAsUser")
    assert r.trace.removed(unset) is None


SECCOMP_DEPLOY = DEPLOY.replace(
    "        runAsNonRoot: true\n",
    "        runAsNonRoot: true\n        seccompProfile: {type: RuntimeDefault}\n",
).replace(
    "          allowPrivilegeEscalation: false\n",
    "          allowPrivilegeEscalation: false\n          capabilities: {drop: [ALL]}\n",
)


@pytest.mark.parametrize(
    ("patch", "line", "rules"),
    [
        (  # JSON 6902 remove
            "- target: {kind: Deployment, name: model}\n  patch: |-\n    - op: remove\n"
            "      path: /spec/template/spec/securityContext/runAsNonRoot\n",
            6,
            {"pss.run-as-non-root"},
        ),
        (  # strategic merge $patch: delete of the whole pod securityContext
            "- patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata: {name: model}\n"
            "    spec:\n      template:\n        spec:\n          securityContext:\n"
            "            $patch: delete\n",
            10,
            {"pss.run-as-non-root", "pss.seccomp-restricted"},
        ),
        (  # strategic merge null
            "- patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata: {name: model}\n"
            "    spec:\n      template:\n        spec:\n          securityContext:\n"
            "            seccompProfile: null\n",
            11,
            {"pss.seccomp-restricted"},
        ),
    ],
)
def test_a_pod_or_container_violation_points_at_the_patch_that_removed_the_pod_field(
    cli: CLI, tree: Tree, patch: str, line: int, rules: set[str]
) -> None:
    """PSA's runAsNonRoot and seccompProfile may be set on the pod or the container: when a
    patch removed the pod's, the finding (reported on the container, which lacks it too) is
    the patch's to fix, not the base container's."""
    root = tree(
        {
            "base/kustomization.yaml": "resources: [deploy.yaml]\n",
            "base/deploy.yaml": SECCOMP_DEPLOY.replace(
                "        args: [--one, --two]\n",
                "        args: [--one, --two]\n        securityContext:\n"
                "          allowPrivilegeEscalation: false\n          capabilities: {drop: [ALL]}\n"
                "          runAsNonRoot: true\n          seccompProfile: {type: RuntimeDefault}\n",
            ),
            "prod/kustomization.yaml": "resources: [../base]\npatches:\n" + patch,
        }
    )
    found = [
        f
        for f in cli("check", root, "--format", "json").json()["findings"]
        if f["rule"] in {"pss.run-as-non-root", "pss.seccomp-restricted"}
    ]
    assert {f["rule"] for f in found} == rules
    assert {(f["file"], f["line"]) for f in found} == {("prod/kustomization.yaml", line)}

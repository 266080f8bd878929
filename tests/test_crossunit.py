"""KServe runtimes shared across units (servegate.crossunit, servegate.engine): a runtime
checked in one folder serves the InferenceServices of another, as in the cluster."""

from __future__ import annotations

from typing import Any

from helpers import CLI, Tree
from test_evaluate import HARDENED, model, served

from servegate import crossunit
from servegate.crossunit import Provided


def body(kind: str, name: str, namespace: str | None = None, **spec: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {
        "apiVersion": "serving.kserve.io/v1alpha1",
        "kind": kind,
        "metadata": meta,
        "spec": spec,
    }


CSR = body("ClusterServingRuntime", "rt")
SR_ML = body("ServingRuntime", "rt", "ml")
SR_OTHER = body("ServingRuntime", "rt", "other")
CSC = body("ClusterStorageContainer", "s3")


def test_foreign_runtimes_are_the_cluster_ones_and_the_namespaces_own() -> None:
    provided = [Provided("b", "kb", CSR), Provided("b", "kb", SR_ML), Provided("c", "", SR_OTHER)]
    provided.append(Provided("c", "", CSC))
    seen = crossunit.foreign("a", ["ml"], [], provided)
    assert [p.ident for p in seen] == [
        ("ClusterServingRuntime", "", "rt"),
        ("ClusterStorageContainer", "", "s3"),
        ("ServingRuntime", "ml", "rt"),
    ]
    # none without InferenceServices; never the unit's own; what it holds itself wins
    assert crossunit.foreign("a", [], [], provided) == []
    assert crossunit.foreign("b", ["ml"], [CSR, SR_ML], provided) == [Provided("c", "", CSC)]
    assert [p.unit for p in crossunit.foreign("a", ["ml"], [CSR, CSC], provided)] == ["b"]


def test_one_foreign_runtime_per_identity_and_a_stable_digest() -> None:
    copies = [Provided("z", "kz", CSR), Provided("y", "ky", {**CSR, "spec": {"disabled": True}})]
    (seen,) = crossunit.foreign("a", ["ml"], [], copies)
    assert seen.unit == "y"  # the first by unit id: overlays repeat their base's runtime
    assert crossunit.digest([]) == ""
    assert crossunit.digest([seen]) == crossunit.digest([Provided("y", "ky", dict(seen.body))])
    assert crossunit.digest([seen]) != crossunit.digest([Provided("y", "other", seen.body)])


def errors(cli: CLI, repo: Any) -> set[tuple[Any, Any, Any]]:
    run = cli("check", repo, "--format", "json")
    return {
        (f["rule"], (f.get("resource") or {}).get("name"), f["file"])
        for f in run.json()["findings"]
        if f["severity"] == "error"
    }


def test_a_runtime_of_another_folder_serves_the_models(cli: CLI, tree: Tree) -> None:
    """A ClusterServingRuntime in ``cluster/`` (one plain unit) is the runtime of a model in
    ``models/`` (another): hardened, the model passes; without its hardening the findings are
    at the runtime's line and name the model; the result memo follows the runtime's changes."""
    hardened = served("ClusterServingRuntime", "ml", "sklearn", HARDENED)
    repo = tree(
        {
            "cluster/runtime.yaml": hardened,
            "models/isvc.yaml": model("iris", "sklearn", "rt"),
            "models/isvc-auto.yaml": model("auto", "sklearn", None),
        }
    )
    assert not {e for e in errors(cli, repo) if e[1] in ("iris", "auto")}
    (repo / "cluster/runtime.yaml").write_text(served("ClusterServingRuntime", "ml", "sklearn", ""))
    found = errors(cli, repo)  # the models' stored results are stale: checked again
    assert ("pss.run-as-non-root", "iris", "cluster/runtime.yaml") in found
    assert ("pss.run-as-non-root", "auto", "cluster/runtime.yaml") in found
    assert not {e for e in found if e[2].startswith("models/")}
    assert errors(cli, repo) == found  # and again from the memo
    (repo / "cluster/runtime.yaml").write_text(hardened)
    assert not {e for e in errors(cli, repo) if e[1] in ("iris", "auto")}


def test_a_namespaced_runtime_serves_only_its_namespace(cli: CLI, tree: Tree) -> None:
    repo = tree(
        {
            "runtimes/runtime.yaml": served("ServingRuntime", "other", "sklearn", HARDENED),
            "models/isvc.yaml": model("iris", "sklearn", "rt"),
        }
    )
    found = errors(cli, repo)
    assert ("pss.run-as-non-root", "iris", "models/isvc.yaml") in found


NAMESPACE = """\
apiVersion: v1
kind: Namespace
metadata:
  name: ml
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/enforce-version: {version}
"""
HOOKED = """\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: ml}
spec:
  serviceAccountName: web
  automountServiceAccountToken: false
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: web
    image: registry.example.com/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
    resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {cpu: 100m, memory: 64Mi}}
    lifecycle:
      preStop:
        httpGet: {host: localhost, port: 8080, path: /quit}
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
"""


def test_a_namespace_of_another_folder_sets_its_pods_pod_security(cli: CLI, tree: Tree) -> None:
    """Pod Security admission reads the pod's Namespace wherever the repo defines it: pinned to
    v1.33 in ``namespaces/``, a lifecycle ``host`` (refused from v1.34) passes in ``apps/``;
    at ``latest`` it is an error. Stored results follow the Namespace's changes."""
    repo = tree(
        {
            "namespaces/ml.yaml": NAMESPACE.format(version="v1.33"),
            "apps/pod.yaml": HOOKED,
        }
    )
    assert ("pss.host-probes-lifecycle", "web", "apps/pod.yaml") not in errors(cli, repo)
    (repo / "namespaces/ml.yaml").write_text(NAMESPACE.format(version="latest"))
    assert ("pss.host-probes-lifecycle", "web", "apps/pod.yaml") in errors(cli, repo)
    (repo / "namespaces/ml.yaml").write_text(NAMESPACE.format(version="v1.33"))
    assert ("pss.host-probes-lifecycle", "web", "apps/pod.yaml") not in errors(cli, repo)


def test_a_namespace_of_another_folder_is_judged_itself(cli: CLI, tree: Tree) -> None:
    """A ``namespaces/`` folder whose Namespace holds no pod of its own is still judged: its
    label is what admission enforces for the pods of ``apps/`` and of anyone later."""
    lax = NAMESPACE.format(version="v1.33").replace("restricted", "privileged")
    repo = tree({"namespaces/ml.yaml": lax, "apps/pod.yaml": HOOKED})
    assert ("namespace.pss-enforce", "ml", "namespaces/ml.yaml") in errors(cli, repo)
    (repo / "namespaces/ml.yaml").write_text(NAMESPACE.format(version="v1.33"))
    assert not {e for e in errors(cli, repo) if e[0] == "namespace.pss-enforce"}


def test_the_index_gives_namespaces_only_to_the_units_that_use_them() -> None:
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ml"}}
    index = crossunit.Index([Provided("n", "", ns), Provided("b", "", CSR)])
    assert [p.unit for p in index.foreign("a", [], ["ml"], [])] == ["n"]
    assert index.foreign("a", [], ["other"], []) == []
    assert index.foreign("a", [], ["ml"], [ns]) == []  # its own Namespace wins
    assert [p.unit for p in index.foreign("a", ["ml"], ["ml"], [])] == ["b", "n"]

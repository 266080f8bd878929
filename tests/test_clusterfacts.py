"""servegate.clusterfacts: a finding another unit of the same environment voids.

Istio's mesh-wide PeerAuthentication (no selector, in the root namespace) usually lives in a
platform folder, apart from the model's overlay; when the check holds a STRICT one for the same
environment, a namespace in the mesh and a namespace-wide ``UNSET`` policy are STRICT
(istio/istio ``ComposePeerAuthentication``), and are not reported. A weaker mesh-wide policy,
one for another environment, or none at all keeps the findings.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import CLI, Tree

from servegate.clusterfacts import cluster, facts_of, mesh_strict, namespace_strict, settle
from servegate.model import Finding, Severity
from servegate.resource import Origin, Resource

NAMESPACE = (
    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ml-prod\n  labels:\n"
    "    istio-injection: enabled\n    pod-security.kubernetes.io/enforce: restricted\n"
)
UNSET = (
    "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\n"
    "metadata: {name: default, namespace: ml-prod}\nspec:\n  mtls: {mode: UNSET}\n"
)


def mesh(mode: str, namespace: str = "istio-system") -> str:
    return (
        "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\n"
        f"metadata: {{name: default, namespace: {namespace}}}\nspec:\n  mtls: {{mode: {mode}}}\n"
    )


def pa(namespace: str, mode: str, selector: bool = False) -> Resource:
    spec: dict[str, object] = {"mtls": {"mode": mode}}
    if selector:
        spec["selector"] = {"matchLabels": {"app": "a"}}
    body = {
        "apiVersion": "security.istio.io/v1",
        "kind": "PeerAuthentication",
        "metadata": {"name": "p", "namespace": namespace},
        "spec": spec,
    }
    return Resource.from_body(body, Origin("x.yaml"))


def finding(unit: str, unless: str | None) -> Finding:
    return Finding(
        "istio.namespace-mtls", Severity.ERROR, "m", "ns.yaml", 1, unit=unit, unless=unless
    )


def test_facts_are_the_selector_less_policies() -> None:
    facts = facts_of([pa("istio-system", "STRICT"), pa("ml", "UNSET"), pa("ml", "STRICT", True)])
    assert facts == ["mesh-policy:istio-system:STRICT", "mesh-policy:ml:UNSET"]


def test_a_strict_mesh_policy_of_the_same_cluster_voids_only_marked_findings() -> None:
    envs = {"root:ns": "prod", "root:mesh": "prod@platform", "root:dev": "dev"}
    facts = {"root:mesh": ["mesh-policy:istio-system:STRICT"], "root:ns": [], "root:dev": []}
    marked = finding("root:ns", mesh_strict("istio-system"))
    plain = finding("root:ns", None)
    other_root = finding("root:ns", mesh_strict("istio-config"))
    other_cluster = finding("root:dev", mesh_strict("istio-system"))
    kept = settle([marked, plain, other_root, other_cluster], facts, envs.get)
    assert [f.unit for f in kept] == ["root:ns", "root:ns", "root:dev"]
    assert all(f.unless is None for f in kept)
    assert cluster("prod@platform") == cluster("prod") == "prod" and cluster(None) == ""


@pytest.mark.parametrize(
    "modes", [["PERMISSIVE"], ["UNSET"], ["STRICT", "PERMISSIVE"], ["STRICT", "UNSET"], []]
)
def test_a_weaker_mesh_policy_anywhere_keeps_the_finding(modes: list[str]) -> None:
    facts = {f"root:m{i}": [f"mesh-policy:istio-system:{m}"] for i, m in enumerate(modes)}
    marked = finding("root:ns", mesh_strict("istio-system"))
    assert settle([marked], facts, lambda _unit: None) == [marked]


def rules_of(cli: CLI, root: Path, *args: str | Path) -> list[tuple[str, str]]:
    run = cli("check", root, "--format", "json", *args)
    return sorted(
        (f["rule"], f["file"]) for f in run.json()["findings"] if f["rule"].startswith("istio.")
    )


def test_a_mesh_wide_policy_in_another_folder_covers_the_namespace(cli: CLI, tree: Tree) -> None:
    root = tree(
        {"platform/mesh.yaml": mesh("STRICT"), "ml/ns.yaml": NAMESPACE, "ml/pa.yaml": UNSET}
    )
    assert rules_of(cli, root) == []
    # again from the result memo: the facts are remembered with the unit's findings
    assert rules_of(cli, root) == []
    # a check of the model's folder alone cannot see it: it fails closed
    assert rules_of(cli, root / "ml") == [("istio.peer-authentication-strict", "ml/pa.yaml")]
    # nor a namespace with no policy of its own
    (root / "ml/pa.yaml").unlink()
    assert rules_of(cli, root) == []
    assert rules_of(cli, root / "ml") == [("istio.namespace-mtls", "ml/ns.yaml")]


def test_a_kustomize_overlay_and_a_platform_overlay_of_one_environment(
    cli: CLI, tree: Tree
) -> None:
    files = {
        "servegate.yaml": "version: 1\nenvironments:\n  models/prod: prod\n  platform/prod: prod\n"
        "  platform/dev: dev\n",
        "models/base/kustomization.yaml": "resources: [ns.yaml]\n",
        "models/base/ns.yaml": NAMESPACE,
        "models/prod/kustomization.yaml": "resources: [../base]\n",
        "platform/prod/kustomization.yaml": "resources: [mesh.yaml]\n",
        "platform/prod/mesh.yaml": mesh("STRICT"),
        "platform/dev/kustomization.yaml": "resources: [mesh.yaml]\n",
        "platform/dev/mesh.yaml": mesh("STRICT"),
    }
    assert rules_of(cli, tree(files)) == []
    # the only STRICT mesh-wide policies are another cluster's: the namespace is not covered
    files["servegate.yaml"] = files["servegate.yaml"].replace(
        "platform/prod: prod", "platform/prod: dev"
    )
    root = tree(files)
    assert rules_of(cli, root) == [("istio.namespace-mtls", "models/base/ns.yaml")]


def test_a_permissive_mesh_wide_policy_elsewhere_covers_nothing(cli: CLI, tree: Tree) -> None:
    root = tree(
        {"platform/mesh.yaml": mesh("PERMISSIVE"), "ml/ns.yaml": NAMESPACE, "ml/pa.yaml": UNSET}
    )
    assert rules_of(cli, root) == [
        ("istio.peer-authentication-strict", "ml/pa.yaml"),
        ("istio.peer-authentication-strict", "platform/mesh.yaml"),
    ]


@pytest.mark.parametrize(
    ("facts", "covered"),
    [
        (["mesh-policy:ml:STRICT"], True),
        (["mesh-policy:ml:STRICT", "mesh-policy:ml:UNSET"], False),  # the oldest wins
        (
            ["mesh-policy:ml:STRICT", "mesh-policy:ml:UNSET", "mesh-policy:istio-system:STRICT"],
            True,
        ),
        (["mesh-policy:ml:UNSET", "mesh-policy:istio-system:STRICT"], True),
        (["mesh-policy:istio-system:STRICT"], True),
        (["mesh-policy:ml:PERMISSIVE", "mesh-policy:istio-system:STRICT"], False),
        (["mesh-policy:ml:STRICT", "mesh-policy:ml:DISABLE"], False),
        (["mesh-policy:other:STRICT"], False),
    ],
)
def test_a_namespace_is_covered_by_its_own_policies_or_the_mesh(
    facts: list[str], covered: bool
) -> None:
    marked = finding("root:ns", namespace_strict("ml", "istio-system"))
    kept = settle([marked], {"root:elsewhere": facts}, lambda _unit: "prod")
    assert (kept == []) is covered


def test_namespace_policies_in_a_platform_folder_cover_the_namespace(cli: CLI, tree: Tree) -> None:
    workload = (
        "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\n"
        "metadata: {name: model, namespace: ml-prod}\nspec:\n  selector:\n"
        "    matchLabels: {app: model}\n"
    )
    strict = UNSET.replace("UNSET", "STRICT")
    root = tree({"platform/pa.yaml": strict, "ml/ns.yaml": NAMESPACE, "ml/workload.yaml": workload})
    assert rules_of(cli, root) == []
    assert rules_of(cli, root / "ml") == [
        ("istio.namespace-mtls", "ml/ns.yaml"),
        ("istio.peer-authentication-strict", "ml/workload.yaml"),
    ]

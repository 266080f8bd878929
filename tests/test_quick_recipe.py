"""The seed's hardened "quick recipe" passes with zero findings; each single defect fails.

The recipe (tests/fixtures/quick-recipe/) is a namespace with sidecar injection and restricted
Pod Security labels, minimal RBAC and a dedicated service account, a Knative-mode
InferenceService with a 10% canary, STRICT mTLS and an AuthorizationPolicy that admits the
ingress gateway and Knative's system namespace. Each variant changes one thing and must fail
with the rule that owns that defect (and nothing unrelated).

The recipe enforces Pod Security "restricted" with sidecar injection, which works only with
Istio CNI (the injected istio-init needs NET_ADMIN/NET_RAW otherwise): its config says so
(``quick-recipe.servegate.yaml``: ``policy.mesh: istio-cni``, and ``storageInitializer:
restricted`` for the hardened default ClusterStorageContainer); without it, its pods fail Pod
Security at the label that turns injection on (the injected ``istio-init``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from servegate.cli import main

RECIPE = Path(__file__).parent / "fixtures" / "quick-recipe"
RECIPE_CONFIG = Path(__file__).parent / "fixtures" / "quick-recipe.servegate.yaml"
Docs = dict[str, list[dict[str, Any]]]


def run_check(
    path: Path, capsys: pytest.CaptureFixture[str], *, config: Path | None = RECIPE_CONFIG
) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    flags = ["--config", str(config)] if config is not None else []
    code = main(["check", str(path), "--format", "json", *flags])
    out = capsys.readouterr().out
    return code, json.loads(out)


def load_recipe() -> Docs:
    return {
        p.name: [d for d in yaml.safe_load_all(p.read_text(encoding="utf-8")) if d]
        for p in sorted(RECIPE.glob("*.yaml"))
    }


def find(docs: Docs, kind: str) -> dict[str, Any]:
    return next(d for ds in docs.values() for d in ds if d["kind"] == kind)


def isvc(docs: Docs) -> dict[str, Any]:
    return find(docs, "InferenceService")


def model(docs: Docs) -> dict[str, Any]:
    result: dict[str, Any] = isvc(docs)["spec"]["predictor"]["model"]
    return result


def write(docs: Docs, root: Path) -> Path:
    (root / ".git").mkdir(exist_ok=True)  # its own repo root: discovery stays inside tmp_path
    for name, items in docs.items():
        (root / name).write_text(yaml.safe_dump_all(items, sort_keys=False), encoding="utf-8")
    return root


def test_recipe_has_zero_findings(capsys: pytest.CaptureFixture[str]) -> None:
    code, report = run_check(RECIPE, capsys)
    assert report["findings"] == []
    assert report["suppressed"] == []
    assert code == 0
    assert report["summary"]["resources"] == 7


def test_recipe_without_istio_cni_fails(capsys: pytest.CaptureFixture[str]) -> None:
    """No mesh declared: Istio's default install has no CNI, so restricted rejects the pods:
    their injected istio-init fails Pod Security at the label that turns injection on, and
    nothing else reports the same cause. No storage initializer declared: KServe's own is a
    warning."""
    code, report = run_check(RECIPE, capsys, config=None)
    assert code == 1
    rules = {f["rule"] for f in report["findings"]}
    assert "pss.capabilities-restricted" in rules
    for f in report["findings"]:
        expected = "istio-init" in f["message"] and f["line"] is not None
        storage = f["rule"] == "kserve.storage-initializer" and f["severity"] == "warning"
        assert expected or storage, f


def test_recipe_round_trip_has_zero_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The variants are written by yaml.safe_dump: the unchanged recipe must pass that way too."""
    code, report = run_check(write(load_recipe(), tmp_path), capsys)
    assert (code, report["findings"]) == (0, [])


def _privileged(d: Docs) -> None:
    model(d)["securityContext"]["privileged"] = True


def _run_as_root(d: Docs) -> None:
    model(d)["securityContext"]["runAsNonRoot"] = False


def _escalation(d: Docs) -> None:
    model(d)["securityContext"]["allowPrivilegeEscalation"] = True


def _caps(d: Docs) -> None:
    del model(d)["securityContext"]["capabilities"]


def _permissive(d: Docs) -> None:
    find(d, "PeerAuthentication")["spec"]["mtls"]["mode"] = "PERMISSIVE"


def _allow_all(d: Docs) -> None:
    find(d, "AuthorizationPolicy")["spec"]["rules"].append({})


def _star_principal(d: Docs) -> None:
    find(d, "AuthorizationPolicy")["spec"]["rules"][0]["from"][0]["source"]["principals"] = ["*"]


def _no_knative(d: Docs) -> None:
    find(d, "AuthorizationPolicy")["spec"]["rules"].pop()


def _knative_probe_paths(d: Docs) -> None:
    """knative-serving admitted to prediction paths only: its probes of /healthz are denied."""
    find(d, "AuthorizationPolicy")["spec"]["rules"][-1]["to"] = [
        {"operation": {"paths": ["/v1/models/*"]}}
    ]


def _knative_controller_only(d: Docs) -> None:
    """Knative < 1.11's identity: the activator has its own service account since then."""
    find(d, "AuthorizationPolicy")["spec"]["rules"][-1] = {
        "from": [{"source": {"principals": ["cluster.local/ns/knative-serving/sa/controller"]}}]
    }


def _latest(d: Docs) -> None:
    model(d)["image"] = "ghcr.io/acme/sklearn-server:latest"


def _wildcard_role(d: Docs) -> None:
    find(d, "Role")["rules"][0]["verbs"] = ["*"]


def _secrets_role(d: Docs) -> None:
    find(d, "Role")["rules"].append(
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}
    )


def _default_sa(d: Docs) -> None:
    isvc(d)["spec"]["predictor"]["serviceAccountName"] = "default"


def _sa_typo(d: Docs) -> None:
    isvc(d)["spec"]["predictor"]["serviceAccountName"] = "kserve-models-sa"


def _automount(d: Docs) -> None:
    find(d, "ServiceAccount")["automountServiceAccountToken"] = True


def _cluster_role(d: Docs) -> None:
    find(d, "RoleBinding")["roleRef"].update(kind="ClusterRole", name="edit")


def _role_typo(d: Docs) -> None:
    find(d, "RoleBinding")["roleRef"]["name"] = "model-readers"


def _http(d: Docs) -> None:
    model(d)["storageUri"] = "http://models.example.com/fraud"


def _no_enforce(d: Docs) -> None:
    del find(d, "Namespace")["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]


def _no_injection(d: Docs) -> None:
    del find(d, "Namespace")["metadata"]["labels"]["istio-injection"]


def _both_injection(d: Docs) -> None:
    find(d, "Namespace")["metadata"]["labels"]["istio.io/rev"] = "1-22"


def _canary_150(d: Docs) -> None:
    isvc(d)["spec"]["predictor"]["canaryTrafficPercent"] = 150


def _standard_mode(d: Docs) -> None:
    isvc(d)["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] = "Standard"


def _legacy_mode(d: Docs) -> None:
    isvc(d)["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] = "Serverless"


def _legacy_framework(d: Docs) -> None:
    pred = isvc(d)["spec"]["predictor"]
    body = pred.pop("model")
    del body["modelFormat"]
    pred["sklearn"] = body


def _no_format(d: Docs) -> None:
    del model(d)["modelFormat"]


def _no_limits(d: Docs) -> None:
    del model(d)["resources"]["limits"]


def _min_over_max(d: Docs) -> None:
    isvc(d)["spec"]["predictor"].update(minReplicas=3, maxReplicas=1)


def _selector_typo(d: Docs) -> None:
    find(d, "AuthorizationPolicy")["spec"]["selector"]["matchLabels"][
        "serving.kserve.io/inferenceservice"
    ] = "frud"


def _secret(d: Docs) -> None:
    d["secret.yaml"] = [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "s3-creds", "namespace": "ml-prod"},
            "stringData": {"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI"},
        }
    ]


#: variant -> (mutation, the rule that must fire, other rules the same change may also trigger)
VARIANTS: dict[str, tuple[Callable[[Docs], None], str, frozenset[str]]] = {
    "privileged": (_privileged, "pss.privileged", frozenset()),
    "run-as-root": (_run_as_root, "pss.run-as-non-root", frozenset()),
    "privilege-escalation": (_escalation, "pss.allow-privilege-escalation", frozenset()),
    "capabilities-kept": (_caps, "pss.capabilities-restricted", frozenset()),
    "permissive-mtls": (_permissive, "istio.peer-authentication-strict", frozenset()),
    "allow-all-authz": (_allow_all, "istio.authz-allow-all", frozenset()),
    "star-principal": (_star_principal, "istio.authz-allow-all", frozenset()),
    # nothing from knative-serving: one cause, one finding (the activator's, an error)
    "no-knative-serving": (_no_knative, "istio.knative-activator", frozenset()),
    "knative-probes-blocked": (
        _knative_probe_paths,
        "istio.knative-authz",
        frozenset({"istio.knative-activator"}),
    ),
    "knative-controller-principal": (
        _knative_controller_only,
        "istio.knative-activator",
        frozenset(),
    ),
    "latest-image": (_latest, "image.latest-tag", frozenset()),
    "wildcard-role": (_wildcard_role, "rbac.wildcard", frozenset()),
    "secrets-role": (_secrets_role, "rbac.secrets-read", frozenset()),
    "default-service-account": (_default_sa, "kserve.service-account", frozenset()),
    "service-account-typo": (_sa_typo, "refs.service-account", frozenset()),
    "automount-token": (_automount, "rbac.automount-token", frozenset()),
    "cluster-role-for-model": (_cluster_role, "rbac.cluster-role-binding", frozenset()),
    "role-typo": (_role_typo, "refs.role-binding", frozenset()),
    "http-storage": (_http, "kserve.storage-uri", frozenset()),
    "missing-enforce-label": (_no_enforce, "namespace.pss-enforce", frozenset()),
    "no-sidecar-injection": (_no_injection, "istio.sidecar-injection", frozenset()),
    "both-injection-labels": (_both_injection, "istio.injection-conflict", frozenset()),
    "canary-150": (_canary_150, "kserve.canary-traffic-percent", frozenset({"schema.invalid"})),
    "canary-in-standard-mode": (_standard_mode, "kserve.canary-traffic-percent", frozenset()),
    "legacy-mode": (_legacy_mode, "kserve.legacy-deployment-mode", frozenset()),
    "legacy-framework": (_legacy_framework, "kserve.legacy-framework", frozenset()),
    "no-model-format": (_no_format, "kserve.model-format", frozenset({"schema.invalid"})),
    "no-limits": (_no_limits, "kserve.resources", frozenset()),
    "min-over-max": (_min_over_max, "kserve.autoscaling", frozenset()),
    "selector-typo": (_selector_typo, "refs.authz-selector", frozenset()),
    "committed-secret": (_secret, "repo.committed-secret", frozenset()),
}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_single_defect_fails_with_its_rule(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mutate, expected, also = VARIANTS[name]
    docs = load_recipe()
    mutate(docs)
    code, report = run_check(write(docs, tmp_path), capsys)
    rules = {f["rule"] for f in report["findings"]}
    assert expected in rules, report["findings"]
    assert rules <= {expected, *also}, f"unrelated findings: {sorted(rules - {expected, *also})}"
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert code == (1 if errors else 0)
    hit = next(f for f in report["findings"] if f["rule"] == expected)
    assert hit["file"].endswith(".yaml") and hit["line"] >= 1

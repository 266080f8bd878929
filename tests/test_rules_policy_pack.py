"""Parameter- and environment-dependent behaviour of the non-PSS rule families.

The fixture test runs each rule with its default parameters and an unknown (strictest)
environment; here the same checks run with the parameters of a policy set and the profile of a
named environment, which is what the engine passes them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from helpers import resources_of

from servegate.config import load_policy_set, load_profile
from servegate.evaluate import evaluate
from servegate.resource import Origin, Resource
from servegate.rules import all_rules
from servegate.rules.base import Context, Level
from servegate.rules.image._ref import parse
from servegate.rules.rollouts.promql import parses
from servegate.yamlsafe import load_text

ROOT = Path(__file__).resolve().parent.parent


def findings(
    rule_id: str, text: str, params: dict[str, Any] | None = None, env: str | None = None
) -> list[str]:
    rule = all_rules()[rule_id]
    resources = resources_of(text)
    profile = load_profile(env) if env else {}
    ctx = Context((1, 37), params={**rule.params, **(params or {})}, environment=profile)
    return [hit.violation.message for hit in evaluate([rule], resources, ctx)]


POD = """
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - {name: a, image: "ghcr.io/acme/a:1.0"}
  - {name: b, image: "nginx:1.27"}
"""


def test_image_registry_allowlist() -> None:
    assert findings("image.registry", POD) == []
    hits = findings("image.registry", POD, {"allowedRegistries": ["ghcr.io/acme"]})
    assert len(hits) == 1 and "'nginx:1.27'" in hits[0]
    assert (
        findings("image.registry", POD, {"allowedRegistries": ["ghcr.io/acme", "docker.io"]}) == []
    )
    # A prefix must end at a path boundary: ghcr.io/acme does not allow ghcr.io/acme-evil.
    evil = POD.replace("ghcr.io/acme/a", "ghcr.io/acme-evil/a")
    assert len(findings("image.registry", evil, {"allowedRegistries": ["ghcr.io/acme"]})) == 2


def test_image_digest_follows_the_policy_set() -> None:
    restricted = load_policy_set("restricted").params
    assert findings("image.digest", POD, dict(restricted)) == []
    assert len(findings("image.digest", POD, {"requireDigest": True})) == 2


@pytest.mark.parametrize(
    ("image", "registry", "repository", "tag", "digest"),
    [
        ("nginx", "docker.io", "nginx", None, None),
        ("library/nginx:1.2", "docker.io", "library/nginx", "1.2", None),
        ("localhost:5000/m", "localhost:5000", "m", None, None),
        ("ghcr.io/a/b:1@sha256:ab", "ghcr.io", "a/b", "1", "sha256:ab"),
        ("registry.k8s.io/pause@sha256:ab", "registry.k8s.io", "pause", None, "sha256:ab"),
    ],
)
def test_image_reference_parsing(
    image: str, registry: str, repository: str, tag: str | None, digest: str | None
) -> None:
    assert parse(image) == type(parse(image))(registry, repository, tag, digest)


ISVC = """
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: m}
spec:
  predictor:
    model: {modelFormat: {name: sklearn}, storageUri: "URI"}
"""


@pytest.mark.parametrize(
    ("uri", "buckets", "bad"),
    [
        ("s3://acme-models/m", [], False),
        ("s3://acme-models/m", ["acme-models"], False),
        ("s3://other/m", ["acme-models"], True),
        ("pvc://claim/m", ["acme-models"], False),
        ("gs://user@acme-models/m", [], True),
        ("https://acme.blob.core.windows.net/m?sv=2020&sig=abc", [], True),
        ("/mnt/models", [], True),
    ],
)
def test_storage_uri(uri: str, buckets: list[str], bad: bool) -> None:
    hits = findings("kserve.storage-uri", ISVC.replace("URI", uri), {"allowedBuckets": buckets})
    assert bool(hits) is bad, hits


PERMISSIVE = """
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default}
spec: {mtls: {mode: PERMISSIVE}}
"""


def test_mtls_rules_follow_the_environment(tmp_path: Path) -> None:
    assert findings("istio.peer-authentication-strict", PERMISSIVE, env="dev")
    rule = all_rules()["istio.peer-authentication-strict"]
    doc = load_text(PERMISSIVE).documents[0]
    resource = Resource.from_body(doc.data, Origin("x.yaml", doc))
    relaxed = Context((1, 37), environment={"name": "lab", "mtls": "PERMISSIVE"})
    assert list(evaluate([rule], [resource], relaxed)) == []


NO_FROM = """
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: p}
spec:
  rules:
  - to: [{operation: {methods: [POST]}}]
"""


def test_rule_without_from_is_an_error_only_in_production() -> None:
    assert findings("istio.authz-allow-all", NO_FROM, env="prod")
    assert findings("istio.authz-allow-all", NO_FROM) != []  # unknown environment: strictest
    assert findings("istio.authz-allow-all", NO_FROM, env="dev") == []


PRUNE = """
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: a}
spec:
  project: ml
  syncPolicy: {automated: {prune: true}}
"""


def test_automated_prune_follows_the_environment() -> None:
    assert findings("argocd.automated-prune", PRUNE, env="dev") == []
    assert findings("argocd.automated-prune", PRUNE, env="staging")
    assert findings("argocd.automated-prune", PRUNE, env="prod")


BASELINE_NS = """
apiVersion: v1
kind: Namespace
metadata:
  name: ml
  labels:
    pod-security.kubernetes.io/enforce: baseline
    pod-security.kubernetes.io/enforce-version: v1.33
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: ml}
spec: {containers: [{name: a, image: "ghcr.io/acme/a:1.0"}]}
"""


def test_enforce_level_is_compared_with_the_plans_level() -> None:
    """The unit's plan resolves the level once (--pss-level, else the environment's); the
    rule compares the label with that level, not with the profile on its own."""
    assert findings("namespace.pss-enforce", BASELINE_NS, env="prod")
    rule = all_rules()["namespace.pss-enforce"]
    docs = load_text(BASELINE_NS).documents
    resources = [Resource.from_body(d.data, Origin("x.yaml", d)) for d in docs]
    relaxed = Context((1, 37), Level.BASELINE, environment={"podSecurity": "restricted"})
    assert list(evaluate([rule], resources, relaxed)) == []
    strict = Context((1, 37), Level.RESTRICTED, environment={"podSecurity": "baseline"})
    assert list(evaluate([rule], resources, strict))


@pytest.mark.parametrize(
    ("query", "ok"),
    [
        ('sum(rate(x{s="{{args.s}}"}[{{args.window}}]))', True),
        ("{{args.metric}}_total > {{ args.threshold }}", True),
        ("rate(x[5m] offset {{args.offset}})", True),
        ("sum(rate(x[5m])", False),
        ("sum by (le) rate(x[5m]))", False),
    ],
)
def test_promql_with_placeholders(query: str, ok: bool) -> None:
    assert (parses(query) is None) is ok


def test_policy_sets_match_their_schema() -> None:
    schema = json.loads((ROOT / "schemas" / "policy.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in sorted((ROOT / "policies").glob("*.yaml")):
        validator.validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert list(validator.iter_errors({"name": "x", "rules": {"severity": {"a.b": "fatal"}}}))

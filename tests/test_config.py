"""servegate.yaml (servegate/config.py): the checked repo's file that fails its schema is a
finding and is not applied at all; the operator's ``--config`` that does is a usage error."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from helpers import CLI, PRIVILEGED_POD, Tree

from servegate.config import Config, load_config, load_policy_set
from servegate.errors import ConfigError


def test_a_repo_config_that_fails_its_schema_is_a_finding_and_not_applied(
    cli: CLI, tree: Tree
) -> None:
    root = tree(
        {
            # a typo, and an exemption that would hide the privileged pod if applied
            "servegate.yaml": "version: 1\nexemptions:\n- rule: pss\n  resource: {kind: Pod, name: debug}\n"
            "  reason: r\nenviroments: {.: dev}\n",
            "pod.yaml": PRIVILEGED_POD,
        }
    )
    run = cli("check", root, "--format", "json")
    assert run.code == 1
    found = {(f["rule"], f["file"], f["line"]) for f in run.json()["findings"]}
    assert ("repo.config-invalid", "servegate.yaml", 6) in found
    assert any(rule == "pss.privileged" for rule, _, _ in found)
    assert run.json()["suppressed"] == []


def test_a_repo_config_that_is_not_yaml_is_a_finding(cli: CLI, tree: Tree) -> None:
    root = tree({"servegate.yaml": "version: [1\n", "pod.yaml": PRIVILEGED_POD})
    run = cli("check", root, "--format", "json", "--select", "pss.privileged")
    assert run.code == 1
    assert {f["rule"] for f in run.json()["findings"]} == {"yaml.syntax", "pss.privileged"}


def test_the_operators_config_that_fails_its_schema_is_a_usage_error(
    cli: CLI, tree: Tree, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tree({"pod.yaml": PRIVILEGED_POD})
    config = tmp_path_factory.mktemp("op") / "servegate.yaml"
    config.write_text("version: 1\nenviroments: {}\n", encoding="utf-8")
    run = cli("check", root, "--config", config)
    assert run.code == 2 and "enviroments" in run.err


def test_exemption_entries_are_validated_one_by_one(tmp_path: Path) -> None:
    (tmp_path / "servegate.yaml").write_text(
        "version: 1\nexemptions:\n"
        "- rule: pss\n  resource: {kind: Pod, name: a}\n  reason: r\n"
        "- rule: pss\n  resource: {kind: Pod}\n  reason: r\n",
        encoding="utf-8",
    )
    config = load_config(tmp_path, None)
    assert [(e.rule, e.kind, e.name) for e in config.exemptions] == [("pss", "Pod", "a")]
    assert [(f.rule, f.line) for f in config.findings] == [("repo.exemption-invalid", 6)]


def test_policy_set_severities_are_checked(tmp_path: Path) -> None:
    (tmp_path / "odd.yaml").write_text(
        "name: odd\nrules:\n  severity: {pss.privileged: fatal}\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="fatal"):
        load_policy_set("odd", [tmp_path])
    assert load_policy_set("restricted").name == "restricted"


# --- environment lookup by folder ------------------------------------------------------------


def _environment_by_scan(environments: dict[str, str], rel: str) -> str | None:
    """The former O(entries) lookup: exact, else the longest folder above, "" matches all."""
    rel = rel.strip("/")
    best: tuple[int, str] | None = None
    for key, env in environments.items():
        if (rel == key or rel.startswith(key + "/") or not key) and (
            best is None or len(key) > best[0]
        ):
            best = (len(key), env)
    return best[1] if best else None


def test_environment_for_exact_longest_and_empty_key() -> None:
    config = Config(
        environments={
            "overlays": "dev",
            "overlays/prod": "prod",
            "overlays/prod/eu": "prod-eu",
            "argocd/applications/prod.yaml": "staging",
        }
    )
    assert config.environment_for("overlays/prod") == "prod"  # exact
    assert config.environment_for("/overlays/prod/") == "prod"  # slashes stripped
    assert config.environment_for("overlays/prod/eu/x.yaml") == "prod-eu"  # longest above
    assert config.environment_for("overlays/prod/us") == "prod"
    assert config.environment_for("overlays/production") == "dev"  # a folder, not a prefix
    assert config.environment_for("argocd/applications/prod.yaml") == "staging"
    assert config.environment_for("argocd/applications/dev.yaml") is None
    assert config.environment_for("elsewhere") is None
    config.environments[""] = "default"
    assert config.environment_for("elsewhere/deep/file.yaml") == "default"
    assert config.environment_for("") == "default"
    assert config.environment_for("overlays/prod/us") == "prod"  # a longer key still wins


def test_environment_for_agrees_with_a_scan_of_every_entry() -> None:
    rng = random.Random(7)
    parts = ["a", "b", "ab", "a.b", "", "c"]
    for _ in range(300):
        keys = {
            "/".join(rng.choice(parts) for _ in range(rng.randint(0, 3))): f"e{i}"
            for i in range(rng.randint(0, 6))
        }
        config = Config(environments=keys)
        for _ in range(20):
            rel = "/".join(rng.choice(parts) for _ in range(rng.randint(0, 4)))
            assert config.environment_for(rel) == _environment_by_scan(keys, rel), (keys, rel)

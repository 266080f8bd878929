"""servegate.yaml (servegate/config.py): the checked repo's file that fails its schema is a
finding and is not applied at all; the operator's ``--config`` that does is a usage error."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from conftest import Run
from manifests import PRIVILEGED_POD

from servegate.config import load_config, load_policy_set
from servegate.errors import ConfigError

Tree = Callable[[Mapping[str, str | bytes]], Path]
CLI = Callable[..., Run]


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

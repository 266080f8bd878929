"""The servegate.yaml JSON Schema accepts everything servegate itself accepts (editors that
validate with it must not flag a working file): rule ids and whole families. (An exemption
must still name its one resource: servegate's acceptance of less is a bypass, not a feature;
see the 9-exemption-toplevel-kind-name case.)"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from servegate.config import load_config
from servegate.rules import all_rules

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[1] / "schemas/servegate.schema.json").read_text()
)
EXEMPTIONS: list[dict[str, Any]] = [
    {"rule": "pss.privileged", "resource": {"kind": "Pod", "name": "p"}, "reason": "r"},
    {"rule": "pss", "resource": {"kind": "Pod", "name": "p"}, "reason": "a whole family"},
    {"rule": "istio", "resource": {"kind": "Gateway", "name": "g"}, "reason": "a family"},
    {"rule": "image", "resource": {"kind": "Pod", "name": "p", "namespace": "ml"}, "reason": "r"},
    {"rule": "pss.", "resource": {"kind": "Pod", "name": "p"}, "reason": "family with its dot"},
    {
        "rule": "pss.privileged",
        "resource": {"kind": "Pod", "name": "p"},
        "reason": "r",
        "expires": "2999-01-01",
    },
]


@pytest.mark.parametrize("item", EXEMPTIONS, ids=lambda i: str(i["rule"]))
def test_schema_accepts_every_exemption_servegate_accepts(tmp_path: Path, item: Any) -> None:
    config = {"version": 1, "k8sVersion": "1.37", "exemptions": [item]}
    (tmp_path / "servegate.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    loaded = load_config(tmp_path, None, today=dt.date(2026, 1, 1))
    assert loaded.findings == [] and len(loaded.exemptions) == 1  # servegate takes it
    jsonschema.validate(config, SCHEMA)  # so does the schema


def test_schema_takes_every_rule_id_and_family() -> None:
    pattern = SCHEMA["properties"]["exemptions"]["items"]["properties"]["rule"]["pattern"]
    validator = jsonschema.Draft202012Validator({"type": "string", "pattern": pattern})
    for rule_id, rule in all_rules().items():
        assert validator.is_valid(rule_id), rule_id
        assert validator.is_valid(rule.family), rule.family


def test_schema_still_refuses_what_servegate_refuses() -> None:
    for bad in (
        {"version": 1, "exemptions": [{"rule": "pss", "resource": {"kind": "Pod", "name": "p"}}]},
        {"version": 2},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, SCHEMA)


@pytest.mark.parametrize("schema", ["servegate.schema.json", "operator.schema.json"])
def test_kserve_version_pattern_is_exactly_the_supported_range(schema: str) -> None:
    """The schemas accept the KServe versions servegate supports and no other, so a repo's
    unsupported ``kserveVersion`` is a ``repo.config-invalid`` finding at its line (and the
    operator's a usage error) rather than a late refusal without a location."""
    import re

    from servegate import kserve_versions

    data = json.loads((Path(__file__).resolve().parents[1] / "schemas" / schema).read_text())
    pattern = re.compile(data["properties"]["kserveVersion"]["pattern"])
    for minor in range(0, 40):
        for text in (f"0.{minor}", f"v0.{minor}.2"):
            try:
                kserve_versions.parse(text)
                supported = True
            except kserve_versions.UnsupportedVersion:
                supported = False
            assert bool(pattern.match(text)) is supported, text
    assert pattern.match("main") and not pattern.match("1.0") and not pattern.match("")


def test_unsupported_repo_kserve_version_is_a_finding_at_its_line(tmp_path: Path, cli: Any) -> None:
    (tmp_path / "servegate.yaml").write_text('version: 1\nkserveVersion: "0.9"\n')
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    run = cli("check", tmp_path, "--format", "json")
    found = json.loads(run.out)["findings"]
    assert run.code == 1
    assert [(f["rule"], f["file"], f["line"]) for f in found] == [
        ("repo.config-invalid", "servegate.yaml", 2)
    ]

"""Every rule against its own fixtures: ``tests/fixtures/rules/<rule-id>/{pass,fail}.<scenario>.yaml``.

A fail fixture marks each line where a finding is expected with a trailing
``# expect: <rule-id>`` comment; the rule must report exactly those lines (markers naming other
rules are for family-wide tests and ignored here). A pass fixture must produce no finding.
Optional header comments change the context: ``# k8s-version: 1.33`` (default: newest,
1.37), ``# pss-level: baseline`` (default: restricted), ``# params: {"requireDigest": true}``
(JSON, over the rule's defaults) and ``# env: prod`` (the environment profile; a JSON object
is used as the profile itself, for fields no shipped profile sets).

Rules the engine reports while loading (yaml, schema, kustomize problems) run through the whole
CLI instead: their fixture is a file (``*.notyaml`` for deliberately broken YAML, copied in as
``.yaml``) or a folder (``fail.<scenario>/`` holding a small repo), and every file's markers
count.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from servegate.cli import main
from servegate.config import load_profile
from servegate.evaluate import evaluate
from servegate.plan import _cluster_params, pss_versions
from servegate.resource import Origin, Resource, is_k8s_object
from servegate.rules import all_rules
from servegate.rules.base import Context, Level, ReportedRule, Rule
from servegate.yamlsafe import load_bytes

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
NEWEST_K8S = (1, 37)

#: Families still being written: their rules may lack fixtures for now. Remove yours when done.
PENDING_FAMILIES: frozenset[str] = frozenset()

#: Engine-reported rules whose input cannot be a committed fixture, and where they are tested.
TESTED_ELSEWHERE = {
    "yaml.too-large": "a 20 MB file, built in tests/test_bad_input.py",
    "yaml.unreadable": "file permissions, set in tests/test_bad_input.py",
    "repo.baseline-unmatched": "a baseline file named by --baseline, in tests/test_baseline.py",
    "repo.symlink-escape": "a symlink to /etc, made in tests/test_bad_input.py",
    "repo.excluded": "suppressed notes that need --honor-excludes, in tests/test_scope.py",
    "changes.prod-without-canary": "two git revisions, built in tests/test_changes.py",
    "changes.security-downgrade": "two git revisions, built in tests/test_changes.py",
}

_EXPECT = re.compile(r"#\s*expect:\s*([a-z0-9.-]+(?:\s*,\s*[a-z0-9.-]+)*)\s*$")
_DIRECTIVE = re.compile(r"^#\s*(k8s-version|pss-level|params|env):\s*(.+?)\s*$")


@dataclass(frozen=True, slots=True)
class Fixture:
    rule_id: str
    path: Path
    version: tuple[int, int]
    level: Level
    expected: frozenset[tuple[str, int]]
    """(rule id, line) of every ``# expect:`` marker."""
    params: dict[str, object]
    env: str | None

    @property
    def passing(self) -> bool:
        return self.path.name.startswith("pass.")


def markers(text: str) -> set[tuple[str, int]]:
    found: set[tuple[str, int]] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        marker = _EXPECT.search(line)
        if marker:
            found.update((r.strip(), number) for r in marker[1].split(","))
    return found


def parse_fixture(rule_id: str, path: Path) -> Fixture:
    version, level = NEWEST_K8S, Level.RESTRICTED
    params: dict[str, object] = {}
    env = None
    text = "" if path.is_dir() else path.read_bytes().decode("latin-1")
    for line in text.splitlines():
        directive = _DIRECTIVE.match(line)
        if directive is None:
            continue
        key, value = directive[1], directive[2]
        if key == "k8s-version":
            major, _, minor = value.partition(".")
            version = (int(major), int(minor))
        elif key == "pss-level":
            level = Level(value)
        elif key == "params":
            params = json.loads(value)
        else:
            env = value
    return Fixture(rule_id, path, version, level, frozenset(markers(text)), params, env)


def fixtures() -> list[Fixture]:
    return [
        parse_fixture(d.name, path)
        for d in sorted(p for p in FIXTURES.iterdir() if p.is_dir())
        for path in sorted(d.iterdir())
        if path.suffix in (".yaml", ".yml", ".notyaml") or path.is_dir()
    ]


def load_resources(path: Path) -> list[Resource]:
    loaded = load_bytes(path.read_bytes())
    assert not loaded.problems, f"{path}: {loaded.problems[0].message}"
    return [
        Resource.from_body(doc.data, Origin(file=str(path), document=doc))
        for doc in loaded.documents
        if is_k8s_object(doc.data)
    ]


def fixture_context(fixture: Fixture, defaults: dict[str, object] | None = None) -> Context:
    """The context a plan gives a fixture: its level and parameters over ``defaults`` (a
    rule's), the cluster's mesh and storage initializer and the profile's versions as plan.py
    settles them (no policy set's parameters)."""
    environment: dict[str, object] = {}
    if fixture.env and fixture.env.startswith("{"):
        environment = json.loads(fixture.env)
    elif fixture.env:
        environment = load_profile(fixture.env)
    params = _cluster_params({**(defaults or {}), **fixture.params}, environment, None)
    version, oldest = pss_versions(environment)
    return Context(fixture.version, fixture.level, params, environment, version, oldest)


def found_lines(
    fixture: Fixture, rule: Rule, rules: Sequence[Rule] | None = None
) -> set[tuple[str, int]]:
    """(rule id, line) of every finding ``rules`` (default: ``rule`` alone) report on the
    fixture, located as the report locates them, in the context of ``rule``'s defaults."""
    resources = load_resources(fixture.path)
    ctx = fixture_context(fixture, dict(rule.params))
    found: set[tuple[str, int]] = set()
    for hit in evaluate(list(rules or [rule]), resources, ctx):
        finding = hit.finding()
        assert finding.file == str(fixture.path), f"{finding.message}: located in {finding.file}"
        found.add((hit.rule.id, finding.line))
    return found


ALL_FIXTURES = fixtures() if FIXTURES.is_dir() else []


@pytest.mark.parametrize(
    "fixture", ALL_FIXTURES, ids=[f"{f.rule_id}/{f.path.name}" for f in ALL_FIXTURES]
)
def test_fixture(fixture: Fixture, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rule = all_rules().get(fixture.rule_id)
    assert rule is not None, f"{fixture.path.parent.name}: no rule with this id"
    assert fixture.path.name.startswith(("pass.", "fail.")), fixture.path.name
    if isinstance(rule, ReportedRule):
        check_through_cli(fixture, tmp_path, capsys)
        return
    mine = {(r, line) for r, line in fixture.expected if r == rule.id}
    if fixture.passing:
        assert not mine, "a pass fixture must not carry # expect: markers for its rule"
    else:
        assert mine, "a fail fixture needs at least one '# expect: <rule-id>' marker"
    assert found_lines(fixture, rule) == mine


def check_through_cli(fixture: Fixture, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Copy the fixture into a fresh repo and run ``servegate check --select <rule>``."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    if fixture.path.is_dir():
        shutil.copytree(fixture.path, repo, dirs_exist_ok=True)
    else:
        shutil.copyfile(fixture.path, repo / (fixture.path.stem + ".yaml"))
    expected = {
        (rule_id, f.relative_to(repo).as_posix(), line)
        for f in sorted(repo.rglob("*"))
        if f.is_file() and ".git" not in f.parts
        for rule_id, line in markers(f.read_bytes().decode("latin-1"))
        if rule_id == fixture.rule_id
    }
    capsys.readouterr()
    code = main(["check", str(repo), "--format", "json", "--select", fixture.rule_id])
    out = capsys.readouterr().out
    assert code in (0, 1), out
    found = {
        (f["rule"], f["file"], f["line"])
        for f in json.loads(out)["findings"]
        if f["rule"] == fixture.rule_id
    }
    if fixture.passing:
        assert not expected, "a pass fixture must not carry # expect: markers for its rule"
    else:
        assert expected, "a fail fixture needs at least one '# expect: <rule-id>' marker"
    assert found == expected


def test_every_rule_has_fixtures() -> None:
    have: dict[str, set[str]] = {}
    for f in ALL_FIXTURES:
        have.setdefault(f.rule_id, set()).add("pass" if f.passing else "fail")
    lacking = [
        f"{rule.id} (needs {', '.join(sorted({'pass', 'fail'} - have.get(rule.id, set())))})"
        for rule in all_rules().values()
        if rule.family not in PENDING_FAMILIES
        and rule.id not in TESTED_ELSEWHERE
        and have.get(rule.id, set()) != {"pass", "fail"}
    ]
    assert not lacking, "rules without pass and fail fixtures:\n" + "\n".join(lacking)


def test_markers_are_parsed(tmp_path: Path) -> None:
    path = tmp_path / "fail.x.yaml"
    path.write_text(
        "# k8s-version: 1.30\n# pss-level: baseline\nkind: Pod\n"
        "spec:  # expect: pss.a, pss.b\n  x: 1   # expect: pss.a\n",
        encoding="utf-8",
    )
    fixture = parse_fixture("pss.a", path)
    assert fixture.version == (1, 30)
    assert fixture.level is Level.BASELINE
    assert fixture.expected == {("pss.a", 4), ("pss.b", 4), ("pss.a", 5)}


def test_params_and_env_directives(tmp_path: Path) -> None:
    path = tmp_path / "fail.y.yaml"
    path.write_text('# params: {"requireDigest": true}\n# env: prod\nkind: Pod\n', encoding="utf-8")
    fixture = parse_fixture("image.digest", path)
    assert fixture.params == {"requireDigest": True}
    assert fixture.env == "prod"

"""servegate's configuration: the repo's ``servegate.yaml``, policy sets and exemptions.

With no ``servegate.yaml`` (a plain folder of manifests, a pull request of unknown origin) the
strictest policy set, ``restricted``, applies: secure by default.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from servegate.datafiles import data_dir
from servegate.errors import ConfigError
from servegate.model import Finding, Severity
from servegate.rules import matches, problem_rule
from servegate.rules.repo.config_invalid import RULE as CONFIG_INVALID
from servegate.rules.repo.exemption_expired import RULE as EXEMPTION_EXPIRED
from servegate.rules.repo.exemption_invalid import RULE as EXEMPTION_INVALID
from servegate.yamlsafe import load_bytes

CONFIG_NAME = "servegate.yaml"
DEFAULT_POLICY_SET = "restricted"
EXEMPT_ANNOTATION_PREFIX = "servegate.io/exempt."
"""Inline exemption: annotation ``servegate.io/exempt.<rule-id or family>: <reason>``."""


@dataclass(frozen=True, slots=True)
class Exemption:
    """One entry of ``exemptions:``: a rule (or family) for one named resource."""

    rule: str
    kind: str
    name: str
    namespace: str | None
    """None: the named resource in any namespace."""
    reason: str
    expires: dt.date | None
    file: str
    line: int

    def covers(self, rule_id: str, kind: str, name: str, namespace: str | None) -> bool:
        if not matches(rule_id, (self.rule,)) or (self.kind, self.name) != (kind, name):
            return False
        return self.namespace is None or self.namespace == namespace


@dataclass(frozen=True, slots=True)
class PolicySet:
    """Which rules run, at what severity, with what parameters (``policies/<name>.yaml``)."""

    name: str
    pss_level: str
    ignore: tuple[str, ...]
    severity: Mapping[str, Severity]
    params: Mapping[str, Any]
    file: str = ""
    """Where it was read (part of a plan's identity)."""


@dataclass(slots=True)
class Config:
    file: str | None = None
    environments: dict[str, str] = field(default_factory=dict)
    """Overlay dir (relative to the repo root) -> environment profile name."""
    k8s_version: str | None = None
    crds: list[str] = field(default_factory=list)
    policy: dict[str, Any] = field(default_factory=dict)
    exemptions: list[Exemption] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def environment_for(self, rel: str) -> str | None:
        """The profile of an overlay dir or file: exact entry, else the longest entry that is
        a folder above it (``argocd/applications/prod.yaml`` or ``overlays/prod``)."""
        rel = rel.strip("/")
        envs = self.environments
        # dict lookups of rel and each folder above it, longest first: O(depth), not O(entries)
        found = envs.get(rel)
        end = len(rel)
        while found is None and end > 0:
            end = rel.rfind("/", 0, end)
            if end < 0:
                break
            found = envs.get(rel[:end])
        return found if found is not None else envs.get("")


def _load_mapping(path: Path, label: str) -> tuple[dict[str, Any], Any]:
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise ConfigError(f"{path}: cannot read {label}: {err.strerror}") from None
    loaded = load_bytes(raw)
    if loaded.problems:
        p = loaded.problems[0]
        raise ConfigError(f"{path}:{p.line}: {label} is not valid YAML: {p.message}")
    if not loaded.documents:
        return {}, None
    doc = loaded.documents[0]
    if not isinstance(doc.data, dict):
        raise ConfigError(f"{path}:{doc.line}: {label} must be a mapping")
    return doc.data, doc


def load_config(root: Path, path: Path | None, today: dt.date | None = None) -> Config:
    """Read ``servegate.yaml``: the operator's ``path`` (``--config``; a problem with it is a
    ConfigError, exit code 2), else the checked repo's at ``root`` (a missing file is fine; a
    file that is not valid YAML or fails its schema is not applied at all, and is a finding at
    its file and line). An exemption entry that fails its schema is a finding and is not
    applied; the other entries are."""
    explicit = path is not None
    path = path or root / CONFIG_NAME
    if not path.is_file():
        if explicit:
            raise ConfigError(f"config file not found: {path}")
        return Config()
    try:
        rel = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        rel = str(path)
    if explicit:
        data, doc = _load_mapping(path, "servegate.yaml")
    else:
        loaded = _repo_mapping(path, rel)
        if isinstance(loaded, Finding):
            return Config(file=rel, findings=[loaded])
        data, doc = loaded
    errors = _schema_errors(data)
    outside = [(p, m) for p, m in errors if len(p) < 2 or p[0] != "exemptions"]
    if outside:
        where, message = outside[0]
        shown = ".".join(map(str, where)) or "(top level)"
        if explicit:
            raise ConfigError(f"{path}: invalid servegate.yaml at {shown}: {message}")
        line = doc.line_of(tuple(where)) if doc is not None else 1
        text = f"servegate.yaml is not applied: {shown}: {message}"
        return Config(file=rel, findings=[CONFIG_INVALID.finding(text, rel, line)])
    invalid_entries = {int(p[1]): m for p, m in reversed(errors)}
    config = Config(file=rel)
    envs = data.get("environments") or {}
    config.environments = {str(k).strip("/"): str(v) for k, v in envs.items()}
    if data.get("k8sVersion") is not None:
        config.k8s_version = str(data["k8sVersion"])
    config.crds = [str(c) for c in data.get("crds") or []]
    config.policy = dict(data.get("policy") or {})
    today = today or dt.date.today()
    for i, item in enumerate(data.get("exemptions") or []):
        line = doc.line_of(("exemptions", i)) if doc is not None else 1
        if i in invalid_entries:
            message = _entry_problem(item, invalid_entries[i])
            config.findings.append(EXEMPTION_INVALID.finding(message, rel, line))
            continue
        config.exemptions.extend(_exemption(item, rel, line, today, config.findings))
    return config


def _entry_problem(item: Any, schema_message: str) -> str:
    """Why an exemption entry is not applied, in the words a user acts on."""
    rule = item.get("rule") if isinstance(item, dict) else None
    if isinstance(item, dict) and not str(item.get("reason") or "").strip() and rule:
        return f"exemption for {rule} has no reason: say why it is safe"
    if isinstance(item, dict) and ({"kind", "name"} & set(item) or "resource" not in item):
        return (
            f"exemption for {rule or '?'} names no resource: put kind and name under "
            f"'resource:' ({schema_message})"
        )
    return f"exemption not applied: {schema_message}"


def _repo_mapping(path: Path, rel: str) -> tuple[dict[str, Any], Any] | Finding:
    """The checked repo's servegate.yaml as a mapping, or the finding that says why not."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        return CONFIG_INVALID.finding(f"servegate.yaml cannot be read: {err.strerror}", rel, 1)
    loaded = load_bytes(raw)
    if loaded.problems:
        p = loaded.problems[0]
        return problem_rule(p.kind).finding(p.message, rel, p.line)
    if not loaded.documents:
        return {}, None
    doc = loaded.documents[0]
    if not isinstance(doc.data, dict):
        return CONFIG_INVALID.finding("servegate.yaml must be a mapping", rel, doc.line)
    return doc.data, doc


def _schema_errors(data: dict[str, Any]) -> list[tuple[list[str | int], str]]:
    from servegate.ownschemas import errors

    return errors("servegate.schema.json", data)


def _exemption(
    item: dict[str, Any], file: str, line: int, today: dt.date, findings: list[Finding]
) -> list[Exemption]:
    """An exemption entry that passed its schema, unless its reason is blank or it expired."""
    reason = str(item.get("reason") or "").strip()
    if not reason:
        findings.append(
            EXEMPTION_INVALID.finding(
                f"exemption for {item['rule']} has no reason: say why it is safe", file, line
            )
        )
        return []
    expires = item.get("expires")
    date: dt.date | None = None
    if expires is not None:
        try:
            date = dt.date.fromisoformat(str(expires))
        except ValueError:
            findings.append(
                EXEMPTION_INVALID.finding(
                    f"exemption expires {expires!r} is not a YYYY-MM-DD date", file, line
                )
            )
            return []
        if date < today:
            findings.append(
                EXEMPTION_EXPIRED.finding(
                    f"exemption for {item['rule']} expired on {date}; renew it "
                    "with a new reason or fix the finding",
                    file,
                    line,
                )
            )
            return []
    resource: dict[str, Any] = item["resource"]
    return [
        Exemption(
            item["rule"],
            str(resource["kind"]),
            str(resource["name"]),
            resource.get("namespace"),
            reason,
            date,
            file,
            line,
        )
    ]


def load_policy_set(name: str, folders: Sequence[Path] = ()) -> PolicySet:
    """The policy set ``name``: ``<folder>/<name>.yaml`` from the first of ``folders`` that
    has it, else servegate's own."""
    candidates = [folder / f"{name}.yaml" for folder in folders]
    candidates.append(data_dir("policies") / f"{name}.yaml")
    for path in candidates:
        if path.is_file():
            data, _ = _load_mapping(path, "policy set")
            rules = data.get("rules") or {}
            severity: dict[str, Severity] = {}
            for rule_id, value in dict(rules.get("severity") or {}).items():
                try:
                    severity[str(rule_id)] = Severity(value)
                except ValueError:
                    raise ConfigError(
                        f"{path}: severity of {rule_id} is {value!r}: expected error, warning "
                        "or note"
                    ) from None
            return PolicySet(
                name=str(data.get("name", name)),
                pss_level=str(data.get("podSecurity", "restricted")),
                ignore=tuple(rules.get("ignore") or ()),
                severity=severity,
                params=dict(data.get("params") or {}),
                file=str(path),
            )
    raise ConfigError(f"unknown policy set {name!r} (looked in {', '.join(map(str, candidates))})")


def load_profile(name: str, root: Path | None = None) -> dict[str, Any]:
    """An environment profile by name, validated (the repo's ``environments/`` wins)."""
    from servegate.profiles import ProfileError, get

    try:
        return get(name, root).data
    except ProfileError as err:
        raise ConfigError(str(err)) from None

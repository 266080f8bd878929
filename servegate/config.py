"""servegate's configuration: the repo's ``servegate.yaml``, policy sets and exemptions.

With no ``servegate.yaml`` (a plain folder of manifests, a pull request of unknown origin) the
strictest policy set, ``restricted``, applies: secure by default.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from servegate.datafiles import data_dir
from servegate.errors import ConfigError
from servegate.model import Finding
from servegate.rules.repo.exemption_expired import RULE as EXEMPTION_EXPIRED
from servegate.rules.repo.exemption_invalid import RULE as EXEMPTION_INVALID
from servegate.yamlsafe import load_bytes

CONFIG_NAME = "servegate.yaml"
DEFAULT_POLICY_SET = "restricted"
EXEMPT_ANNOTATION_PREFIX = "servegate.io/exempt."
"""Inline exemption: annotation ``servegate.io/exempt.<rule-id or family>: <reason>``."""


@dataclass(frozen=True, slots=True)
class Exemption:
    rule: str
    kind: str | None
    name: str | None
    namespace: str | None
    reason: str
    expires: dt.date | None
    file: str
    line: int

    def covers(self, rule_id: str, kind: str, name: str, namespace: str | None) -> bool:
        if not (rule_id == self.rule or rule_id.startswith(self.rule.rstrip(".") + ".")):
            return False
        if self.kind is not None and self.kind != kind:
            return False
        if self.name is not None and self.name != name:
            return False
        return self.namespace is None or self.namespace == namespace


@dataclass(frozen=True, slots=True)
class PolicySet:
    name: str
    pss_level: str
    ignore: tuple[str, ...]
    severity: Mapping[str, str]
    params: Mapping[str, Any]


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
    """Read ``servegate.yaml`` (``path``, else at ``root``); a missing default file is fine."""
    explicit = path is not None
    path = path or root / CONFIG_NAME
    if not path.is_file():
        if explicit:
            raise ConfigError(f"config file not found: {path}")
        return Config()
    data, doc = _load_mapping(path, "servegate.yaml")
    _validate_against_schema(path, data)
    try:
        rel = path.resolve().relative_to(root).as_posix()
    except ValueError:
        rel = str(path)
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
        config.exemptions.extend(_exemption(item, rel, line, today, config.findings))
    return config


def _validate_against_schema(path: Path, data: dict[str, Any]) -> None:
    from servegate.ownschemas import first_error

    # exemption entries are checked one by one below, as findings rather than a usage error
    error = first_error("servegate.schema.json", data, lambda p: bool(p) and p[0] == "exemptions")
    if error is not None:
        where, message = error
        raise ConfigError(f"{path}: invalid servegate.yaml at {where}: {message}")


def _exemption(
    item: Any, file: str, line: int, today: dt.date, findings: list[Finding]
) -> list[Exemption]:
    if not isinstance(item, dict) or not isinstance(item.get("rule"), str):
        findings.append(
            EXEMPTION_INVALID.finding("an exemption needs at least 'rule' and 'reason'", file, line)
        )
        return []
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
    resource: dict[str, Any] = item["resource"] if isinstance(item.get("resource"), dict) else {}
    return [
        Exemption(
            item["rule"],
            resource.get("kind"),
            resource.get("name"),
            resource.get("namespace"),
            reason,
            date,
            file,
            line,
        )
    ]


def load_policy_set(name: str, root: Path | None = None) -> PolicySet:
    """A policy set by name: the repo's ``policies/<name>.yaml`` first, then servegate's."""
    candidates = [root / "policies" / f"{name}.yaml"] if root else []
    candidates.append(data_dir("policies") / f"{name}.yaml")
    for path in candidates:
        if path.is_file():
            data, _ = _load_mapping(path, "policy set")
            rules = data.get("rules") or {}
            return PolicySet(
                name=str(data.get("name", name)),
                pss_level=str(data.get("podSecurity", "restricted")),
                ignore=tuple(rules.get("ignore") or ()),
                severity=dict(rules.get("severity") or {}),
                params=dict(data.get("params") or {}),
            )
    raise ConfigError(f"unknown policy set {name!r} (looked in {', '.join(map(str, candidates))})")


def load_profile(name: str, root: Path | None = None) -> dict[str, Any]:
    """An environment profile by name, validated (the repo's ``environments/`` wins)."""
    from servegate.profiles import ProfileError, get

    try:
        return get(name, root).data
    except ProfileError as err:
        raise ConfigError(str(err)) from None

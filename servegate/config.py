"""servegate's configuration: the repo's ``servegate.yaml``, policy sets and exemptions.

With no ``servegate.yaml`` (a plain folder of manifests, a pull request of unknown origin) the
strictest policy set, ``restricted``, applies: secure by default.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from servegate.datafiles import data_dir
from servegate.errors import ConfigError
from servegate.model import Finding, Severity
from servegate.rules import matches, problem_rule, unknown_ids
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
    doc: Any = field(default=None, compare=False, repr=False)
    """Its parsed document (``line_of``), for findings about the repo's own sets."""


_GLOB = frozenset("*?[")


@dataclass(slots=True)
class Config:
    file: str | None = None
    folder: str = ""
    """The folder of the file, relative to the repo root ("" for the root's own)."""
    environments: dict[str, str] = field(default_factory=dict)
    """Folder or file (relative to ``folder``; ``*``, ``?`` and ``[...]`` match within one
    path segment) -> environment profile name."""
    k8s_version: str | None = None
    kserve_version: str | None = None
    """``kserveVersion`` (or ``kserve_version``) as written; rules read it as the parameter
    ``kserveVersion``."""
    crds: list[str] = field(default_factory=list)
    policy: dict[str, Any] = field(default_factory=dict)
    exemptions: list[Exemption] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    """Globs (relative to ``folder``) of folders no Application deploys; honoured only when
    the operator asks (``--honor-excludes``)."""
    findings: list[Finding] = field(default_factory=list)
    applied: bool = True
    """False when the file is not valid and none of it applies."""
    lines: dict[str, int] = field(default_factory=dict)
    """Line of each top-level key and of each ``environments`` entry (``environments/<key>``)."""
    _globs: list[tuple[tuple[str, ...], str]] | None = field(default=None, repr=False)

    def line(self, key: str) -> int:
        return self.lines.get(key, 1)

    def environment_entry(self, rel: str) -> tuple[str, str] | None:
        """(entry, profile) of the mapping that covers a repo-relative folder or file: the
        exact entry, else the entry of the nearest folder above it; a literal entry wins over
        a glob at the same depth. None outside this file's folder or when nothing maps it."""
        rel = rel.strip("/")
        if self.folder:
            if rel != self.folder and not rel.startswith(self.folder + "/"):
                return None
            rel = rel[len(self.folder) + 1 :]
        envs = self.environments
        if self._globs is None:
            self._globs = [(tuple(k.split("/")), k) for k in envs if _GLOB.intersection(k)]
        # dict lookups of rel and each folder above it, longest first: O(depth), not O(entries)
        end = len(rel)
        candidate = rel
        while candidate:
            if candidate in envs:
                return candidate, envs[candidate]
            if self._globs:
                parts = candidate.split("/")
                for pattern, key in self._globs:
                    if len(pattern) == len(parts) and all(
                        fnmatchcase(p, g) for p, g in zip(parts, pattern, strict=True)
                    ):
                        return key, envs[key]
            end = rel.rfind("/", 0, end)
            candidate = rel[:end] if end > 0 else ""
        return ("", envs[""]) if "" in envs else None

    def environment_for(self, rel: str) -> str | None:
        """The profile of a repo-relative overlay dir or file (``environment_entry``)."""
        found = self.environment_entry(rel)
        return found[1] if found is not None else None


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


def load_config(
    root: Path, path: Path | None, today: dt.date | None = None, folder: str = ""
) -> Config:
    """Read ``servegate.yaml``: the operator's ``path`` (``--config``; a problem with it is a
    ConfigError, exit code 2), else the checked repo's in ``folder`` below ``root`` (a missing
    file is fine; a file that is not valid YAML or fails its schema is not applied at all, and
    is a finding at its file and line). An exemption entry that fails its schema or names no
    rule of servegate is a finding and is not applied; the other entries are."""
    explicit = path is not None
    path = path or (root / folder / CONFIG_NAME if folder else root / CONFIG_NAME)
    if not path.is_file():
        if explicit:
            raise ConfigError(f"config file not found: {path}")
        return Config(folder=folder)
    try:
        rel = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        rel = str(path)
    if explicit:
        data, doc = _load_mapping(path, "servegate.yaml")
    else:
        loaded = _repo_mapping(path, rel)
        if isinstance(loaded, Finding):
            return Config(file=rel, folder=folder, findings=[loaded], applied=False)
        data, doc = loaded
    errors = _schema_errors(data)
    outside = [(p, m) for p, m in errors if len(p) < 2 or p[0] != "exemptions"]
    if not outside:
        outside = [(["exclude", i], m) for i, m in _bad_globs(data.get("exclude"))]
    if outside:
        where, message = outside[0]
        shown = ".".join(map(str, where)) or "(top level)"
        if explicit:
            raise ConfigError(f"{path}: invalid servegate.yaml at {shown}: {message}")
        line = doc.line_of(tuple(where)) if doc is not None else 1
        text = f"servegate.yaml is not applied: {shown}: {message}"
        invalid = CONFIG_INVALID.finding(text, rel, line)
        return Config(file=rel, folder=folder, findings=[invalid], applied=False)
    invalid_entries = {int(p[1]): m for p, m in reversed(errors)}
    config = Config(file=rel, folder=folder)
    if doc is not None:
        config.lines = {str(k): doc.line_of((k,)) for k in data}
    envs = data.get("environments") or {}
    config.environments = {str(k).strip("/"): str(v) for k, v in envs.items()}
    for k in envs:
        line = doc.line_of(("environments", k)) if doc is not None else 1
        config.lines[f"environments/{str(k).strip('/')}"] = line
    if data.get("k8sVersion") is not None:
        config.k8s_version = str(data["k8sVersion"])
    kserve_version = data.get("kserveVersion", data.get("kserve_version"))
    if kserve_version is not None:
        config.kserve_version = str(kserve_version)
    config.crds = [str(c) for c in data.get("crds") or []]
    config.policy = dict(data.get("policy") or {})
    config.exclude = [str(g).strip("/") for g in data.get("exclude") or []]
    for i in range(len(config.exclude)):
        config.lines[f"exclude/{i}"] = doc.line_of(("exclude", i)) if doc is not None else 1
    today = today or dt.date.today()
    for i, item in enumerate(data.get("exemptions") or []):
        line = doc.line_of(("exemptions", i)) if doc is not None else 1
        if i in invalid_entries:
            message = _entry_problem(item, invalid_entries[i])
            config.findings.append(EXEMPTION_INVALID.finding(message, rel, line))
            continue
        unknown = unknown_ids([str(item["rule"])])
        if unknown:
            message = f"exemption not applied: {unknown[0]}"
            config.findings.append(EXEMPTION_INVALID.finding(message, rel, line))
            continue
        config.exemptions.extend(_exemption(item, rel, line, today, config.findings))
    return config


def _bad_globs(globs: Any) -> list[tuple[int, str]]:
    """(index, why) of each exclude glob that leaves the repo or covers all of it."""
    out = []
    for i, glob in enumerate(globs or []):
        parts = str(glob).strip("/").split("/")
        if ".." in parts or str(glob).startswith("/") or parts in (["*"], ["**"], [""]):
            out.append((i, f"{glob!r} must name folders inside the repo, not all of it"))
    return out


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
    """The operator's policy set ``name``: ``<folder>/<name>.yaml`` from the first of
    ``folders`` that has it, else servegate's own. ConfigError when it is missing, invalid or
    names a rule servegate does not have."""
    candidates = [folder / f"{name}.yaml" for folder in folders]
    candidates.append(data_dir("policies") / f"{name}.yaml")
    for path in candidates:
        if path.is_file():
            data, doc = _load_mapping(path, "policy set")
            problem = _policy_problem(data)
            if problem is not None:
                raise ConfigError(f"{path}: {problem[1]}")
            return _policy_set(name, data, str(path), doc)
    raise ConfigError(f"unknown policy set {name!r} (looked in {', '.join(map(str, candidates))})")


def load_repo_policy_set(root: Path, name: str) -> PolicySet | Finding | None:
    """The checked repo's ``policies/<name>.yaml``: None when it has none, a finding at its
    file and line when it cannot be read, fails its schema or names an unknown rule (then none
    of it applies)."""
    path = root / "policies" / f"{name}.yaml"
    if not path.is_file():
        return None
    rel = f"policies/{name}.yaml"
    loaded = _repo_mapping(path, rel)
    if isinstance(loaded, Finding):
        return loaded
    data, doc = loaded
    problem = _policy_problem(data)
    if problem is not None:
        where, message = problem
        line = doc.line_of(where) if doc is not None else 1
        return CONFIG_INVALID.finding(f"policy set is not applied: {message}", rel, line)
    return _policy_set(name, data, rel, doc)


def _policy_problem(data: dict[str, Any]) -> tuple[tuple[str | int, ...], str] | None:
    """(where, why) a policy set cannot be applied: its schema, then unknown rule ids."""
    from servegate.ownschemas import errors

    found = errors("policy.schema.json", data)
    if found:
        where, message = found[0]
        return tuple(where), f"{'.'.join(map(str, where)) or '(top level)'}: {message}"
    rules = data.get("rules") or {}
    for i, pattern in enumerate(rules.get("ignore") or []):
        for message in unknown_ids([str(pattern)]):
            return ("rules", "ignore", i), f"rules.ignore: {message}"
    for rule_id in rules.get("severity") or {}:
        for message in unknown_ids([str(rule_id)]):
            return ("rules", "severity", rule_id), f"rules.severity: {message}"
    return None


def _policy_set(name: str, data: dict[str, Any], file: str, doc: Any) -> PolicySet:
    rules = data.get("rules") or {}
    return PolicySet(
        name=str(data.get("name", name)),
        pss_level=str(data.get("podSecurity", "restricted")),
        ignore=tuple(str(i) for i in rules.get("ignore") or ()),
        severity={str(k): Severity(v) for k, v in dict(rules.get("severity") or {}).items()},
        params=dict(data.get("params") or {}),
        file=file,
        doc=doc,
    )


def load_profile(name: str, root: Path | None = None) -> dict[str, Any]:
    """An environment profile by name, validated (the repo's ``environments/`` wins)."""
    from servegate.profiles import ProfileError, get

    try:
        return get(name, root).data
    except ProfileError as err:
        raise ConfigError(str(err)) from None

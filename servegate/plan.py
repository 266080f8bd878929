"""The plan: for each unit, once, everything its check depends on besides its own files.

Two layers meet here. The **operator's** (``Operator``: the command line in CI, the plugin's
parameters in Argo CD) says which policy applies: ``--env``, ``--pss-level``,
``--k8s-version``, ``--select``/``--ignore``, and the operator's own policy sets
(``--policies DIR``). The **checked repo's** (``Config``: its ``servegate.yaml``) says which
folder is which environment, tightens policy parameters and records exemptions; servegate
also finds environment profiles and policy sets in the repo's ``environments/`` and
``policies/`` folders. ``Trust`` is what the operator lets the repo's layer relax; the
``Planner`` combines the two layers in one place, ``Planner.plan``.

A ``Plan`` is resolved once per environment and shared by the units of that environment: the
profile, the policy set, the Pod Security level and version, the parameters, the rules that
run, which findings are kept and at what severity (``servegate.exemptions`` applies it to the
findings of the units that use it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from servegate.config import DEFAULT_POLICY_SET, Config, PolicySet, load_policy_set, load_profile
from servegate.errors import ConfigError, UsageError
from servegate.model import CheckOptions, Finding, Severity
from servegate.rules import all_rules, matches
from servegate.rules.base import ChangeRule, Context, Level, ReportedRule, Rule


@dataclass(frozen=True, slots=True)
class Trust:
    """What the operator lets the checked repo's configuration relax.

    Today the repo may do everything servegate has always let it do; issue 12.1 (the trust
    boundary) narrows these and adds the operator's switches. Every place the repo's layer can
    weaken a plan reads one of these fields, in ``Planner``.
    """

    repo_policy_sets: bool = True
    """The repo's ``policies/<name>.yaml`` may define a policy set (its ignores and severities
    then apply)."""
    repo_profiles: bool = True
    """The repo's ``environments/<name>.yaml`` may define an environment profile."""


@dataclass(frozen=True, slots=True)
class Operator:
    """The operator's layer of every plan."""

    env: str | None = None
    """One environment for everything checked (``--env``), over the repo's mapping."""
    pss_level: Level | None = None
    k8s_version: tuple[int, int] | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    policies: Path | None = None
    """The operator's folder of policy sets, used before the repo's and the bundled ones."""

    @classmethod
    def from_options(cls, options: CheckOptions) -> Operator:
        if options.policies is not None and not options.policies.is_dir():
            raise UsageError(f"--policies {options.policies}: not a folder")
        return cls(
            env=options.env,
            pss_level=Level(options.pss_level) if options.pss_level else None,
            k8s_version=parse_k8s_version(options.k8s_version) if options.k8s_version else None,
            select=tuple(options.select),
            ignore=tuple(options.ignore),
            policies=options.policies,
        )


@dataclass(frozen=True, slots=True)
class Plan:
    """What one unit's check depends on besides its files (see the module docstring)."""

    environment: str | None
    profile: Mapping[str, Any]
    policy: PolicySet
    k8s_version: tuple[int, int]
    """The Kubernetes version: schemas, and the Pod Security version the checks apply."""
    pss_level: Level
    params: Mapping[str, Any]
    """Policy parameters: the policy set's, then the repo's ``policy:`` (rule defaults under)."""
    select: tuple[str, ...]
    ignore: tuple[str, ...]
    """The operator's ``--ignore`` and the policy set's ``rules.ignore``."""
    severities: Mapping[str, Severity]
    """The policy set's severity per rule id (other rules keep the registry's)."""
    rules: tuple[Rule, ...]
    """The rules the check runs: selected, of this plan's Pod Security level (CHANGE rules
    run only with ``--base``)."""
    _contexts: dict[str, Context] = field(default_factory=dict, compare=False, repr=False)

    def selects(self, rule: Rule) -> bool:
        """Whether this plan reports ``rule``'s findings."""
        return _selected(rule, self.select, self.ignore)

    @property
    def change_rules(self) -> tuple[ChangeRule, ...]:
        return tuple(r for r in self.rules if isinstance(r, ChangeRule))

    def severity(self, rule: Rule) -> Severity:
        return self.severities.get(rule.id, rule.severity)

    def context(self, rule: Rule) -> Context:
        """What ``rule``'s check may know: this plan, with the rule's default parameters."""
        found = self._contexts.get(rule.id)
        if found is None:
            params = {**rule.params, **self.params}
            found = Context(self.k8s_version, self.pss_level, params, self.profile)
            self._contexts[rule.id] = found
        return found

    @property
    def key(self) -> list[Any]:
        """Everything about this plan a unit's findings depend on (the result memo's key)."""
        return [
            list(self.k8s_version),
            self.environment,
            self.pss_level.value,
            sorted(r.id for r in self.rules),
            list(self.select),
            list(self.ignore),
            self.params,
            self.profile,
        ]


def _selected(rule: Rule, select: Sequence[str], ignore: Sequence[str]) -> bool:
    """Not ignored, and selected (rules reporting input that could not be read are kept
    outside ``--select``: none of the selected rules saw that input)."""
    if matches(rule.id, ignore):
        return False
    if select and not matches(rule.id, select):
        return isinstance(rule, ReportedRule) and rule.input_problem
    return True


def _runs(rule: Rule, select: Sequence[str], ignore: Sequence[str], level: Level) -> bool:
    if isinstance(rule, ReportedRule) or not _selected(rule, select, ignore):
        return False
    return not (rule.level is Level.RESTRICTED and level is Level.BASELINE)


def parse_k8s_version(text: str) -> tuple[int, int]:
    """``"1.33"`` or ``"v1.33"`` -> (1, 33); UsageError unless servegate has its schemas."""
    raw = text.strip().lstrip("v")
    parts = raw.split(".")
    try:
        major, minor = int(parts[0]), int(parts[1])
    except (ValueError, IndexError):
        raise UsageError(f"--k8s-version {text!r}: expected MAJOR.MINOR such as 1.37") from None
    from servegate.schema.validate import supported_versions

    supported = supported_versions()
    if (major, minor) not in supported:
        low, high = supported[0], supported[-1]
        raise UsageError(
            f"--k8s-version {text}: supported versions are {low[0]}.{low[1]} to {high[0]}.{high[1]}"
        )
    return major, minor


class Planner:
    """The plans of one check: one per environment, each resolved on first use."""

    def __init__(
        self, root: Path, operator: Operator, repo: Config, trust: Trust | None = None
    ) -> None:
        self.root = root
        self.operator = operator
        self.repo = repo
        self.trust = trust or Trust()
        if operator.k8s_version is not None:
            self.k8s_version = operator.k8s_version
        elif repo.k8s_version:
            self.k8s_version = parse_k8s_version(repo.k8s_version)
        else:
            from servegate.schema.validate import newest_version

            self.k8s_version = newest_version()
        self._plans: dict[str | None, Plan] = {}
        self._units: dict[str, str | None] = {}
        self._files: dict[str, set[str]] = {}
        self._readers: dict[str, set[str]] | None = None

    def environment_of(self, rel: str) -> str | None:
        """The environment of a folder or file (repo-relative): ``--env``, else the repo's
        mapping."""
        return self.operator.env or self.repo.environment_for(rel)

    def plan(self, environment: str | None) -> Plan:
        """The plan of the units of ``environment`` (None: unknown, the strictest default)."""
        found = self._plans.get(environment)
        if found is None:
            found = self._plans[environment] = self._resolve(environment)
        return found

    def _resolve(self, environment: str | None) -> Plan:
        operator, repo, trust = self.operator, self.repo, self.trust
        repo_root = self.root if trust.repo_profiles else None
        try:
            profile: dict[str, Any] = load_profile(environment, repo_root) if environment else {}
            folders = [f for f in (operator.policies,) if f is not None]
            if trust.repo_policy_sets:
                folders.append(self.root / "policies")
            name = str(profile.get("policySet", DEFAULT_POLICY_SET))
            policy = load_policy_set(name, folders)
        except ConfigError as err:
            raise UsageError(str(err)) from None
        level = operator.pss_level or Level(profile.get("podSecurity") or policy.pss_level)
        ignore = (*operator.ignore, *policy.ignore)
        return Plan(
            environment=environment,
            profile=profile,
            policy=policy,
            k8s_version=self.k8s_version,
            pss_level=level,
            params={**policy.params, **repo.policy},
            select=operator.select,
            ignore=ignore,
            severities=policy.severity,
            rules=tuple(
                r for r in all_rules().values() if _runs(r, operator.select, ignore, level)
            ),
        )

    def register(self, unit: str, environment: str | None, files: Iterable[str] = ()) -> None:
        """Record a unit's environment and the source files it read, for ``plans_for``."""
        self._units[unit] = environment
        if files:
            self._files.setdefault(unit, set()).update(files)
            self._readers = None

    def plans_for(self, finding: Finding) -> list[Plan]:
        """The plans that apply to a finding: its unit's; for a finding about a file of the
        repo (discovery, configuration, YAML), those of every unit that read the file, else
        the plan of the file's environment."""
        if finding.unit:
            return [self.plan(self._units.get(finding.unit))]
        if self._readers is None:
            self._readers = {}
            for unit, files in self._files.items():
                for rel in files:
                    self._readers.setdefault(rel, set()).add(unit)
        readers = self._readers.get(finding.file)
        if not readers:
            return [self.plan(self.environment_of(finding.file))]
        environments = {self._units.get(unit) for unit in readers}
        return [self.plan(env) for env in sorted(environments, key=lambda e: e or "")]

    @property
    def plans(self) -> Sequence[Plan]:
        """The plans resolved so far."""
        return list(self._plans.values())

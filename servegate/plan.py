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
profile, the policy set, the Pod Security level and versions, the parameters (the cluster's
``mesh`` data plane and ``storageInitializer`` among them), the rules that run, which findings
are kept and at what severity (``servegate.exemptions`` applies it to the findings of the units
that use it). Nothing downstream resolves these again: ``servegate.podsecurity`` reads the
level and versions off a rule's context, and judges each pod there and at its Namespace's
labels; ``servegate.podspecs.unit`` reads ``mesh`` and ``storageInitializer`` off its
parameters.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from servegate import trust
from servegate.config import DEFAULT_POLICY_SET, Config, PolicySet, load_policy_set, load_profile
from servegate.errors import ConfigError, UsageError
from servegate.model import Finding, Severity
from servegate.options import CheckOptions
from servegate.podsecurity import Version, profile_version
from servegate.rules import all_rules, matches, unknown_ids
from servegate.rules.base import ChangeRule, Context, Level, PodRule, ReportedRule, Rule


@dataclass(frozen=True, slots=True)
class Trust:
    """What the operator lets the checked repo's layer relax (issue 12.1); all off by default.

    Every place the repo's layer could weaken a plan goes through ``servegate.trust`` in
    ``Planner``, which reads these fields.
    """

    repo_weakening: bool = False
    """The repo's ``policies/``, ``environments/`` and nested ``servegate.yaml`` files apply as
    written, even where they relax the operator's policy (``--allow-repo-weakening``)."""
    plugin_env: bool = False
    """An Application's plugin env may choose the environment, rules and level
    (``allowPluginEnv``; read by ``servegate argocd generate``)."""
    excludes: bool = False
    """The repo's ``exclude:`` globs hide folders (``--honor-excludes``)."""

    @classmethod
    def from_options(cls, options: CheckOptions) -> Trust:
        return cls(
            repo_weakening=options.allow_repo_weakening,
            plugin_env=options.allow_plugin_env,
            excludes=options.honor_excludes,
        )


@dataclass(frozen=True, slots=True)
class Operator:
    """The operator's layer of every plan."""

    env: str | None = None
    """One environment for everything checked (``--env``), over the repo's mapping."""
    pss_level: Level | None = None
    k8s_version: tuple[int, int] | None = None
    kserve_version: str | None = None
    """The KServe release whose CRD schemas apply (``--kserve-version``)."""
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    policies: Path | None = None
    """The operator's folder of policy sets, used before the repo's and the bundled ones."""
    requested_env: str | None = None
    """An environment the checked content asks for (an Application's ``SERVEGATE_ENV``):
    applied like a nested servegate.yaml's mapping, only where it is no weaker."""

    @classmethod
    def from_options(cls, options: CheckOptions) -> Operator:
        if options.policies is not None and not options.policies.is_dir():
            raise UsageError(f"--policies {options.policies}: not a folder")
        for flag, ids in (("--select", options.select), ("--ignore", options.ignore)):
            problems = unknown_ids(ids)
            if problems:
                raise UsageError(f"{flag}: {problems[0]}")
        return cls(
            env=options.env,
            pss_level=Level(options.pss_level) if options.pss_level else None,
            k8s_version=parse_k8s_version(options.k8s_version) if options.k8s_version else None,
            kserve_version=_kserve(options.kserve_version) if options.kserve_version else None,
            select=tuple(options.select),
            ignore=tuple(options.ignore),
            policies=options.policies,
            requested_env=options.requested_env,
        )


@dataclass(frozen=True, slots=True)
class Plan:
    """What one unit's check depends on besides its files (see the module docstring)."""

    environment: str | None
    profile: Mapping[str, Any]
    policy: PolicySet
    k8s_version: tuple[int, int]
    """The Kubernetes version: schemas, and the newest Pod Security version the checks apply."""
    pss_level: Level
    """What the environment requires of every pod: ``--pss-level``, else the profile's
    ``podSecurity``, else the policy set's. A pod whose Namespace enforces more is judged there
    (``servegate.podsecurity``)."""
    params: Mapping[str, Any]
    """Policy parameters: the policy set's, then the repo's ``policy:`` (rule defaults under);
    the facts about the cluster (``mesh``, ``kserveVersion``, ``storageInitializer``) settled
    by ``_cluster_params``."""
    select: tuple[str, ...]
    ignore: tuple[str, ...]
    """The operator's ``--ignore`` and the policy set's ``rules.ignore``."""
    severities: Mapping[str, Severity]
    """The policy set's severity per rule id (other rules keep the registry's)."""
    rules: tuple[Rule, ...]
    """The rules the check runs: selected, and of this plan's Pod Security level, except that
    restricted Pod Security rules also run under baseline (each pod is judged at its own
    Namespace's level); CHANGE rules run only with ``--base``."""
    pss_version: Version | None = None
    """The profile's ``podSecurityVersion``: what a pod whose Namespace is not checked is judged
    at (None: ``latest``, ``k8s_version``)."""
    pss_min_version: Version | None = None
    """The profile's ``podSecurityMinVersion``: the oldest ``enforce-version`` a Namespace of
    the environment may pin (None: any)."""
    _contexts: dict[str, Context] = field(default_factory=dict, compare=False, repr=False)
    dispatched: list[tuple[Plan, Any]] = field(default_factory=list, compare=False, repr=False)
    """This plan's rules as ``servegate.evaluate.dispatch_of`` sorted them: built once, kept
    with the plan that built them (a copy of the plan, which carries the list, never uses it)."""

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
            found = Context(
                self.k8s_version,
                self.pss_level,
                params,
                self.profile,
                self.pss_version,
                self.pss_min_version,
            )
            self._contexts[rule.id] = found
        return found

    @property
    def key(self) -> list[Any]:
        """Everything about this plan a unit's findings depend on (the result memo's key)."""
        return [
            list(self.k8s_version),
            self.environment,
            self.pss_level.value,
            None if self.pss_version is None else list(self.pss_version),
            None if self.pss_min_version is None else list(self.pss_min_version),
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
    """Selected and runnable. A restricted-level Pod Security rule runs under a baseline
    requirement too when it judges pods: a pod whose Namespace enforces restricted is judged by
    it (``servegate.evaluate`` gives each pod its own level)."""
    if isinstance(rule, ReportedRule) or not _selected(rule, select, ignore):
        return False
    if rule.level is Level.RESTRICTED and level is Level.BASELINE:
        return isinstance(rule, PodRule)
    return True


def _kserve(text: str) -> str:
    """A supported KServe version as ``0.M`` (the rules' ``kserveVersion``); UsageError naming
    the supported range otherwise (``servegate.kserve_versions``)."""
    from servegate import kserve_versions
    from servegate.errors import UsageError

    try:
        return kserve_versions.parse(text).label
    except kserve_versions.UnsupportedVersion as err:
        raise UsageError(str(err)) from None


def _cluster_params(
    params: dict[str, Any], profile: Mapping[str, Any], kserve_version: str | None
) -> dict[str, Any]:
    """``params`` with what the rules know of the cluster settled once, for every rule:

    - ``mesh``: the mesh data plane (``istio-cni``, ``ambient``, ``sidecar``, ``none``): the
      parameter (the policy set's, or the repo's ``policy.mesh`` as ``servegate.trust`` merged
      it), else the environment profile's ``mesh``; unset, the rules assume Istio's default
      install (``sidecar``, without CNI);
    - ``kserveVersion``: the operator's ``--kserve-version``, else the repo's ``kserveVersion``
      (``servegate new --kserve-version``), else the policy set's; unset, the rules assume the
      newest KServe servegate knows;
    - ``storageInitializer`` is the parameter as merged: ``restricted`` says the cluster's
      default ClusterStorageContainer is hardened; anything else is KServe's own default.

    ``servegate.podspecs.unit`` (the effective pods) and the rules read these, never the
    profile again.
    """
    from servegate.podspecs.mesh import MESH_MODES

    for value in (params.get("mesh"), profile.get("mesh")):
        if isinstance(value, str) and value in MESH_MODES:
            params["mesh"] = value
            break
    if kserve_version:
        params["kserveVersion"] = kserve_version
    return params


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


def target_k8s_version(operator: tuple[int, int] | None, repo: str | None) -> tuple[int, int]:
    """The Kubernetes version a check targets: the operator's, else the root servegate.yaml's
    ``k8sVersion``, else the newest servegate supports. UsageError for one it does not."""
    if operator is not None:
        return operator
    if repo:
        return parse_k8s_version(repo)
    from servegate.schema.validate import newest_version

    return newest_version()


#: Separates a plan key's environment from the folder of the nested servegate.yaml whose
#: policy it adds (``prod@models/fraud``).
LAYER = "@"


def pss_versions(profile: Mapping[str, Any]) -> tuple[Version | None, Version | None]:
    """The profile's ``podSecurityVersion`` (None: latest) and ``podSecurityMinVersion`` (None:
    any); ValueError for a value admission cannot read (the profile schema rejects it first)."""
    return (
        profile_version(profile.get("podSecurityVersion"), "podSecurityVersion"),
        profile_version(profile.get("podSecurityMinVersion"), "podSecurityMinVersion"),
    )


class Planner:
    """The plans of one check: one per plan key, each resolved on first use.

    A plan key is an environment name (or None: unknown, the strictest default), followed by
    ``@<folder>`` when a ``servegate.yaml`` below the repo root tightens that folder's policy.
    ``environment_of`` gives every folder or file its key; the repo's layer is merged over the
    operator's tighten-only (``servegate.trust``), and what it tried that would relax the
    operator's policy is in ``findings`` (``repo.policy-weakening``), not in any plan.
    """

    def __init__(
        self, root: Path, operator: Operator, repo: Config, trust: Trust | None = None
    ) -> None:
        self.root = root
        self._base = str(root)
        self.operator = operator
        self.repo = repo
        self.trust = trust or Trust()
        self.k8s_version = target_k8s_version(operator.k8s_version, repo.k8s_version)
        # the schemas of the operator's KServe version, else the repo's kserveVersion
        # (servegate.yaml, where the generator writes it), else of the newest
        from servegate.schema.validate import KSERVE_DEFAULT, kserve_schema_version

        self.kserve_version: str = kserve_schema_version(
            operator.kserve_version or repo.kserve_version or KSERVE_DEFAULT
        )
        """The shipped CRD schema set for ``serving.kserve.io`` (``KSERVE_SCHEMAS``)."""
        self._plans: dict[str | None, Plan] = {}
        self._units: dict[str, str | None] = {}
        self._files: dict[str, set[str]] = {}
        self._readers: dict[str, set[str]] | None = None
        self._nested: dict[str, Config | None] = {}
        self._keys: dict[str, str | None] = {}
        self._findings: dict[tuple[str, int, str], Finding] = {}

    # -- the repo's layer ----------------------------------------------------------------

    @property
    def findings(self) -> list[Finding]:
        """What the repo's layer tried that was not applied, and nested files that are not
        valid (each once)."""
        return list(self._findings.values())

    def _report(self, finding: Finding) -> None:
        self._findings.setdefault((finding.file, finding.line, finding.message), finding)

    def weakened(self, file: str, line: int, message: str) -> None:
        """Report what the repo's ``file`` tried at ``line`` that was not applied."""
        from servegate.rules.repo.policy_weakening import RULE as WEAKENING

        self._report(WEAKENING.finding(f"not applied: {message}", file, line))

    def nested_configs(self, rel: str) -> list[Config]:
        """The valid ``servegate.yaml`` files in the folders between the repo root (excluded)
        and ``rel`` (a folder, or a file's folder), shallowest first."""
        parts = [p for p in rel.split("/") if p not in ("", ".")]  # "." is the root's own
        out: list[Config] = []
        for depth in range(1, len(parts) + 1):
            folder = "/".join(parts[:depth])
            if folder not in self._nested:
                self._nested[folder] = self._load_nested(folder)
            found = self._nested[folder]
            if found is not None:
                out.append(found)
        return out

    def _load_nested(self, folder: str) -> Config | None:
        from servegate.config import CONFIG_NAME, load_config

        if not os.path.isfile(os.path.join(self._base, folder, CONFIG_NAME)):
            return None
        nested = load_config(self.root, None, folder=folder)
        for finding in nested.findings:
            self._report(finding)
        if nested.file is None or not nested.applied:
            return None  # not applied at all
        file = nested.file
        for key, what in (("exemptions", "exemptions"), ("exclude", "exclude globs")):
            if getattr(nested, key):
                self.weakened(
                    file, nested.line(key), f"{what} count only in the root servegate.yaml"
                )
        if nested.k8s_version and parse_k8s_version(nested.k8s_version) != self.k8s_version:
            self.weakened(
                file,
                nested.line("k8sVersion"),
                f"k8sVersion {nested.k8s_version} counts only in the root servegate.yaml "
                f"(the check targets {self.k8s_version[0]}.{self.k8s_version[1]})",
            )
        if nested.crds:
            self.weakened(file, nested.line("crds"), "crds count only in the root servegate.yaml")
        return nested

    def environment_of(self, rel: str) -> str | None:
        """The plan key of a repo-relative folder or file: ``--env``, else the root file's
        mapping, which a nested ``servegate.yaml`` may change only to an environment no
        weaker; then ``@<folder>`` of the deepest nested file with a ``policy:``."""
        found = self._keys.get(rel, "")
        if found != "":
            return found
        folder = rel.rsplit("/", 1)[0] if "/" in rel else ""
        nested = self.nested_configs(
            rel if os.path.isdir(os.path.join(self._base, rel)) else folder
        )
        env = self.operator.env or self.repo.environment_for(rel)
        layer = None
        requests: list[tuple[str, str, int]] = []
        for config in nested:
            if config.policy:
                layer = config.folder
            entry = None if self.operator.env else config.environment_entry(rel)
            if entry is not None and config.file is not None:
                line = config.line(f"environments/{entry[0]}")
                requests.append((entry[1], config.file, line))
        if self.operator.requested_env and not self.operator.env:
            requests.append((self.operator.requested_env, "", 0))
        for wanted, file, line in requests:
            if wanted == env:
                continue
            reasons = [] if self.trust.repo_weakening else self.weaker(wanted, env)
            if not reasons:
                env = wanted
                continue
            message = (
                f"{rel} would be {wanted} instead of {env or 'the strictest default'}: "
                + "; ".join(reasons[:2])
            )
            if not file:
                raise UsageError(f"ARGOCD_ENV_SERVEGATE_ENV={wanted}: {message}")
            self.weakened(file, line, message)
        key = f"{env or ''}{LAYER}{layer}" if layer else env
        self._keys[rel] = key
        return key

    def weaker(self, environment: str | None, than: str | None) -> list[str]:
        """How the plan of ``environment`` relaxes the plan of ``than`` (empty: it does not)."""
        a, b = self.plan(environment), self.plan(than)
        out: list[str] = []
        if a.pss_level is Level.BASELINE and b.pss_level is Level.RESTRICTED:
            out.append("Pod Security baseline is below restricted")
        dropped = sorted({r.id for r in b.rules} - {r.id for r in a.rules})
        if dropped:
            out.append(f"{len(dropped)} rule(s) would not run ({', '.join(dropped[:3])})")
        lower = [r.id for r in b.rules if a.severity(r).rank > b.severity(r).rank]
        if lower:
            out.append(f"lower severity of {', '.join(lower[:3])}")
        _, wider = trust.params(b.params, a.params)
        _, softer = trust.profile(b.profile, a.profile)
        out.extend(w.message for w in (*wider, *softer))
        return out

    # -- plans ------------------------------------------------------------------------------

    def plan(self, environment: str | None) -> Plan:
        """The plan of a plan key (``environment_of``; None: the strictest default)."""
        found = self._plans.get(environment)
        if found is None:
            found = self._plans[environment] = self._resolve(environment)
        return found

    def _resolve(self, key: str | None) -> Plan:
        environment, _, layer = (key or "").partition(LAYER)
        base = self._environment_plan(environment or None)
        if not layer:
            return base
        params = dict(base.params)
        for config in self.nested_configs(layer):
            if not config.policy:
                continue
            params, wider = trust.params(params, config.policy, ("policy",))
            for w in wider:
                if self.trust.repo_weakening:
                    params[str(w.where[-1])] = config.policy[str(w.where[-1])]
                    continue
                assert config.file is not None
                self.weakened(config.file, config.line("policy"), w.message)
        return replace(
            base, environment=environment or None, params=params, _contexts={}, dispatched=[]
        )

    def _environment_plan(self, environment: str | None) -> Plan:
        """The operator's reference for ``environment`` with the root file's and the repo's
        profile and policy set merged over it tighten-only."""
        operator, repo = self.operator, self.repo
        allow = self.trust.repo_weakening
        reference, mine = self._profiles(environment)
        profile = dict(reference)
        if mine is not None:
            merged, found = trust.profile(reference, mine.data)
            self._weaken_all(mine.file, mine.doc, found, allow)
            profile = dict(mine.data) if allow else merged
        ref_name = str(reference.get("policySet", DEFAULT_POLICY_SET))
        try:
            folders = [f for f in (operator.policies,) if f is not None]
            reference_set = load_policy_set(ref_name, folders)
            name = str(profile.get("policySet", ref_name))
            chosen = self._repo_set(name) or (
                reference_set if name == ref_name else load_policy_set(name, folders)
            )
        except ConfigError as err:
            raise UsageError(str(err)) from None
        policy = reference_set
        level_name = str(reference.get("podSecurity") or reference_set.pss_level)
        ignore: tuple[str, ...] = reference_set.ignore
        severities: Mapping[str, Severity] = reference_set.severity
        params: dict[str, Any] = dict(reference_set.params)
        if chosen is not reference_set:
            policy = chosen if allow else reference_set
            ids = all_rules()
            defaults = {i: r.severity for i, r in ids.items()}
            found_all: list[trust.Weakening] = []
            lvl, found = trust.level(level_name, chosen.pss_level, ("podSecurity",))
            found_all += found
            kept, found = trust.ignores(ids, reference_set.ignore, chosen.ignore, matches)
            found_all += found
            sev, found = trust.severities(defaults, reference_set.severity, chosen.severity)
            found_all += found
            par, found = trust.params(reference_set.params, chosen.params)
            found_all += found
            if chosen.file.startswith("policies/"):
                self._weaken_all(chosen.file, chosen.doc, found_all, allow)
            elif found_all and not allow:
                assert mine is not None
                self.weakened(
                    mine.file,
                    _line(mine.doc, ("policySet",)),
                    f"policySet {name} relaxes the operator's {ref_name}: "
                    + "; ".join(w.message for w in found_all[:2]),
                )
            if allow:
                level_name, ignore = chosen.pss_level, chosen.ignore
                severities, params = chosen.severity, dict(chosen.params)
            else:
                level_name, ignore, severities, params = lvl, kept, sev, par
        level_name = trust.stronger_level(level_name, str(profile.get("podSecurity") or level_name))
        if repo.policy:
            merged_params, wider = trust.params(params, repo.policy, ("policy",))
            if allow:
                merged_params = {**params, **repo.policy}
            elif repo.file is not None:
                for w in wider:
                    self.weakened(repo.file, repo.line("policy"), w.message)
            params = merged_params
        params = _cluster_params(
            params,
            profile,
            operator.kserve_version
            or (_kserve(repo.kserve_version) if repo.kserve_version else None),
        )
        level = operator.pss_level or Level(level_name)
        ignore = (*operator.ignore, *ignore)
        try:
            version, oldest = pss_versions(profile)
        except ValueError as err:
            raise UsageError(f"environment profile {environment}: {err}") from None
        return Plan(
            environment=environment,
            profile=profile,
            policy=policy,
            k8s_version=self.k8s_version,
            pss_level=level,
            params=params,
            select=operator.select,
            ignore=ignore,
            severities=severities,
            rules=tuple(
                r for r in all_rules().values() if _runs(r, operator.select, ignore, level)
            ),
            pss_version=version,
            pss_min_version=oldest,
        )

    def _profiles(self, environment: str | None) -> tuple[dict[str, Any], Any]:
        """(the operator's profile of ``environment``, else {}; the repo's own, if any)."""
        if not environment:
            return {}, None
        from servegate.profiles import PROFILE_DIR, ProfileError
        from servegate.profiles import load_profile as read_profile

        reference: dict[str, Any] = {}
        with contextlib.suppress(ConfigError):  # none: the repo's own is judged against {}
            reference = load_profile(environment, None)
        path = self.root / PROFILE_DIR / f"{environment}.yaml"
        if not path.is_file():
            if not reference:
                if environment == self.operator.env or self.repo.file is None:
                    load_profile(environment, None)  # the usage error naming the known ones
                self._unknown_profile(environment)
            return reference, None
        try:
            mine = read_profile(path)
        except ProfileError as err:
            from servegate.rules.repo.config_invalid import RULE as CONFIG_INVALID

            rel = f"{PROFILE_DIR}/{environment}.yaml"
            self._report(CONFIG_INVALID.finding(f"profile is not applied: {err}", rel, 1))
            return reference, None
        return reference, _RepoProfile(f"{PROFILE_DIR}/{environment}.yaml", mine.data)

    def _unknown_profile(self, environment: str) -> None:
        """The repo's servegate.yaml maps a folder to a profile nobody has: a finding at the
        mapping (the repo's configuration, not the operator's usage), and the folder gets the
        strictest defaults."""
        from servegate.profiles import available
        from servegate.rules.repo.config_invalid import RULE as CONFIG_INVALID

        assert self.repo.file is not None
        keys = [k for k, v in self.repo.environments.items() if v == environment]
        line = self.repo.line(f"environments/{keys[0].strip('/')}") if keys else 1
        known = ", ".join(sorted(available(self.root))) or "none"
        self._report(
            CONFIG_INVALID.finding(
                f"environment profile {environment!r} is not applied: no such profile "
                f"(known: {known}); the strictest defaults apply",
                self.repo.file,
                line,
            )
        )

    def _repo_set(self, name: str) -> PolicySet | None:
        from servegate.config import load_repo_policy_set

        found = load_repo_policy_set(self.root, name)
        if isinstance(found, Finding):
            self._report(found)
            return None
        return found

    def _weaken_all(
        self, file: str, doc: Any, found: Sequence[trust.Weakening], allow: bool
    ) -> None:
        if allow:
            return
        for w in found:
            self.weakened(file, _line(doc, w.where), w.message)

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


@dataclass(frozen=True, slots=True)
class _RepoProfile:
    """An environment profile of the checked repo."""

    file: str
    data: Mapping[str, Any]
    doc: Any = None


def _line(doc: Any, where: Sequence[str | int]) -> int:
    return doc.line_of(tuple(where)) if doc is not None else 1

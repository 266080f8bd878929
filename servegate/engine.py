"""The check pipeline: discover -> render -> parse -> Resource -> schema -> rules -> exemptions.

This module only orchestrates; each step lives in its own module. It returns a Report and
never prints: the commands and report formats decide what users see.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from servegate.config import (
    DEFAULT_POLICY_SET,
    EXEMPT_ANNOTATION_PREFIX,
    Config,
    PolicySet,
    load_config,
    load_policy_set,
    load_profile,
)
from servegate.discover import YAML_SUFFIXES, Discovery, discover, inside
from servegate.errors import ConfigError, UsageError
from servegate.evaluate import evaluate
from servegate.model import CheckOptions, Finding, Report, Severity, Unit
from servegate.objects import resources
from servegate.origins import origin_for, strip_build_annotations
from servegate.resource import Origin, Resource, ResourceRef, dotted, is_k8s_object
from servegate.results import UnitResult
from servegate.rules import all_rules, matches
from servegate.rules.base import (
    ChangeRule,
    Context,
    Level,
    ReportedRule,
    Rule,
)
from servegate.rules.repo.exemption_invalid import RULE as EXEMPTION_INVALID
from servegate.rules.repo.kustomize_error import RULE as KUSTOMIZE_ERROR
from servegate.rules.schema.cel import RULE as SCHEMA_CEL
from servegate.rules.schema.cel_not_evaluated import RULE as CEL_NOT_EVALUATED
from servegate.rules.schema.invalid import RULE as SCHEMA_INVALID
from servegate.rules.schema.unknown_kind import RULE as UNKNOWN_KIND
from servegate.sources import SourceFiles

if TYPE_CHECKING:
    from servegate.cache import InputHasher
    from servegate.render import Prefetch

#: A check of at most this many roots (pre-commit's) starts kustomize before anything else.
PREFETCH_ROOTS = 4


def parse_k8s_version(text: str) -> tuple[int, int]:
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


def _changed_only(options: CheckOptions) -> Discovery | None:
    """--changed-files on the whole repo: discover only what the files reach (pre-commit)."""
    if options.changed is None or options.base is not None or len(options.paths) != 1:
        return None
    from servegate import changes
    from servegate.discover import discover_changed, find_repo_root

    path = options.paths[0]
    if not path.is_dir():
        return None
    root = (options.root or find_repo_root(path.resolve())).resolve()
    if path.resolve() != root:
        return None
    touched = changes.normalize(root, options.changed)
    if any(f == p or f.startswith(p) for f in touched for p in changes.CONFIG_PREFIXES):
        return None  # a configuration change affects every root: discover them all
    found = discover_changed(root, touched)
    return changes.narrow(found, touched) if found is not None else None


def _narrow(discovery: Discovery, options: CheckOptions) -> Discovery:
    """Diff-aware hook (servegate/changes.py): keep what --base / --changed-files touch."""
    if options.base is None and options.changed is None:
        return discovery
    from servegate import changes

    touched: set[str] = set()
    if options.changed is not None:
        touched |= changes.normalize(discovery.root, options.changed)
    if options.base is not None:
        touched |= changes.changed_since(discovery.root, options.base)
    return changes.narrow(discovery, touched)


def _discover(options: CheckOptions) -> Discovery:
    from servegate.sources import use_parse_cache

    use_parse_cache(options.cache)
    discovery = _changed_only(options) or _narrow(
        discover(list(options.paths), options.root), options
    )
    if options.shard is not None:
        from servegate.shard import select

        discovery = select(discovery, *options.shard)
    return discovery


def _config(discovery: Discovery, options: CheckOptions) -> Config:
    try:
        return load_config(discovery.root, options.config)
    except ConfigError as err:
        raise UsageError(str(err)) from None


def _prefetch(discovery: Discovery, options: CheckOptions, hasher: InputHasher) -> Prefetch | None:
    """For a pre-commit sized check, start kustomize on the roots now, so that it runs while
    the configuration, policies, rules and schemas are loaded."""
    if options.changed is None or not 0 < len(discovery.roots) <= PREFETCH_ROOTS:
        return None
    from servegate.cache import RenderCache
    from servegate.errors import ToolMissing
    from servegate.render import Prefetch

    try:
        return Prefetch(discovery, RenderCache(enabled=options.cache), hasher)
    except ToolMissing:
        return None  # reported by the render step, if anything is left to render


def load_resources(options: CheckOptions) -> tuple[list[Unit], list[Finding]]:
    """Discover and render, without schema or rules: what ``servegate render`` prints."""
    discovery = _discover(options)
    config = _config(discovery, options)
    groups, findings = _load(
        discovery, SourceFiles(discovery.root, discovery.plain_files), config, options
    )
    loaded = [f for g in groups for f in g.findings]
    return groups, [*discovery.findings, *config.findings, *findings, *loaded]


def check(options: CheckOptions) -> Report:
    """Run the whole pipeline. Raises UsageError/ConfigError/ToolMissing (exit code 2)."""
    from servegate.cache import InputHasher

    discovery = _discover(options)
    hasher = InputHasher(discovery.root)  # one per run: each file is digested once
    prefetch = _prefetch(discovery, options, hasher)
    try:
        return _check(discovery, _config(discovery, options), options, prefetch, hasher)
    finally:
        if prefetch is not None:
            prefetch.close()


def _check(
    discovery: Discovery,
    config: Config,
    options: CheckOptions,
    prefetch: Prefetch | None,
    hasher: InputHasher,
) -> Report:
    root = discovery.root
    from servegate.schema.validate import SchemaSet, newest_version

    version_text = options.k8s_version or config.k8s_version
    k8s_version = parse_k8s_version(version_text) if version_text else newest_version()
    crd_dirs = [*options.crds, *(root / c for c in config.crds)]
    for d in crd_dirs:
        if not d.exists():
            raise UsageError(f"--crds {d}: no such file or directory")
    for c in config.crds:
        if not inside(root, root / c):  # the repo's config may not point the checker elsewhere
            raise UsageError(f"{config.file}: crds entry {c!r} leaves the repo root")
    schemas = SchemaSet(k8s_version, crd_dirs)
    sources = SourceFiles(root, discovery.plain_files)
    report = Report(root, shard=discovery.shard)
    raw: list[Finding] = [*discovery.findings, *config.findings]
    checker = _Checker(options, config, root, k8s_version)

    store = None
    hits: dict[str, UnitResult] = {}
    unit_keys: dict[str, str] = {}
    render_keys: dict[str, str] | None = None
    if options.cache:
        from servegate.render import cache_keys

        render_keys = cache_keys(discovery, discovery.roots, hasher)
    if options.reuse_results and render_keys is not None and options.base is None:
        from servegate.results import ResultCache

        store = ResultCache()
        unit_keys = _unit_keys(discovery, config, options, checker, crd_dirs, hasher, render_keys)
        whole_repo = [p.resolve() for p in options.paths] == [discovery.root]
        if whole_repo and options.changed is None and options.shard is None:
            from servegate.discover import remember_path_entries

            remember_path_entries(discovery, hasher)  # for the next --changed-files run
        for unit, key in unit_keys.items():
            found = store.get(key)
            if found is not None:
                hits[unit] = found

    def meanwhile(roots: Sequence[str]) -> None:
        _prepare(roots, discovery, sources, schemas, checker, config, options)

    groups, load_findings = _load(
        discovery, sources, config, options, hits, render_keys, meanwhile, prefetch
    )
    raw.extend(load_findings)
    report.units = groups
    exemptions: dict[ResourceRef, dict[str, str]] = {}
    unreadable = sources.problems
    for group in groups:
        result = _check_group(group, schemas, checker)
        raw.extend(result.findings)
        _merge_exemptions(exemptions, result.exemptions)
        stored_as = unit_keys.get(group.id)
        if (
            store is not None
            and stored_as is not None
            and group.reusable
            and group.files.isdisjoint(unreadable)
        ):
            store.put(stored_as, result)
    for hit in hits.values():
        raw.extend(hit.findings)
        _merge_exemptions(exemptions, hit.exemptions)
    report.resources = sum(len(g.resources) for g in groups) + sum(
        h.resources for h in hits.values()
    )
    report.files = len(sources.names.union(*(h.files for h in hits.values())))
    if options.base is not None:
        from servegate.changes import change_findings

        profiles = {g.environment: checker.policy_for(g.environment)[1] for g in groups}
        raw.extend(change_findings(root, options.base, groups, profiles))
    _finish(report, raw, checker, config, exemptions, options)
    return report


def _prepare(
    roots: Sequence[str],
    discovery: Discovery,
    sources: SourceFiles,
    schemas: Any,
    checker: _Checker,
    config: Config,
    options: CheckOptions,
) -> None:
    """Work the checks of ``roots`` will need, done while kustomize renders them: the rule
    registry, their policies and profiles, and the schemas of the kinds their sources hold."""
    all_rules()
    kinds: set[tuple[str, str]] = set()
    for kdir in roots[:50]:  # enough to cover the kinds of a repo; the rest compile on demand
        checker.policy_for(options.env or config.environment_for(kdir))
        for rel in discovery.inputs(kdir):
            if rel.endswith(YAML_SUFFIXES) and rel in sources.names:
                for doc in sources.load(rel).documents:
                    data = doc.data
                    if isinstance(data, dict):
                        api_version, kind = data.get("apiVersion"), data.get("kind")
                        if isinstance(api_version, str) and isinstance(kind, str):
                            kinds.add((api_version, kind))
    for api_version, kind in sorted(kinds):
        schemas.knows(api_version, kind)


def _check_group(group: Unit, schemas: Any, checker: _Checker) -> UnitResult:
    """Schema, rules and inline exemptions of one group: what the result cache keeps."""
    findings = list(group.findings)
    for resource in group.resources:
        findings.extend(_schema_findings(resource, schemas))
    findings.extend(checker.run(group))
    exemptions = _inline_exemptions(group, findings)
    files = sorted(group.files)
    return UnitResult(findings, exemptions, len(group.resources), files)


def _merge_exemptions(
    into: dict[ResourceRef, dict[str, str]], more: dict[ResourceRef, dict[str, str]]
) -> None:
    for ref, rules in more.items():
        into.setdefault(ref, {}).update(rules)


def _plain_folders(
    discovery: Discovery, config: Config, options: CheckOptions
) -> dict[tuple[str, str], list[str]]:
    """Plain manifests by (folder, environment): deployed, and checked, folder by folder."""
    folders: dict[tuple[str, str], list[str]] = {}
    for rel in discovery.plain_files:
        env = options.env or config.environment_for(rel) or ""
        folders.setdefault((Path(rel).parent.as_posix(), env), []).append(rel)
    return folders


def _unit_keys(
    discovery: Discovery,
    config: Config,
    options: CheckOptions,
    checker: _Checker,
    crd_dirs: Sequence[Path],
    hasher: InputHasher,
    render_keys: dict[str, str],
) -> dict[str, str]:
    """The result cache key of every unit (``render_keys``: those of the roots)."""
    from servegate.results import context_key, tree_digest, unit_key

    crds = tree_digest(crd_dirs) if crd_dirs else ""
    contexts: dict[str | None, str] = {}

    def context(env: str | None) -> str:
        found = contexts.get(env)
        if found is None:
            policy, profile = checker.policy_for(env)
            found = context_key(
                [
                    list(checker.k8s_version),
                    env,
                    options.pss_level,
                    repr(policy),
                    profile,
                    config.policy,
                    sorted(options.select),
                    sorted(options.ignore),
                    crds,
                ]
            )
            contexts[env] = found
        return found

    keys = {
        Unit.root_id(kdir): unit_key(context(options.env or config.environment_for(kdir)), key)
        for kdir, key in render_keys.items()
    }
    for (folder, env), files in _plain_folders(discovery, config, options).items():
        inputs = "".join(f"{rel}\0{hasher.file(rel).hex()}\0" for rel in sorted(files))
        keys[Unit.plain_id(folder, env)] = unit_key(context(env or None), inputs)
    return keys


def _load(
    discovery: Discovery,
    sources: SourceFiles,
    config: Config,
    options: CheckOptions,
    hits: Mapping[str, UnitResult] | None = None,
    render_keys: dict[str, str] | None = None,
    meanwhile: Callable[[Sequence[str]], None] | None = None,
    prefetch: Prefetch | None = None,
) -> tuple[list[Unit], list[Finding]]:
    """Parse, render and group what ``hits`` (units whose results are reused) leave;
    ``meanwhile`` runs while kustomize renders (the roots being rendered)."""
    hits = hits or {}
    findings: list[Finding] = []
    files = set(discovery.yaml_files)
    kustomizations = list(discovery.kustomizations.values())
    if options.changed is not None or options.base is not None or options.shard is not None:
        # narrowed: only what the kept roots read (not every kustomization of the repo)
        kustomizations = list(
            {k.dir: k for r in discovery.roots for k in discovery.closure(r)}.values()
        )
    for k in kustomizations:
        # a missing file is kustomize's to report, with its own message
        files.update(f for f in k.files if (discovery.root / f).exists())
    covered = {f for hit in hits.values() for f in hit.files}  # clean when they were stored
    for rel in sorted(files - covered):
        findings.extend(sources.findings(rel))
    bad_files = sources.problems

    groups: list[Unit] = []
    renderable = []
    for kdir in discovery.roots:
        if Unit.root_id(kdir) in hits:
            continue
        closure = discovery.closure(kdir)
        if any(k.blocked for k in closure) or bad_files.intersection(discovery.inputs(kdir)):
            continue  # the reason is already a finding; rendering would only repeat it
        renderable.append(kdir)
    if renderable:
        from servegate.cache import RenderCache
        from servegate.render import render_all

        with (
            tempfile.TemporaryDirectory(prefix="servegate-") as scratch,
            ThreadPoolExecutor(max_workers=1) as background,
        ):
            job = background.submit(
                render_all,
                discovery.root,
                renderable,
                Path(scratch),
                workers=options.workers,
                progress=options.progress,
                cache=RenderCache(enabled=options.cache),
                discovery=discovery,
                keys=render_keys,
                prefetch=prefetch,
            )
            if meanwhile is not None:
                meanwhile(renderable)  # kustomize runs in other processes: no GIL contention
            rendered = job.result()
        for result in rendered:
            env = options.env or config.environment_for(result.kdir)
            group = Unit(Unit.root_id(result.kdir), result.kdir, env)
            group.files = files.intersection(discovery.inputs(result.kdir))
            groups.append(group)
            kfile = discovery.kustomizations[result.kdir].file
            if result.output is None:
                group.reusable = not result.error_is_transient
                group.findings.append(result.rule.finding(result.message, kfile, 1))
                continue
            group.resources.extend(
                _rendered_resources(
                    result.output,
                    result.wrapper,
                    result.kdir,
                    discovery,
                    sources,
                    group.findings,
                    kfile,
                    result.objects,
                )
            )
            group.files.update(r.origin.file for r in group.resources)
    for (folder, env), rels in sorted(_plain_folders(discovery, config, options).items()):
        unit = Unit.plain_id(folder, env)
        if unit in hits:
            continue
        group = Unit(unit, folder, env or None, files=set(rels))
        for rel in rels:
            for doc in sources.load(rel).documents:
                group.resources.extend(resources(doc.data, Origin(rel, doc)))
        if group.resources:
            groups.append(group)
    return groups, findings


def _rendered_resources(
    output: str,
    wrapper: str,
    kdir: str,
    discovery: Discovery,
    sources: SourceFiles,
    findings: list[Finding],
    kfile: str,
    objects: list[Any] | None = None,
) -> Iterator[Resource]:
    import yaml

    from servegate.yamlsafe import load_plain

    try:
        # already parsed by the render step (or read back from the cache as JSON)
        bodies = objects if objects is not None else load_plain(output)
    except yaml.YAMLError as err:
        findings.append(
            KUSTOMIZE_ERROR.finding(
                f"kustomize output is not YAML: {str(err).splitlines()[0]}", kfile, 1
            )
        )
        return
    for body in bodies:
        if not is_k8s_object(body):
            continue
        origin_path = strip_build_annotations(body)
        yield from resources(body, origin_for(body, origin_path, wrapper, kdir, discovery, sources))


def _schema_findings(resource: Resource, schemas: Any) -> Iterator[Finding]:
    verdict = schemas.check(resource.body)
    if verdict is None:
        file, line = resource.locate(())
        yield UNKNOWN_KIND.finding(
            f"no schema for {resource.api_version} {resource.kind}: not validated "
            "(add its CRD with --crds)",
            file,
            line,
            resource.ref,
        )
        return
    for rule, errors in (
        (SCHEMA_INVALID, verdict.errors),
        (SCHEMA_CEL, verdict.rules),
        (CEL_NOT_EVALUATED, verdict.unsupported),
    ):
        for path, message in errors:
            file, line = resource.locate(tuple(path))
            yield rule.finding(message, file, line, resource.ref, dotted(tuple(path)) or None)


class _Checker:
    """Runs the selected rules over a group, with the context of its environment."""

    def __init__(
        self, options: CheckOptions, config: Config, root: Path, k8s_version: tuple[int, int]
    ) -> None:
        self.options = options
        self.config = config
        self.root = root
        self.k8s_version = k8s_version
        self.policies: dict[str | None, tuple[PolicySet, dict[str, Any]]] = {}

    def policy_for(self, environment: str | None) -> tuple[PolicySet, dict[str, Any]]:
        cached = self.policies.get(environment)
        if cached is None:
            profile: dict[str, Any] = {}
            try:
                if environment:
                    profile = load_profile(environment, self.root)
                policy = load_policy_set(
                    str(profile.get("policySet", DEFAULT_POLICY_SET)), self.root
                )
            except ConfigError as err:
                raise UsageError(str(err)) from None
            cached = (policy, profile)
            self.policies[environment] = cached
        return cached

    def enabled(self, rule: Rule, policy: PolicySet, level: Level) -> bool:
        if isinstance(rule, ReportedRule | ChangeRule):
            return False
        if self.options.select and not matches(rule.id, list(self.options.select)):
            return False
        if matches(rule.id, [*self.options.ignore, *policy.ignore]):
            return False
        return not (rule.level is Level.RESTRICTED and level is Level.BASELINE)

    def run(self, group: Unit) -> Iterator[Finding]:
        policy, profile = self.policy_for(group.environment)
        level = Level(self.options.pss_level or profile.get("podSecurity") or policy.pss_level)
        rules = [r for r in all_rules().values() if self.enabled(r, policy, level)]
        params = {**policy.params, **self.config.policy}
        contexts = {
            r.id: Context(self.k8s_version, level, {**r.params, **params}, profile) for r in rules
        }
        for hit in evaluate(rules, group.resources, lambda r: contexts[r.id]):
            yield hit.finding()


def _finish(
    report: Report,
    raw: list[Finding],
    checker: _Checker,
    config: Config,
    annotations: dict[ResourceRef, dict[str, str]],
    options: CheckOptions,
) -> None:
    rules = all_rules()
    seen: set[Finding] = set()
    for finding in raw:
        if finding in seen:
            continue  # a base checked through several overlays reports once per source line
        seen.add(finding)
        if not _selected(finding.rule, options):
            continue
        rule = rules.get(finding.rule)
        severity = finding.severity
        if rule is not None:
            severity = rule.severity
        override = _severity_override(finding.rule, checker)
        if override is not None:
            severity = override
        finding = _replace(finding, severity=severity)
        reason = _exemption_reason(finding, config, annotations)
        if reason is not None:
            report.suppressed.append(_replace(finding, suppressed=reason))
        else:
            report.findings.append(finding)
    report.findings.sort(key=Finding.sort_key)
    report.suppressed.sort(key=Finding.sort_key)


def _selected(rule_id: str, options: CheckOptions) -> bool:
    if options.ignore and matches(rule_id, list(options.ignore)):
        return False
    if options.select and not matches(rule_id, list(options.select)):
        rule = all_rules().get(rule_id)
        return isinstance(rule, ReportedRule) and rule.input_problem
    return True


def _severity_override(rule_id: str, checker: _Checker) -> Severity | None:
    for policy, _ in checker.policies.values():
        value = policy.severity.get(rule_id)
        if value:
            return Severity(value)
    return None


def _replace(finding: Finding, **changes: Any) -> Finding:
    from dataclasses import replace

    return replace(finding, **changes)


def _inline_exemptions(group: Unit, raw: list[Finding]) -> dict[ResourceRef, dict[str, str]]:
    """Exemption annotations by resource; one without a reason is itself a finding."""
    found: dict[ResourceRef, dict[str, str]] = {}
    for resource in group.resources:
        for key, value in resource.annotations.items():
            if not str(key).startswith(EXEMPT_ANNOTATION_PREFIX):
                continue
            rule_id = str(key)[len(EXEMPT_ANNOTATION_PREFIX) :]
            reason = str(value or "").strip()
            if not reason:
                file, line = resource.locate(("metadata", "annotations", key))
                raw.append(
                    EXEMPTION_INVALID.finding(
                        f"inline exemption for {rule_id} has no reason", file, line, resource.ref
                    )
                )
                continue
            found.setdefault(resource.ref, {})[rule_id] = reason
    return found


def _exemption_reason(
    finding: Finding, config: Config, annotations: dict[ResourceRef, dict[str, str]]
) -> str | None:
    ref = finding.resource
    if ref is None:
        return None
    for rule_id, reason in annotations.get(ref, {}).items():
        if matches(finding.rule, [rule_id]):
            return reason
    for exemption in config.exemptions:
        if exemption.covers(finding.rule, ref.kind, ref.name, ref.namespace):
            return exemption.reason
    return None

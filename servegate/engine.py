"""The check pipeline, orchestration only: scope -> plan -> memo -> load -> evaluate -> finish.

``servegate.scope`` decides what is checked, ``servegate.plan`` resolves each unit's plan,
the result memo returns the findings of units whose inputs and plan are unchanged,
``servegate.load`` renders and reads the others, ``servegate.evaluate`` checks them, and
``servegate.exemptions`` applies each unit's plan and the exemptions to the findings. It
returns a Report and never prints: the commands and report formats decide what users see.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from servegate import crossunit
from servegate import load as loading
from servegate.config import Config, load_config
from servegate.deployed import attribute, is_app_unit
from servegate.discover import YAML_SUFFIXES, Discovery, inside
from servegate.errors import ConfigError, UsageError
from servegate.exemptions import finish
from servegate.memo import Memo
from servegate.model import Finding, Report, Unit, UnitResult
from servegate.operatorconfig import resolve as operator_options
from servegate.options import CheckOptions
from servegate.plan import Operator, Planner, Trust
from servegate.resource import Resource
from servegate.scope import discover_scope
from servegate.sources import SourceFiles

if TYPE_CHECKING:
    from servegate.memo.results import ResultMemo
    from servegate.render import Prefetch
    from servegate.schema.build import CRDError
    from servegate.schema.validate import SchemaSet


def load_resources(options: CheckOptions) -> tuple[list[Unit], list[Finding]]:
    """Discover and render, without schema or rules: what ``servegate render`` prints."""
    with _collector_paused():
        return _load_resources(operator_options(options))


def _load_resources(options: CheckOptions) -> tuple[list[Unit], list[Finding]]:
    memo = _memo(options)
    discovery = discover_scope(options, memo)
    config = _config(discovery, options)
    planner = _planner(discovery, options, config)
    sources = SourceFiles(discovery.root, discovery.plain_files, memo)
    units, findings = loading.load(discovery, sources, planner, options, memo)
    memo.save()
    loaded = [f for u in units for f in u.findings]
    return units, [*discovery.findings, *config.findings, *findings, *loaded, *planner.findings]


def check(options: CheckOptions) -> Report:
    """Run the whole pipeline. Raises UsageError/ConfigError/ToolMissing (exit code 2)."""
    options = operator_options(options)
    with _collector_paused():
        memo = _memo(options)
        discovery = discover_scope(options, memo)
        prefetch = loading.prefetch(discovery, options, memo)
        try:
            return _check(discovery, options, prefetch, memo)
        finally:
            if prefetch is not None:
                prefetch.close()
            memo.save()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """CPython's cyclic garbage collector off for one run; reference counting still frees
    everything that is not in a reference cycle, which is nearly everything a run frees.

    A run builds millions of objects that live to its end (parsed files, rendered objects,
    effective pods) and leaves almost none in unreachable cycles (about 4,000 on the M=300 bench
    repo, with the same peak memory either way); with the collector on, its generational
    heuristic traverses the whole growing heap about six times, a sixth of the run. The
    collector is turned back on (and collects those cycles later) when the run ends.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            # what the run allocated goes to the oldest generation, as its long-lived objects
            # would have: the next young collection does not traverse them all
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def _memo(options: CheckOptions) -> Memo:
    """One memo for the run (``--no-cache``: off, nothing read or written)."""
    return Memo.default() if options.cache else Memo.off()


def _planner(discovery: Discovery, options: CheckOptions, config: Config) -> Planner:
    """The plans of this check: the operator's layer, and the repo's as far as it may go."""
    return Planner(
        discovery.root, Operator.from_options(options), config, Trust.from_options(options)
    )


def _excluded(
    discovery: Discovery, planner: Planner, options: CheckOptions, config: Config
) -> tuple[Discovery, list[Finding]]:
    """The root servegate.yaml's ``exclude:`` globs, when the operator honours them: the
    discovery without what they hide, and a suppressed note listing each hidden unit."""
    if not planner.trust.excludes or not config.exclude or config.file is None:
        return discovery, []
    from servegate.scope import excluded, normalize

    given = sorted(normalize(discovery.root, options.paths))
    globs = [(g, config.line(f"exclude/{i}")) for i, g in enumerate(config.exclude)]
    return excluded(discovery, globs, config.file, given)


def _config(discovery: Discovery, options: CheckOptions) -> Config:
    try:
        return load_config(discovery.root, options.config)
    except ConfigError as err:
        raise UsageError(str(err)) from None


def _crd_dirs(root: Path, config: Config, options: CheckOptions) -> list[Path]:
    """The operator's ``--crds`` (missing: a usage error), then the root servegate.yaml's
    ``crds:`` entries that exist in the repo; an entry that is missing or leads out of the repo
    is a ``repo.config-invalid`` finding in ``config.findings``, and is not read."""
    from servegate.rules.repo.config_invalid import RULE as CONFIG_INVALID

    for d in options.crds:
        if not d.exists():
            raise UsageError(f"--crds {d}: no such file or directory")
    repo: list[Path] = []
    for c in config.crds:
        if not inside(root, root / c):  # the repo's config may not point the checker elsewhere
            problem = f"crds entry {c!r} leaves the repo root: not read"
        elif not (root / c).exists():
            problem = f"crds entry {c!r}: no such file or directory"
        else:
            repo.append(root / c)
            continue
        config.findings.append(
            CONFIG_INVALID.finding(problem, config.file or "servegate.yaml", config.line("crds"))
        )
    return [*options.crds, *repo]


def _repo_crd_finding(root: Path, config: Config, err: CRDError) -> Finding:
    """``repo.config-invalid`` for a repo CRD servegate cannot use, at its file and line
    (else at servegate.yaml's ``crds:``)."""
    from servegate.rules.repo.config_invalid import RULE as CONFIG_INVALID

    message = f"the repo's CRDs are not applied: {err}"
    if err.file is not None:
        rel = os.path.relpath(err.file, root)
        if rel != ".." and not rel.startswith("../"):
            message = message.replace(str(err.file), rel)
            return CONFIG_INVALID.finding(message, Path(rel).as_posix(), err.line)
    return CONFIG_INVALID.finding(message, config.file or "servegate.yaml", config.line("crds"))


def _check(
    discovery: Discovery,
    options: CheckOptions,
    prefetch: Prefetch | None,
    memo: Memo,
) -> Report:
    from servegate.schema.validate import SchemaSet

    root = discovery.root
    config = _config(discovery, options)
    planner = _planner(discovery, options, config)
    discovery, hidden = _excluded(discovery, planner, options, config)
    crd_dirs = _crd_dirs(root, config, options)
    schemas = SchemaSet(
        planner.k8s_version,
        crd_dirs[: len(options.crds)],
        planner.kserve_version,
        repo_crd_dirs=crd_dirs[len(options.crds) :],
        repo_may_replace=options.allow_repo_weakening,
        repo_root=root,
    )
    if schemas.repo_crd_error is not None:
        config.findings.append(_repo_crd_finding(root, config, schemas.repo_crd_error))
    if schemas.shadowed and config.file is not None:
        shown = ", ".join(schemas.shadowed[:3]) + (" ..." if len(schemas.shadowed) > 3 else "")
        planner.weakened(
            config.file, config.line("crds"), f"crds would replace servegate's schema of {shown}"
        )
    sources = SourceFiles(root, discovery.plain_files, memo)
    environments = loading.unit_environments(discovery, planner)
    for unit_id, environment in environments.items():
        planner.register(unit_id, environment)

    results: ResultMemo | None = None
    hits: dict[str, UnitResult] = {}
    unit_keys: dict[str, str] = {}
    render_keys: dict[str, str] | None = None
    if memo.enabled:
        from servegate.render import render_keys as keys_of_renders

        render_keys = keys_of_renders(discovery, discovery.roots, memo)
    if options.reuse_results and render_keys is not None and options.base is None:
        from servegate.memo.results import ResultMemo
        from servegate.memo.results import unit_keys as keys_of_units

        results = ResultMemo(memo)
        hasher = memo.hasher(root)
        unit_keys = keys_of_units(discovery, planner, environments, crd_dirs, hasher, render_keys)
        if _whole_repo(options, discovery) and not hidden:
            from servegate.discover import remember_path_entries

            remember_path_entries(discovery, memo)  # for the next --changed-files run
        for unit_id, key in unit_keys.items():
            found = results.get(key)
            if found is not None:
                hits[unit_id] = found

    def meanwhile(roots: Sequence[str]) -> None:
        _prepare(roots, discovery, sources, schemas, planner)

    from servegate.fanout import Evaluations

    evaluations = Evaluations(planner, schemas, sources, options.jobs)
    units, load_findings = loading.load(
        discovery,
        sources,
        planner,
        options,
        memo,
        skip=hits,
        covered={f for hit in hits.values() for f in hit.files},
        render_keys=render_keys,
        meanwhile=meanwhile,
        prefetch=prefetch,
        each=evaluations.add,
    )
    evaluated = evaluations.results()

    def reload(ids: set[str]) -> list[Unit]:
        skip = set(environments).difference(ids)
        more, _ = loading.load(
            discovery, sources, planner, options, memo, skip=skip, render_keys=render_keys
        )
        return [u for u in more if u.id in ids]

    _share_runtimes(units, evaluated, hits, unit_keys, planner, schemas, reload)
    raw: list[Finding] = [*discovery.findings, *config.findings, *load_findings, *hidden]
    unreadable = sources.problems
    deployed: list[tuple[Unit, list[Finding]]] = []
    for unit, result in zip(units, evaluated, strict=True):
        planner.register(unit.id, unit.environment, result.files)
        if is_app_unit(unit):
            deployed.append((unit, result.findings))  # named after the Application below
        else:
            raw.extend(result.findings)
        stored_as = unit_keys.get(unit.id)
        if (
            results is not None
            and stored_as is not None
            and unit.reusable
            and unit.files.isdisjoint(unreadable)
        ):
            results.put(stored_as, result)
    for unit_id, hit in hits.items():
        planner.register(unit_id, environments[unit_id], hit.files)
        raw.extend(hit.findings)
    _register_unrendered(planner, discovery, environments, {u.id for u in units} | set(hits))
    raw.extend(attribute(deployed, raw))
    raw = _cluster_settled(raw, units, evaluated, environments, hits)
    if options.base is not None:
        from servegate.changes import change_findings

        raw.extend(change_findings(root, options.base, units, planner))
    report = Report(root, units=units, shard=discovery.shard)
    report.resources = sum(len(u.resources) for u in units) + sum(
        h.resources for h in hits.values()
    )
    report.files = len(sources.names.union(*(h.files for h in hits.values())))
    matcher = None
    if options.baseline is not None:
        from servegate.baseline import Matcher

        matcher = Matcher(options.baseline, root, _whole_repo(options, discovery) and not hidden)
    raw.extend(_settled(planner, raw))
    report.findings, report.suppressed = finish(raw, planner.plans_for, config.exemptions, matcher)
    report.baseline = matcher.use() if matcher is not None else None
    return report


def _register_unrendered(
    planner: Planner,
    discovery: Discovery,
    environments: Mapping[str, str | None],
    loaded: set[str],
) -> None:
    """The files of each root that was not rendered (a YAML problem or a refused reference in
    what it reads), as readers for ``Planner.plans_for``: a finding about a file only the dev
    overlay reads is judged by dev's plan, one a prod overlay reads too by both."""
    for kdir in discovery.roots:
        unit_id = Unit.root_id(kdir)
        if unit_id not in loaded and unit_id in environments:
            planner.register(unit_id, environments[unit_id], discovery.inputs(kdir))


def _cluster_settled(
    raw: list[Finding],
    units: Sequence[Unit],
    evaluated: Sequence[UnitResult],
    environments: Mapping[str, str | None],
    hits: Mapping[str, UnitResult],
) -> list[Finding]:
    """``raw`` without the findings another unit of the same environment voids
    (``servegate.clusterfacts``: a STRICT mesh-wide PeerAuthentication deployed elsewhere)."""
    if not any(f.unless is not None for f in raw):
        return raw
    from servegate.clusterfacts import settle

    facts = {unit.id: result.facts for unit, result in zip(units, evaluated, strict=True)}
    facts.update((unit_id, hit.facts) for unit_id, hit in hits.items())
    environment = {**environments, **{unit.id: unit.environment for unit in units}}
    return settle(raw, facts, environment.get)


def _share_runtimes(
    units: list[Unit],
    evaluated: list[UnitResult],
    hits: dict[str, UnitResult],
    keys: Mapping[str, str],
    planner: Planner,
    schemas: SchemaSet,
    reload: Callable[[set[str]], list[Unit]],
) -> None:
    """Evaluate again, with the runtimes and Namespaces of the check's other units they can
    see (``servegate.crossunit``), the units that were judged without them: units evaluated in
    this run, and stored results whose foreign objects changed (loaded again, with the stored
    units that hold those objects). Nothing happens unless a unit depends on another's.
    Updates ``units``, ``evaluated`` and ``hits`` in place."""
    from servegate.evaluate import evaluate_unit

    every = [*((u.id, r) for u, r in zip(units, evaluated, strict=True)), *hits.items()]
    provided = [
        crossunit.Provided(unit_id, keys.get(unit_id, ""), body)
        for unit_id, result in every
        for body in result.runtimes
    ]
    if not provided:
        return
    index = crossunit.Index(provided)
    todo: dict[str, list[crossunit.Provided]] = {}
    for unit_id, result in every:
        seen = index.foreign(unit_id, result.asks, result.uses, result.runtimes)
        if crossunit.digest(seen) != result.depends:
            todo[unit_id] = seen
    if not todo:
        return
    wanted = {p.unit for seen in todo.values() for p in seen} | set(todo)
    stale = {unit_id for unit_id in wanted if unit_id in hits}
    if stale:
        for unit in reload(stale):
            if unit.id in todo:  # judged again below; a provider's stored result stays
                del hits[unit.id]
                units.append(unit)
                evaluated.append(UnitResult())
            else:
                units.append(unit)
                evaluated.append(hits.pop(unit.id))
    live: dict[tuple[str, tuple[str, str, str]], Resource] = {}
    for unit in units:
        for r in unit.resources:
            if crossunit.provides(r):
                stored = schemas.stored(r.body)
                body = stored if stored is not None else r.body
                live[(unit.id, crossunit.ident(body))] = replace(r, body=body)
    for i, unit in enumerate(units):
        wants = todo.get(unit.id)
        if wants is None:
            continue
        used = [p for p in wants if (p.unit, p.ident) in live]
        foreign = [live[(p.unit, p.ident)] for p in used]
        result = evaluate_unit(unit, planner.plan(unit.environment), schemas, foreign)
        result.depends = crossunit.digest(used)
        evaluated[i] = result


def _whole_repo(options: CheckOptions, discovery: Discovery) -> bool:
    """Whether this run checks the whole repo (not narrowed by paths, files, shard or base)."""
    return (
        options.changed is None
        and options.shard is None
        and options.base is None
        and [p.resolve() for p in options.paths] == [discovery.root]
    )


def _settled(planner: Planner, raw: Sequence[Finding]) -> list[Finding]:
    """The repo-layer findings of every plan the findings will be judged by (resolving a plan
    may report what the repo tried that was not applied)."""
    for finding in raw:
        planner.plans_for(finding)
    found = planner.findings
    for finding in found:
        planner.plans_for(finding)
    return planner.findings


def _prepare(
    roots: Sequence[str],
    discovery: Discovery,
    sources: SourceFiles,
    schemas: SchemaSet,
    planner: Planner,
) -> None:
    """Work the checks of ``roots`` will need, done while kustomize renders them: the rule
    registry, their plans, and the schemas of the kinds their sources hold."""
    kinds: set[tuple[str, str]] = set()
    for kdir in roots[:50]:  # enough to cover the kinds of a repo; the rest compile on demand
        planner.plan(planner.environment_of(kdir)).rules  # noqa: B018  # resolve it now
        for rel in discovery.inputs(kdir):
            if rel.endswith(YAML_SUFFIXES) and sources.loaded(rel):
                for doc in sources.load(rel).documents:
                    data = doc.data
                    if isinstance(data, dict):
                        api_version, kind = data.get("apiVersion"), data.get("kind")
                        if isinstance(api_version, str) and isinstance(kind, str):
                            kinds.add((api_version, kind))
    for api_version, kind in sorted(kinds):
        schemas.knows(api_version, kind)

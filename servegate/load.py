"""Load the units of a check: render each kustomize root, read each folder of plain manifests,
and turn what comes back into Resources that know their source file and line.

A unit is what is deployed together: one kustomize root (``root:<dir>``), the plain YAML
files of one folder in one environment (``plain:<folder>:<environment>``), as Argo CD deploys
a directory, or what one of the repo's Argo CD Applications deploys beyond those, as Argo CD
renders it (``app:...``, ``chart:<dir>``: ``servegate.deployed``). Rendering runs in other
processes (``servegate.render``), so ``meanwhile`` lets the caller prepare its checks while
kustomize works.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from servegate.discover import Discovery
from servegate.model import Finding, Unit
from servegate.objects import resources
from servegate.options import CheckOptions
from servegate.origins import origin_for, take_build_origin
from servegate.patched_apps import patched
from servegate.provenance import Tracer
from servegate.resource import Origin, Resource, is_k8s_object
from servegate.rules.repo.kustomize_error import RULE as KUSTOMIZE_ERROR
from servegate.sources import SourceFiles

if TYPE_CHECKING:
    from servegate.memo import Memo
    from servegate.plan import Planner
    from servegate.render import Budget, Prefetch, Rendered

#: A check of at most this many roots (pre-commit's) starts kustomize before anything else.
PREFETCH_ROOTS = 4


def unit_environments(discovery: Discovery, planner: Planner) -> dict[str, str | None]:
    """Every unit of ``discovery`` by id, with its environment."""
    units: dict[str, str | None] = {
        Unit.root_id(kdir): planner.environment_of(kdir) for kdir in discovery.roots
    }
    for folder, env in plain_folders(discovery, planner):
        units[Unit.plain_id(folder, env)] = env
    return units


def plain_folders(
    discovery: Discovery, planner: Planner
) -> dict[tuple[str, str | None], list[str]]:
    """Plain manifests by (folder, environment): deployed, and checked, folder by folder."""
    folders: dict[tuple[str, str | None], list[str]] = {}
    for rel in discovery.plain_files:
        env = planner.environment_of(rel) or None
        folder = rel.rpartition("/")[0] or "."
        folders.setdefault((folder, env), []).append(rel)
    return folders


def prefetch(discovery: Discovery, options: CheckOptions, memo: Memo) -> Prefetch | None:
    """For a pre-commit sized check, start kustomize on the roots now, so that it runs while
    the configuration, policies, rules and schemas are loaded."""
    if options.changed is None or not 0 < len(discovery.roots) <= PREFETCH_ROOTS:
        return None
    from servegate.errors import ToolMissing
    from servegate.render import Prefetch

    try:
        return Prefetch(discovery, memo)
    except ToolMissing:
        return None  # reported by the render step, if anything is left to render


def load(
    discovery: Discovery,
    sources: SourceFiles,
    planner: Planner,
    options: CheckOptions,
    memo: Memo,
    skip: Collection[str] = (),
    covered: Collection[str] = (),
    render_keys: dict[str, str] | None = None,
    meanwhile: Callable[[Sequence[str]], None] | None = None,
    prefetch: Prefetch | None = None,
    each: Callable[[Unit], None] | None = None,
) -> tuple[list[Unit], list[Finding]]:
    """The units of ``discovery`` except those in ``skip`` (ids of units whose findings are
    reused), and the yaml.* findings of every file in scope except ``covered`` (files of the
    reused units, clean when they were stored). ``each`` is called with every unit as soon
    as it is loaded, in the order of the list: a root's while kustomize renders later roots."""
    findings: list[Finding] = []
    files = set(discovery.yaml_files)
    kustomizations = list(discovery.kustomizations.values())
    if options.changed is not None or options.base is not None or options.shard is not None:
        # narrowed: only what the kept roots read (not every kustomization of the repo)
        kustomizations = list(
            {k.dir: k for r in discovery.roots for k in discovery.closure(r)}.values()
        )
    base = str(discovery.root)
    for k in kustomizations:
        # a missing file is kustomize's to report, with its own message
        files.update(f for f in k.files if f not in files and os.path.exists(os.path.join(base, f)))
    for rel in sorted(files.difference(covered)):
        findings.extend(sources.findings(rel))
    bad_files = sources.problems

    units: list[Unit] = []
    renderable = []
    for kdir in discovery.roots:
        if Unit.root_id(kdir) in skip:
            continue
        closure = discovery.closure(kdir)
        if any(k.blocked for k in closure) or bad_files.intersection(discovery.inputs(kdir)):
            continue  # the reason is already a finding; rendering would only repeat it
        renderable.append(kdir)
    budget = None
    deployed = len(discovery.deployed.actions) if discovery.deployed is not None else 0
    if deployed:
        from servegate.render import Budget

        # one budget for every kustomize and helm process of the run
        budget = Budget.for_roots(len(renderable) + deployed)

    def loaded(unit: Unit) -> None:
        units.append(unit)
        if each is not None:
            each(unit)

    if renderable:
        for unit in _render(
            discovery,
            sources,
            planner,
            options,
            memo,
            renderable,
            files,
            render_keys,
            meanwhile,
            prefetch,
            budget,
        ):
            loaded(unit)
    for (folder, env), rels in sorted(
        plain_folders(discovery, planner).items(), key=lambda item: (item[0][0], item[0][1] or "")
    ):
        unit_id = Unit.plain_id(folder, env)
        if unit_id in skip:
            continue
        unit = Unit(unit_id, folder, env, files=set(rels))
        for rel in rels:
            for doc in sources.load(rel).documents:
                unit.resources.extend(resources(doc.data, Origin(rel, doc)))
        if unit.resources:
            loaded(unit)
    if discovery.deployed is not None:
        from servegate.deployed import load_units

        with tempfile.TemporaryDirectory(prefix="servegate-") as scratch:
            more, found = load_units(discovery, sources, planner, memo, Path(scratch), budget)
        for unit in more:
            loaded(unit)
        findings.extend(found)
    return units, findings


def _render(
    discovery: Discovery,
    sources: SourceFiles,
    planner: Planner,
    options: CheckOptions,
    memo: Memo,
    kdirs: list[str],
    files: set[str],
    render_keys: dict[str, str] | None,
    meanwhile: Callable[[Sequence[str]], None] | None,
    prefetch: Prefetch | None,
    budget: Budget | None,
) -> Iterator[Unit]:
    from servegate.render import Rendering

    with (
        tempfile.TemporaryDirectory(prefix="servegate-") as scratch,
        Rendering(
            discovery.root,
            kdirs,
            Path(scratch),
            workers=options.workers,
            progress=options.progress,
            memo=memo,
            discovery=discovery,
            keys=render_keys,
            prefetch=prefetch,
            budget=budget if prefetch is None else None,
        ) as rendering,
    ):
        if meanwhile is not None:
            meanwhile(kdirs)  # kustomize runs in other processes meanwhile
        yield from _units(rendering, discovery, sources, planner, files)


def _units(
    rendered: Iterable[Rendered],
    discovery: Discovery,
    sources: SourceFiles,
    planner: Planner,
    files: set[str],
) -> Iterator[Unit]:
    for result in rendered:
        unit = Unit(Unit.root_id(result.kdir), result.kdir, planner.environment_of(result.kdir))
        unit.files = files.intersection(discovery.inputs(result.kdir))
        kfile = discovery.kustomizations[result.kdir].file
        if result.output is None:
            unit.reusable = not result.error_is_transient
            unit.findings.append(result.rule.finding(result.message, kfile, 1, unit=unit.id))
        else:
            unit.resources.extend(
                _rendered_resources(
                    result.output,
                    result.wrapper,
                    unit,
                    discovery,
                    sources,
                    kfile,
                    result.objects,
                )
            )
            unit.files.update(r.origin.file for r in unit.resources)
            unit.findings.extend(patched(unit.resources, unit.id))
        yield unit


def _rendered_resources(
    output: str,
    wrapper: str,
    unit: Unit,
    discovery: Discovery,
    sources: SourceFiles,
    kfile: str,
    objects: list[Any] | None = None,
) -> Iterator[Resource]:
    import yaml

    from servegate.yamlsafe import load_plain

    try:
        # already parsed by the render step (or read back from the memo)
        bodies = objects if objects is not None else load_plain(output)
    except yaml.YAMLError as err:
        message = f"kustomize output is not YAML: {str(err).splitlines()[0]}"
        unit.findings.append(KUSTOMIZE_ERROR.finding(message, kfile, 1, unit=unit.id))
        return
    tracer = Tracer(discovery.root, discovery.kustomizations, sources, unit.label)
    for body in bodies:
        if not is_k8s_object(body):
            continue
        build_origin = take_build_origin(body)
        origin = origin_for(body, build_origin, wrapper, unit.label, discovery, sources, tracer)
        yield from resources(body, origin)

"""What the operator asked a check for: the command line's options, or the Argo CD plugin's
parameters, as one immutable value the plan step reads (``servegate.plan``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from servegate.baseline import Baseline


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """What the operator asked for: the command line, or the Argo CD plugin's parameters."""

    paths: Sequence[Path] = (Path("."),)
    config: Path | None = None
    env: str | None = None
    crds: Sequence[Path] = ()
    k8s_version: str | None = None
    kserve_version: str | None = None
    """``--kserve-version``: the KServe release whose CRD schemas apply."""
    pss_level: str | None = None
    select: Sequence[str] = ()
    ignore: Sequence[str] = ()
    policies: Path | None = None
    """The operator's folder of policy sets (``<name>.yaml``), looked up before the bundled ones."""
    workers: int | None = None
    jobs: int | None = None
    """Processes that evaluate the units (``servegate.fanout``; None: one per CPU, at most
    ``fanout.MAX_AUTO_JOBS``; 1: this process only)."""
    progress: Callable[[int, int], None] | None = None
    base: str | None = None
    """Diff-aware mode: only roots changed since this git ref, plus the change rules."""
    changed: Sequence[Path] | None = None
    """Only the roots and plain files these paths touch (pre-commit's file list)."""
    root: Path | None = None
    """The repo root, when the caller knows it better than the nearest .git (Argo CD)."""
    cache: bool = True
    """Reuse what earlier runs computed (``servegate.memo``); False: read and write nothing."""
    shard: tuple[int, int] | None = None
    """(I, N): check only the roots of shard I of N (servegate.shard), for fan-out CI."""
    applications: bool = True
    """Check what the repo's Argo CD Applications deploy as well, as Argo CD renders it
    (``servegate.deployed``). The plugin sets False: it prints the manifests of the one app
    Argo CD runs it for (where ``spec.source.kustomize`` does not apply); the Applications
    among them are rendered by their own sources."""
    reuse_results: bool = False
    """Reuse the findings of units whose inputs and plan are unchanged (the result memo).
    Their resources are then not loaded: only for callers that need findings alone."""
    baseline: Baseline | None = None
    """``check --baseline FILE``: findings it accepts are suppressed (``exemptions.finish``).
    Only the operator's command line sets it; a repo's own baseline file is never read."""
    operator_config: Path | None = None
    """The operator's configuration file (``--operator-config``, else the environment's
    ``SERVEGATE_OPERATOR_CONFIG``; ``servegate.operatorconfig``)."""
    allow_repo_weakening: bool = False
    """The checked repo's configuration may relax the operator's policy (``servegate.trust``)."""
    requested_env: str | None = None
    """The environment an Application's plugin env asks for (``SERVEGATE_ENV``): repo
    content, so applied only where it is no weaker than the mapping's."""
    allow_plugin_env: bool = False
    """An Application's plugin env may choose the environment, rules and level."""
    honor_excludes: bool = False
    """The repo's ``exclude:`` globs hide folders (each hidden file is listed)."""

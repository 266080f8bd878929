"""What the repo's Argo CD Applications deploy beyond discovery's roots and plain files: the
renders ``servegate.deployed.extend`` plans and the findings of resolving their sources, as
data that ``servegate.discover.Discovery`` carries (no rendering here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from servegate.argocd_apps import AppSource
from servegate.model import Finding


@dataclass(slots=True)
class Action:
    """One render of what an Application deploys, beyond the repo's own roots and plain files."""

    kind: str
    """``kustomize`` (with settings), ``directory`` or ``helm``."""
    path: str
    source: AppSource | None
    """None for a chart folder no Application deploys (rendered with its default values)."""
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Deployment:
    """What ``extend`` found: the extra renders and the findings of resolving the sources."""

    actions: list[Action] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    roots: list[str] = field(default_factory=list)
    """Kustomize folders Applications deploy as they are: rendered as roots."""

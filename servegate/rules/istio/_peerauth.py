"""PeerAuthentication inheritance as Istio resolves it, over the policies in the checked set.

Istio (istio/istio ``pilot/pkg/security/authn/policy_applier.go``, ``ComposePeerAuthentication``,
and ``pilot/pkg/model/authentication.go``): a policy without a selector (or with empty
``matchLabels``) is namespace-wide, or mesh-wide in the root namespace; one with a selector
outside the root namespace is workload-level (in the root namespace it is ignored). ``UNSET``,
or no ``mtls`` at all, inherits from the next wider level: workload from namespace, namespace
from mesh. A mesh-wide ``UNSET`` and the absence of any policy both mean ``PERMISSIVE``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from servegate.resource import Resource, as_dict
from servegate.rules.base import Context

ROOT_PARAM = "istioRootNamespace"
DEFAULT_ROOT = "istio-system"
STRICT = "STRICT"
PERMISSIVE = "PERMISSIVE"
UNSET = "UNSET"


class Level(Enum):
    MESH = "mesh-wide"
    NAMESPACE = "namespace-wide"
    WORKLOAD = "workload"
    IGNORED = "ignored"
    """A selector in the root namespace: Istio applies it to nothing."""


def root_namespace(ctx: Context) -> str:
    return str(ctx.param(ROOT_PARAM) or DEFAULT_ROOT)


def own_mode(pa: Resource) -> str:
    """The policy's own ``mtls.mode``, upper-case; ``UNSET`` when absent."""
    return str(as_dict(pa.spec.get("mtls")).get("mode") or UNSET).upper()


def has_selector(pa: Resource) -> bool:
    return bool(as_dict(as_dict(pa.spec.get("selector")).get("matchLabels")))


def level(pa: Resource, root: str) -> Level:
    if has_selector(pa):
        return Level.IGNORED if pa.namespace == root else Level.WORKLOAD
    return Level.MESH if pa.namespace == root else Level.NAMESPACE


@dataclass(frozen=True, slots=True)
class Resolved:
    mode: str
    source: str
    """Where the mode comes from, for messages: a policy, or Istio's default."""
    unchecked_mesh: bool = False
    """Istio's default because the unit holds no mesh-wide policy: another unit of the same
    environment may deploy one (``servegate.clusterfacts``)."""


@dataclass(frozen=True, slots=True)
class MeshPolicies:
    """The PeerAuthentications of one checked set, by level."""

    root: str
    policies: tuple[Resource, ...]

    @classmethod
    def of(cls, resources: Sequence[Resource], ctx: Context) -> MeshPolicies:
        found = tuple(r for r in resources if r.kind == "PeerAuthentication")
        return cls(root_namespace(ctx), found)

    def at(self, which: Level, namespace: str | None = None) -> list[Resource]:
        return [
            p
            for p in self.policies
            if level(p, self.root) is which
            and (which is Level.MESH or p.namespace in (namespace, None))
        ]

    def mesh(self) -> Resolved:
        for pa in self.at(Level.MESH):
            mode = own_mode(pa)
            if mode != UNSET:
                return Resolved(mode, f"mesh-wide PeerAuthentication {pa.name!r}")
        if self.at(Level.MESH):
            return Resolved(PERMISSIVE, f"Istio (a mesh-wide UNSET in {self.root} is PERMISSIVE)")
        return Resolved(
            PERMISSIVE,
            f"Istio's default (no mesh-wide policy in {self.root} in this environment)",
            unchecked_mesh=True,
        )

    def namespace(self, namespace: str | None) -> Resolved:
        """The namespace-wide mode; the weakest when several policies compete."""
        modes = [(own_mode(p), p) for p in self.at(Level.NAMESPACE, namespace)]
        weak = [(m, p) for m, p in modes if m not in (UNSET, STRICT)]
        if weak:
            return Resolved(weak[0][0], f"namespace-wide PeerAuthentication {weak[0][1].name!r}")
        if any(m == STRICT for m, _ in modes):
            return Resolved(STRICT, "a namespace-wide PeerAuthentication")
        return self.mesh()

    def resolve(self, pa: Resource) -> Resolved:
        """The mode ``pa`` ends up with: its own, or what ``UNSET`` inherits."""
        mode = own_mode(pa)
        if mode != UNSET:
            return Resolved(mode, "its own mode")
        which = level(pa, self.root)
        if which is Level.MESH:
            return Resolved(PERMISSIVE, "Istio (a mesh-wide UNSET is PERMISSIVE)")
        if which is Level.NAMESPACE:
            return self.mesh()
        return self.namespace(pa.namespace)

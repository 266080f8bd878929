"""What one unit deploys that another unit's findings depend on, settled across the check.

Rules judge one unit at a time, but Istio resolves mTLS from policies anywhere in the cluster: a
mesh-wide PeerAuthentication (no selector, in the root namespace, ``istio-system`` by default)
usually lives in a platform folder, not in the model's overlay, and yet makes every namespace's
``UNSET`` or absent policy STRICT (istio/istio ``pilot/pkg/security/authn/policy_applier.go``,
``ComposePeerAuthentication``: mesh, then namespace, then workload). So a unit records what it
deploys (:func:`facts_of`: each selector-less PeerAuthentication's namespace and mode, kept in
its ``UnitResult`` and the result memo), a rule that found no mesh-wide policy in its own unit
marks its finding with the fact that would void it (``Finding.unless``, :func:`mesh_strict`),
and :func:`settle` drops such a finding when the units of the same environment (the same
cluster: ``prod`` and ``prod@folder`` are one) deploy mesh-wide policies in that root namespace
and all are STRICT. A check that does not cover the policy's unit (``--changed-files``,
``--shard``, one overlay) keeps the finding: it fails closed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from servegate.model import Finding
from servegate.resource import Resource
from servegate.rules.istio._peerauth import STRICT, UNSET, has_selector, own_mode

_POLICY = "mesh-policy:"
_STRICT = "mesh-strict:"
_COVERED = "namespace-strict:"


def facts_of(resources: Sequence[Resource]) -> list[str]:
    """``mesh-policy:<namespace>:<mode>`` of each PeerAuthentication without a selector."""
    return [
        f"{_POLICY}{r.namespace or ''}:{own_mode(r)}"
        for r in resources
        if r.kind == "PeerAuthentication" and not has_selector(r)
    ]


def mesh_strict(root: str) -> str:
    """The fact that voids a finding: a STRICT mesh-wide PeerAuthentication in ``root``."""
    return f"{_STRICT}{root}"


def namespace_strict(namespace: str, root: str) -> str:
    """The fact that voids a finding: ``namespace`` is STRICT, by namespace-wide policies that
    are all STRICT, or (none, or only ``UNSET`` ones) by a STRICT mesh-wide policy in
    ``root``."""
    return f"{_COVERED}{namespace}:{root}"


def cluster(environment: str | None) -> str:
    """The cluster an environment or plan key (``prod@models/a``) deploys to."""
    return (environment or "").partition("@")[0]


def _modes(facts: Iterable[str], namespace: str) -> set[str]:
    """The modes of the selector-less policies in ``namespace`` among ``facts``."""
    return {
        fact.rpartition(":")[2]
        for fact in facts
        if fact.startswith(_POLICY) and fact[len(_POLICY) :].rpartition(":")[0] == namespace
    }


def _strict(facts: Iterable[str], root: str) -> bool:
    """Whether the mesh-wide policies in ``root`` among ``facts`` make the mesh STRICT: all of
    them STRICT (Istio takes the oldest, which Git does not say; an ``UNSET`` one is
    PERMISSIVE)."""
    return _modes(facts, root) == {STRICT}


def _covered(facts: Sequence[str], namespace: str, root: str) -> bool:
    """Whether ``namespace`` ends up STRICT: its namespace-wide policies all STRICT, or, when
    none is weaker and some may be ``UNSET`` (the oldest wins), the mesh STRICT."""
    modes = _modes(facts, namespace)
    if not modes <= {STRICT, UNSET}:
        return False
    return modes == {STRICT} or _strict(facts, root)


def settle(
    findings: Iterable[Finding],
    facts: Mapping[str, Sequence[str]],
    environment_of: Callable[[str], str | None],
) -> list[Finding]:
    """``findings`` without those another unit's deployed objects void; ``facts`` by unit
    id, ``environment_of`` a unit id's environment (or plan key)."""
    by_cluster: dict[str, list[str]] = {}
    for unit, found in facts.items():
        by_cluster.setdefault(cluster(environment_of(unit)), []).extend(found)
    kept: list[Finding] = []
    for finding in findings:
        if finding.unless is None:
            kept.append(finding)
            continue
        known = by_cluster.get(cluster(environment_of(finding.unit)), [])
        if finding.unless.startswith(_STRICT):
            if _strict(known, finding.unless[len(_STRICT) :]):
                continue
        elif finding.unless.startswith(_COVERED):
            namespace, _, root = finding.unless[len(_COVERED) :].partition(":")
            if _covered(known, namespace, root):
                continue
        kept.append(replace(finding, unless=None))
    return kept

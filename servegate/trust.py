"""The trust boundary: what the checked repo's configuration may change in the operator's policy.

The operator (command line, operator configuration, ``--policies DIR``, servegate's bundled
profiles and policy sets) sets a **reference**; the checked repo's layer (its
``servegate.yaml`` files, ``environments/`` and ``policies/`` folders, an Application's plugin
env) is merged over it **tighten-only**: it may run more rules, raise severities, narrow
allow-lists and raise the Pod Security level, and each thing it tries that would relax the
reference is left out and reported (``repo.policy-weakening``, at its file and line). With the
operator's ``allowRepoWeakening`` the repo's layer applies as written.

Every function here is pure: ``servegate.plan.Planner`` calls them and turns ``Weakening``
into findings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from servegate.model import Severity

_LEVELS = {"baseline": 0, "restricted": 1}
_MTLS = {"DISABLE": 0, "PERMISSIVE": 1, "STRICT": 2}
#: Allow-lists where an empty list allows anything.
ALLOW_LISTS = ("allowedRegistries", "allowedStorageSchemes", "allowedBuckets")
#: Switches where true is stricter.
REQUIREMENTS = ("requireDigest",)
NO_MESH = "none"
NO_MESH_WEAKENS = (
    "mesh none would switch off the mTLS and AuthorizationPolicy rules: the operator's to set"
)


@dataclass(frozen=True, slots=True)
class Weakening:
    """One thing the repo's layer tried that would relax the operator's policy."""

    where: tuple[str | int, ...]
    """The field path in the repo's file."""
    message: str


def stronger_level(a: str, b: str) -> str:
    """The stricter Pod Security level of two."""
    return a if _LEVELS.get(a, 1) >= _LEVELS.get(b, 1) else b


def level(ref: str, repo: str | None, where: tuple[str | int, ...]) -> tuple[str, list[Weakening]]:
    """The Pod Security level: the repo's if not lower than the reference."""
    if repo is None or stronger_level(ref, repo) == repo:
        return repo or ref, []
    return ref, [Weakening(where, f"podSecurity {repo} is below the operator's {ref}")]


def ignores(
    rule_ids: Iterable[str], ref: Sequence[str], repo: Sequence[str], matches: Any
) -> tuple[tuple[str, ...], list[Weakening]]:
    """The rule ids ignored: those both the reference and the repo ignore (the repo may run
    more rules); each repo pattern that switches off a rule the reference runs is reported."""
    ids = list(rule_ids)
    off_ref = {r for r in ids if matches(r, ref)}
    out: list[Weakening] = []
    for i, pattern in enumerate(repo):
        dropped = sorted(r for r in ids if matches(r, (pattern,)) and r not in off_ref)
        if dropped:
            shown = ", ".join(dropped[:3]) + (" ..." if len(dropped) > 3 else "")
            out.append(
                Weakening(("rules", "ignore", i), f"ignore {pattern!r} would switch off {shown}")
            )
    kept = tuple(sorted(r for r in off_ref if matches(r, repo)))
    return kept, out


def severities(
    defaults: Mapping[str, Severity],
    ref: Mapping[str, Severity],
    repo: Mapping[str, Severity],
) -> tuple[dict[str, Severity], list[Weakening]]:
    """Severity per rule id: the repo may raise one, never lower it."""
    merged = dict(ref)
    out: list[Weakening] = []
    for rule_id, wanted in repo.items():
        current = ref.get(rule_id, defaults.get(rule_id, Severity.ERROR))
        if wanted.rank <= current.rank:
            merged[rule_id] = wanted
        else:
            out.append(
                Weakening(
                    ("rules", "severity", rule_id),
                    f"severity of {rule_id} {wanted.value} is below the operator's {current.value}",
                )
            )
    return merged, out


def params(
    ref: Mapping[str, Any], repo: Mapping[str, Any], where: tuple[str | int, ...] = ("params",)
) -> tuple[dict[str, Any], list[Weakening]]:
    """Rule parameters: allow-lists only narrow (an empty list allows anything), requirements
    only switch on, and any other parameter (a fact about the cluster) stays the operator's."""
    merged = dict(ref)
    out: list[Weakening] = []
    for key, value in repo.items():
        at = (*where, key)
        old = ref.get(key)
        if key in ALLOW_LISTS and isinstance(value, list):
            before = [str(v) for v in old or []]
            wanted = [str(v) for v in value]
            if not before:
                merged[key] = wanted
                continue
            extra = [v for v in wanted if v not in before]
            if not wanted or extra:
                shown = ", ".join(extra) if extra else "anything (an empty list)"
                out.append(Weakening(at, f"{key} would allow {shown} beyond the operator's list"))
            merged[key] = [v for v in wanted if v in before] or before
        elif key == "mesh" and value == NO_MESH and old != NO_MESH:
            out.append(Weakening(at, NO_MESH_WEAKENS))
        elif key in REQUIREMENTS:
            if old is True and value is not True:
                out.append(Weakening(at, f"{key}: {value} would drop the operator's requirement"))
            else:
                merged[key] = bool(value) or bool(old)
        elif value != old:
            if key not in ref:
                merged[key] = value  # a parameter the reference leaves to the rule's default
                continue
            out.append(Weakening(at, f"{key} is the operator's to set (keeps {old!r})"))
    return merged, out


def profile(
    ref: Mapping[str, Any], repo: Mapping[str, Any]
) -> tuple[dict[str, Any], list[Weakening]]:
    """An environment profile of the repo over the operator's of the same name (or the
    strictest defaults): Pod Security (level, ``podSecurityVersion``, ``podSecurityMinVersion``),
    mTLS, the canary requirement, a privileged namespace (``allowPrivilegedNamespace``) and the
    mesh (``mesh: none``) never relax, and the policy set it names is judged by ``Planner``
    against the reference set."""
    merged = {**ref, **repo}
    out: list[Weakening] = []
    ref_level = str(ref.get("podSecurity") or "restricted")
    merged["podSecurity"], found = level(ref_level, repo.get("podSecurity"), ("podSecurity",))
    out.extend(found)
    ref_mtls = str(ref.get("mtls") or "STRICT").upper()
    mtls = str(repo.get("mtls") or ref_mtls).upper()
    if _MTLS.get(mtls, 0) < _MTLS.get(ref_mtls, 2):
        out.append(Weakening(("mtls",), f"mtls {mtls} is below the operator's {ref_mtls}"))
        merged["mtls"] = ref.get("mtls") or "STRICT"
    if (
        repo.get("allowPrivilegedNamespace") is True
        and ref.get("allowPrivilegedNamespace") is not True
    ):
        out.append(
            Weakening(
                ("allowPrivilegedNamespace",),
                "allowPrivilegedNamespace would let namespaces enforce Pod Security privileged",
            )
        )
        merged["allowPrivilegedNamespace"] = ref.get("allowPrivilegedNamespace", False)
    if repo.get("mesh") == NO_MESH and ref.get("mesh") != NO_MESH:
        out.append(Weakening(("mesh",), NO_MESH_WEAKENS))
        if "mesh" in ref:
            merged["mesh"] = ref["mesh"]
        else:
            merged.pop("mesh", None)
    if ref.get("requireCanary") is True and repo.get("requireCanary") is False:
        out.append(Weakening(("requireCanary",), "requireCanary: false drops the operator's"))
        merged["requireCanary"] = True
    for key, older in _pss_versions(ref, repo):
        out.append(Weakening((key,), older))
        if key in ref:
            merged[key] = ref[key]
        else:
            merged.pop(key, None)
    return merged, out


def _minor(value: Any) -> int | None:
    """``v1.33`` -> 33; ``latest`` or unset -> None (newest); anything else -> -1 (oldest)."""
    text = str(value or "latest")
    if text == "latest":
        return None
    head, _, minor = text.partition("v1.")
    return int(minor) if not head and minor.isdigit() else -1


def _pss_versions(ref: Mapping[str, Any], repo: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    """The repo's Pod Security versions that would judge pods at an older version than the
    reference (``podSecurityVersion``), or let Namespaces pin one (``podSecurityMinVersion``)."""
    if "podSecurityVersion" in repo:
        mine, theirs = _minor(repo["podSecurityVersion"]), _minor(ref.get("podSecurityVersion"))
        if mine is not None and (theirs is None or mine < theirs):
            shown = ref.get("podSecurityVersion") or "latest"
            yield (
                "podSecurityVersion",
                (
                    f"podSecurityVersion {repo['podSecurityVersion']} is older than the operator's "
                    f"{shown}"
                ),
            )
    if "podSecurityMinVersion" in repo and ref.get("podSecurityMinVersion") is not None:
        mine, theirs = _minor(repo["podSecurityMinVersion"]), _minor(ref["podSecurityMinVersion"])
        if mine is None or (theirs is not None and mine < theirs):
            yield (
                "podSecurityMinVersion",
                (
                    f"podSecurityMinVersion {repo['podSecurityMinVersion']} is below "
                    f"the operator's {ref['podSecurityMinVersion']}"
                ),
            )

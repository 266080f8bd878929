"""The base revision of ``check --base REF``, and the change rules run against it.

The base revision is exported with ``git archive`` (read-only: no worktree, no checkout), the
checked roots are rendered there too, and the change rules (``servegate.rules.changes``)
compare each object before and after, with the context of its unit's plan
(``servegate.evaluate``). Which roots a change touches is ``servegate.scope``'s.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from servegate.discover import rel
from servegate.errors import UsageError
from servegate.evaluate import evaluate
from servegate.model import Finding, Unit
from servegate.resource import Origin, Resource

if TYPE_CHECKING:
    from servegate.plan import Planner

GIT_TIMEOUT_S = 60
ObjectKey = tuple[str, str | None, str]


def _git(root: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise UsageError(f"--base needs git: {err}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(f"git {args[0]}: {message[0] if message else 'failed'}")
    return done.stdout


def resolve_ref(root: Path, ref: str) -> str:
    """The commit ``ref`` names; UsageError when it names none (or is not a ref at all)."""
    if ref.startswith("-"):
        raise UsageError(f"--base {ref!r}: not a git revision")
    try:
        out = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except UsageError:
        raise UsageError(f"--base {ref}: no such git revision") from None
    return out.decode().strip()


def changed_since(root: Path, ref: str) -> set[str]:
    """Files (relative to ``root``) that differ from ``ref``: committed, staged, unstaged,
    untracked, and deleted ones."""
    commit = resolve_ref(root, ref)
    diff = _git(root, "diff", "--name-only", "--no-renames", "-z", commit, "--", ".")
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "-z", "--", ".")
    top = Path(_git(root, "rev-parse", "--show-toplevel").decode().strip())
    prefix = rel(top, root) if top.resolve() != root.resolve() else ""
    files: set[str] = set()
    for raw in [*diff.split(b"\0"), *untracked.split(b"\0")]:
        if not raw:
            continue
        name = raw.decode("utf-8", "surrogateescape")
        if prefix and prefix != ".":
            if not name.startswith(prefix + "/"):
                continue
            name = name[len(prefix) + 1 :]
        files.add(name)
    return files


# --- the base revision ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Change:
    """One object as it was at the base revision and as it is now (``before`` None: new)."""

    before: Resource | None
    after: Resource


def _key(body: dict[str, Any]) -> ObjectKey:
    meta = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    ns = (meta or {}).get("namespace")
    return (str(body.get("kind")), str(ns) if ns else None, str((meta or {}).get("name")))


def export(root: Path, commit: str, into: Path) -> None:
    """Write the tree of ``commit`` under ``root`` into ``into`` (git archive, safe extract)."""
    import io
    import tarfile

    top = Path(_git(root, "rev-parse", "--show-toplevel").decode().strip())
    prefix = rel(top, root)
    spec = commit if prefix == "." else f"{commit}:{prefix}"
    data = _git(root, "archive", "--format=tar", spec)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")  # "data": no links or paths out of ``into``


def base_objects(root: Path, commit: str, kdirs: Sequence[str]) -> dict[str, dict[ObjectKey, Any]]:
    """Each root's rendered objects at ``commit``, by (kind, namespace, name)."""
    import yaml

    from servegate.discover import discover, kustomization_file
    from servegate.origins import strip_build_annotations
    from servegate.render import render_all
    from servegate.yamlsafe import load_plain

    out: dict[str, dict[ObjectKey, Any]] = {k: {} for k in kdirs}
    with tempfile.TemporaryDirectory(prefix="servegate-base-") as scratch:
        tree = Path(scratch) / "tree"
        tree.mkdir()
        export(root, commit, tree)
        present = [k for k in kdirs if kustomization_file(tree / k) is not None]
        if not present:
            return out
        # the same safety checks as the current tree: no remote bases, escapes or plugins
        base = discover([tree / k for k in present], root=tree)
        safe = [k for k in present if not any(x.blocked for x in base.closure(k))]
        for result in render_all(tree, safe, Path(scratch)):
            if result.output is None:
                continue
            try:
                bodies = load_plain(result.output)
            except yaml.YAMLError:
                continue  # a base that does not parse has nothing to compare
            for body in bodies:
                if isinstance(body, dict):
                    strip_build_annotations(body)
                    out[result.kdir][_key(body)] = body
    return out


def pairs(unit: Unit, before: dict[str, dict[ObjectKey, Any]]) -> Iterator[Change]:
    """Each object of ``unit`` with itself at the base revision (when the root existed)."""
    old = before.get(unit.label)
    if old is None:
        return
    for resource in unit.resources:
        body = old.get(_key(resource.body))
        then = None if body is None else Resource.from_body(body, Origin(resource.origin.file))
        yield Change(then, resource)


def change_findings(root: Path, ref: str, units: Sequence[Unit], planner: Planner) -> list[Finding]:
    """The change rules of each unit's plan over its objects against the base revision, and
    the repo's own environment profiles against theirs."""
    commit = resolve_ref(root, ref)
    before = base_objects(root, commit, [u.label for u in units if u.is_root])
    findings: list[Finding] = []
    for unit in units:
        plan = planner.plan(unit.environment)
        changes = list(pairs(unit, before)) if plan.change_rules else []
        if not changes:
            continue
        then = {id(c.after): c.before for c in changes}

        def before_of(after: Resource, then: dict[int, Resource | None] = then) -> Resource | None:
            return then[id(after)]

        hits = evaluate(plan.change_rules, [c.after for c in changes], plan.context, before_of)
        findings.extend(hit.finding(unit.id) for hit in hits)
    findings.extend(_profile_findings(root, commit))
    return findings


def _profile_findings(root: Path, commit: str) -> list[Finding]:
    """The repo's own environment profiles may not lower podSecurity or mtls either."""
    from servegate.rules.changes.security_downgrade import RULE, downgrade
    from servegate.yamlsafe import load_bytes

    findings: list[Finding] = []
    folder = root / "environments"
    if not folder.is_dir():
        return findings
    for path in sorted(folder.glob("*.yaml")):
        name = rel(root, path)
        try:
            old_raw = _git(root, "show", f"{commit}:./{name}")
        except UsageError:
            continue  # new profile: nothing to lower
        old, new = load_bytes(old_raw), load_bytes(path.read_bytes())
        if old.problems or new.problems or not old.documents or not new.documents:
            continue
        before, doc = old.documents[0].data, new.documents[0]
        if not isinstance(before, dict) or not isinstance(doc.data, dict):
            continue
        for field in ("podSecurity", "mtls"):
            reason = downgrade(field, before.get(field), doc.data.get(field))
            if reason:
                findings.append(
                    RULE.finding(
                        f"environment profile {path.stem!r}: {reason}", name, doc.line_of((field,))
                    )
                )
    return findings

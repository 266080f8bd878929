"""The rule registry: every rule module under ``servegate.rules.<family>`` is found here.

One rule id is one module: ``pss.run-as-non-root`` is ``RULE`` in
``servegate/rules/pss/run_as_non_root.py`` (modules whose name starts with ``_`` hold shared
helpers). ``servegate rules``, ``servegate explain``, SARIF rule metadata, ``docs/rules.md``
and the check pipeline all read this one list, so a rule exists in exactly one place.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING

from servegate.rules.base import ReportedRule, Rule

if TYPE_CHECKING:
    from servegate.yamlsafe import Problem

#: Modules of this package that are not rule families.
_NOT_RULES = ("base", "docs")


@cache
def all_rules() -> dict[str, Rule]:
    """Every rule, by id, sorted by id."""
    found: dict[str, Rule] = {}
    package = importlib.import_module(__name__)
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{__name__}."):
        parts = info.name.split(".")
        if info.ispkg or parts[-1].startswith("_") or parts[2] in _NOT_RULES:
            continue
        module = importlib.import_module(info.name)
        single: Rule | None = getattr(module, "RULE", None)
        if single is None:
            raise RuntimeError(f"{info.name} defines no RULE (helpers go in _-prefixed modules)")
        if single.module != info.name:
            raise RuntimeError(
                f"rule id {single.id} is defined in {info.name}, not {single.module}"
            )
        found[single.id] = single
    return dict(sorted(found.items()))


def get_rule(rule_id: str) -> Rule | None:
    return all_rules().get(rule_id)


@cache
def _by_problem() -> dict[Problem, ReportedRule]:
    return {r.problem: r for r in all_rules().values() if isinstance(r, ReportedRule) and r.problem}


def problem_rule(problem: Problem) -> ReportedRule:
    """The yaml.* rule that reports a strict-loader problem (``servegate.yamlsafe.Problem``)."""
    return _by_problem()[problem]


def matches(rule_id: str, patterns: Iterable[str]) -> bool:
    """True when ``rule_id`` equals a pattern or lies in a family/prefix a pattern names."""
    return any(rule_id == p or rule_id.startswith(p.rstrip(".") + ".") for p in patterns)


def unknown_ids(patterns: Iterable[str]) -> list[str]:
    """For each pattern that names no rule id and no family: ``"'pss.privilegd' is no rule
    id or family (did you mean pss.privileged?)"``."""
    import difflib

    ids = all_rules()
    known = {*ids, *(i.split(".", 1)[0] for i in ids)}
    out: list[str] = []
    for pattern in patterns:
        name = pattern.rstrip(".")
        if name in known:
            continue
        near = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
        hint = f" (did you mean {near[0]}?)" if near else ""
        out.append(f"{pattern!r} is no rule id or family{hint}")
    return out

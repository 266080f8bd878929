"""The rule registry: every rule module under ``servegate.rules.<family>`` is found here.

``servegate rules``, ``servegate explain``, SARIF rule metadata and ``docs/rules.md`` all read
this one list, so a rule exists in exactly one place.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from servegate.rules.base import Rule

#: Rules the engine itself reports (YAML, schema and repository problems found while loading).
#: Their docs live in servegate/rules/builtin.py.


@cache
def all_rules() -> dict[str, Rule]:
    """Every rule, by id, sorted by id."""
    found: dict[str, Rule] = {}
    package = importlib.import_module(__name__)
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{__name__}."):
        if info.ispkg or info.name.rpartition(".")[2].startswith("_"):
            continue
        if info.name == f"{__name__}.base":
            continue
        module = importlib.import_module(info.name)
        rules: list[Rule] = list(getattr(module, "RULES", ()))
        single = getattr(module, "RULE", None)
        if single is not None:
            rules.append(single)
        for r in rules:
            if r.id in found:
                raise RuntimeError(f"rule id {r.id} defined twice ({info.name})")
            found[r.id] = r
    return dict(sorted(found.items()))


def get_rule(rule_id: str) -> Rule | None:
    return all_rules().get(rule_id)


def matches(rule_id: str, patterns: list[str]) -> bool:
    """True when ``rule_id`` equals a pattern or lies in a family/prefix a pattern names."""
    return any(rule_id == p or rule_id.startswith(p.rstrip(".") + ".") for p in patterns)

"""An index of names by kind and namespace over one rendered overlay, for the refs rules.

A resource without a namespace (a plain file, an overlay without ``namespace:``) may land in
any namespace, so it matches every namespace and every namespace matches it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from servegate.resource import Resource


class NameIndex:
    def __init__(self, resources: Sequence[Resource], kinds: Iterable[str]) -> None:
        wanted = frozenset(kinds)
        self.names: dict[str | None, set[str]] = {}
        for r in resources:
            if r.kind in wanted:
                self.names.setdefault(r.namespace, set()).add(r.name)

    def known(self, namespace: str | None) -> bool:
        """True when the overlay defines any object of these kinds where ``namespace`` sees."""
        if namespace is None or None in self.names:
            return bool(self.names)
        return namespace in self.names

    def has(self, namespace: str | None, name: str) -> bool:
        if namespace is None:
            return any(name in names for names in self.names.values())
        return name in self.names.get(namespace, set()) or name in self.names.get(None, set())

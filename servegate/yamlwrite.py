"""YAML text that Kubernetes decodes back to exactly the objects written.

Argo CD splits a plugin's stdout and decodes it with sigs.k8s.io/yaml (gitops-engine
``kube.SplitYAML``), and kubectl reads ``servegate render`` output the same way: go-yaml v2
rules, where a plain ``y``, ``n``, ``on`` or ``0o10`` is a boolean or a number. PyYAML quotes only
what *it* would misread, so its output would turn the string ``"n"`` into ``false`` after the
check. Here a string is written plain only when both go-yaml v2 and PyYAML read it back as that
string (``servegate.yamldialects.resolve``); otherwise it is quoted, as kustomize's own output
(written by go-yaml v2's encoder) quotes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

from servegate.yamldialects import KUBERNETES, STR, resolve

try:
    from yaml import CSafeDumper as _Base
except ImportError:  # pragma: no cover - libyaml is in every PyYAML wheel
    from yaml import SafeDumper as _Base  # type: ignore[assignment]


class _KubernetesDumper(_Base):
    """A safe dumper whose idea of a plain scalar's type is go-yaml v2's as well as its own."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        tag = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
        if kind is yaml.ScalarNode and implicit[0] and tag == STR:
            found = resolve(value, KUBERNETES)[0]
            if found != STR:
                return found
        return tag


class _ReadableDumper(_KubernetesDumper):
    """Multi-line strings as literal blocks (``|``), so a committed manifest's scripts read like
    the code they run; a block scalar is always a string, in go-yaml v2 as in PyYAML."""

    def represent_str(self, data: str) -> yaml.ScalarNode:
        style = "|" if "\n" in data else None
        return self.represent_scalar(STR, data, style=style)


_ReadableDumper.add_representer(str, _ReadableDumper.represent_str)


def dump_all(objects: Iterable[Any], *, readable: bool = False) -> str:
    """``objects`` (JSON-shaped data) as one multi-document YAML stream, every scalar typed for
    Kubernetes' decoder exactly as it is in ``objects``.

    ``readable``: for files people commit and read (``servegate ct render``, ``canary render``):
    multi-line strings as literal blocks and lines folded at 100 characters; otherwise (plugin
    output, ``servegate render``) one scalar per line, never folded."""
    items = list(objects)
    if not items:
        return ""
    if readable:
        return yaml.dump_all(items, Dumper=_ReadableDumper, sort_keys=False, width=100)
    return yaml.dump_all(
        items, Dumper=_KubernetesDumper, sort_keys=False, width=1 << 20, allow_unicode=True
    )

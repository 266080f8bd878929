"""Cache of check results per unit (one rendered root, or one folder of plain manifests).

A unit's key is a sha256 over its inputs (for a root, its render cache key, which covers every
file kustomize may read for it; for a plain folder, the content of its files) and over
everything else its findings depend on: servegate's own code and data files (path, size and
modification time of each), the Kubernetes version, the policy set and environment profile
that apply, the policy parameters from ``servegate.yaml``, ``--select``/``--ignore``/
``--pss-level``, and the content of extra CRD folders. Exemptions are not part of it: they are
applied to the findings afterwards, every run. A unit whose files have a YAML problem, or
whose root could not be rendered for a reason outside kustomize, is never stored.

Entries are JSON, written atomically beside the render cache; ``--no-cache`` turns them off.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from servegate.cache import JSONStore
from servegate.model import Finding, Severity
from servegate.resource import ResourceRef

#: Bump when the entry format or the key recipe changes.
FORMAT = "results-v1"
_DATA = ("schemas", "policies", "environments")


@dataclass(slots=True)
class UnitResult:
    """What checking one unit produced, before exemptions and de-duplication."""

    findings: list[Finding] = field(default_factory=list)
    exemptions: dict[ResourceRef, dict[str, str]] = field(default_factory=dict)
    """Inline exemption annotations (rule id -> reason) by resource."""
    resources: int = 0
    files: list[str] = field(default_factory=list)
    """Source files (repo-relative) the unit read: counted in ``summary.files``."""


@cache
def code_fingerprint() -> str:
    """servegate's package and data files by path, size and modification time: any edit to
    the code, a rule, a schema or a shipped profile gives a new fingerprint."""
    from servegate import __version__
    from servegate.datafiles import data_dir

    digest = hashlib.sha256(__version__.encode())
    package = Path(__file__).resolve().parent
    folders = [package]
    for name in _DATA:
        try:
            folder = data_dir(name)
        except FileNotFoundError:
            continue
        if not folder.is_relative_to(package):  # a wheel keeps them in the package already
            folders.append(folder)
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                digest.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def tree_digest(folders: Sequence[Path]) -> str:
    """The content of every file under ``folders`` (extra CRDs), for the context key."""
    digest = hashlib.sha256()
    for folder in folders:
        paths = (
            [folder] if folder.is_file() else sorted(p for p in folder.rglob("*") if p.is_file())
        )
        for path in paths:
            try:
                digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
            except OSError:
                digest.update(str(path).encode() + b"\0unreadable\0")
    return digest.hexdigest()


def context_key(parts: Iterable[Any]) -> str:
    """A digest of JSON-able ``parts`` (with servegate's code fingerprint)."""
    text = json.dumps([code_fingerprint(), *parts], sort_keys=True, default=repr)
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def unit_key(context: str, inputs: str) -> str:
    return hashlib.sha256(f"{FORMAT}\0{context}\0{inputs}".encode()).hexdigest()


class ResultCache(JSONStore):
    """UnitResults by key (``unit_key``)."""

    def __init__(self, directory: Path | None = None, *, enabled: bool = True) -> None:
        super().__init__(FORMAT, directory, enabled=enabled)

    def get(self, key: str) -> UnitResult | None:
        if not self.enabled:
            return None
        data = self.read(key)
        try:
            result = UnitResult(
                [_finding(item) for item in data["findings"]],
                {_ref(ref): dict(rules) for ref, rules in data["exemptions"]},
                int(data["resources"]),
                [str(f) for f in data["files"]],
            )
        except (ValueError, KeyError, TypeError, IndexError):
            result = None  # absent or damaged: check again (and overwrite)
        return self.counted(result)

    def put(self, key: str, result: UnitResult) -> None:
        data = {
            "findings": [_finding_data(f) for f in result.findings],
            "exemptions": [[_ref_data(r), rules] for r, rules in result.exemptions.items()],
            "resources": result.resources,
            "files": result.files,
        }
        self.write(key, data)


def _ref_data(ref: ResourceRef | None) -> list[Any] | None:
    return None if ref is None else [ref.api_version, ref.kind, ref.namespace, ref.name]


def _ref(data: Any) -> ResourceRef:
    api_version, kind, namespace, name = data
    return ResourceRef(str(api_version), str(kind), namespace, str(name))


def _finding_data(f: Finding) -> list[Any]:
    return [f.rule, f.severity.value, f.message, f.file, f.line, _ref_data(f.resource), f.path]


def _finding(data: Any) -> Finding:
    rule, severity, message, file, line, ref, path = data
    return Finding(
        str(rule),
        Severity(severity),
        str(message),
        str(file),
        int(line),
        None if ref is None else _ref(ref),
        path,
    )

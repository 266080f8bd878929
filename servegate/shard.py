"""Deterministic sharding of a check: ``servegate check --shard I/N``.

Each kustomize root, and each YAML file that no root reads, belongs to exactly one shard, chosen
by a stable hash (sha256, not Python's salted ``hash``) of its repo-relative path, so every CI
job or Argo Workflows pod that runs shard I of N agrees on the split without talking to the
others. A file that roots of several shards read is checked in each of them; ``servegate merge``
drops the repeated findings.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace

from servegate.discover import Discovery
from servegate.errors import UsageError

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse(text: str) -> tuple[int, int]:
    """``"2/4"`` -> ``(2, 4)``; shards are numbered from 1. UsageError for anything else."""
    match = _SPEC.match(text)
    if match is None:
        raise UsageError(f"--shard {text!r}: expected I/N such as 1/4")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or not 1 <= index <= count:
        raise UsageError(f"--shard {text}: I must be between 1 and N (N >= 1)")
    return index, count


def shard_of(path: str, count: int) -> int:
    """The shard (1..count) that owns ``path``."""
    digest = hashlib.sha256(path.encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def scope(discovery: Discovery) -> str:
    """A digest of every unit the whole check covers (its roots, and the YAML files no root
    reads): equal for the shards of one check, different for shards of another repo or path."""
    digest = hashlib.sha256(b"servegate-shard-scope-v1")
    for root in discovery.roots:
        digest.update(b"\0r" + root.encode("utf-8", "surrogateescape"))
    for name in discovery.yaml_files:
        digest.update(b"\0f" + name.encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:32]


def select(discovery: Discovery, index: int, count: int) -> Discovery:
    """The part of ``discovery`` that shard ``index`` of ``count`` checks, which records
    which shard it is (``Discovery.shard``)."""
    if count == 1:
        return replace(discovery, shard=(1, 1, scope(discovery)))
    roots = [k for k in discovery.roots if shard_of(k, count) == index]
    read_by_any: set[str] = set()
    for k in discovery.roots:
        read_by_any.update(discovery.inputs(k))
    keep = {f for k in roots for f in discovery.inputs(k)}
    # files no root reads (plain manifests, stray YAML) are owned by their own path's shard
    keep.update(
        f for f in discovery.yaml_files if f not in read_by_any and shard_of(f, count) == index
    )
    return replace(
        discovery,
        shard=(index, count, scope(discovery)),
        roots=roots,
        plain_files=[f for f in discovery.plain_files if f in keep],
        yaml_files=[f for f in discovery.yaml_files if f in keep],
        findings=[
            f
            for f in discovery.findings
            if f.file in keep or (f.file not in read_by_any and shard_of(f.file, count) == index)
        ],
    )

"""servegate's code fingerprint (servegate/memo/code.py): any edit to a module moves it."""

from __future__ import annotations

import os
from pathlib import Path

import servegate
from servegate.memo import code


def test_code_fingerprint_follows_servegate_files() -> None:
    code.code_fingerprint.cache_clear()
    before = code.code_fingerprint()
    rule = Path(servegate.__file__).parent / "rules" / "pss" / "privileged.py"
    assert rule.is_file()
    stat = rule.stat()
    try:
        os.utime(rule, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        code.code_fingerprint.cache_clear()
        assert code.code_fingerprint() != before
    finally:
        os.utime(rule, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        code.code_fingerprint.cache_clear()
    assert code.code_fingerprint() == before

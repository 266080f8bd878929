"""Rendered objects back to their sources (servegate/origins.py)."""

from __future__ import annotations

import os
import random
from pathlib import Path


def test_origin_file_by_string_equals_relpath() -> None:
    from servegate.origins import _relative

    rng = random.Random(5)
    parts = ["r", "repo", "a", "..", "b.yaml", "repo2"]
    roots = [Path("/r/repo"), Path("/"), Path("/r/repo/a"), Path("rel/repo")]
    for _ in range(2000):
        absolute = os.path.normpath("/" + "/".join(rng.choice(parts) for _ in range(5)))
        for root in roots:
            expected = Path(os.path.relpath(absolute, root)).as_posix()
            assert _relative(absolute, root) == expected, (absolute, root)

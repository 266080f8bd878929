"""``python -m servegate.demo DIR`` (``make demo``): scaffold a repo with the defaults into DIR
and check it (it passes untouched), then check a copy with two everyday mistakes made in the
prod overlay and show what servegate reports. The exit code is 0 only when the clean repo passes
and the broken copy is caught."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

#: Two mistakes teams really make: a debug setting left in prod, and mTLS relaxed "for now".
_PRIVILEGED = "      securityContext:\n        privileged: true\n"


def _break(repo: Path) -> None:
    patch = repo / "overlays" / "prod" / "inferenceservice-patch.yaml"
    text = patch.read_text(encoding="utf-8")
    patch.write_text(text.replace("    model:\n", "    model:\n" + _PRIVILEGED, 1), "utf-8")
    peer = repo / "base" / "peerauthentication.yaml"
    peer.write_text(
        peer.read_text(encoding="utf-8").replace("mode: STRICT", "mode: PERMISSIVE"),
        encoding="utf-8",
    )


def main(argv: Sequence[str] | None = None) -> int:
    from servegate.cli import main as servegate

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m servegate.demo DIR", file=sys.stderr)
        return 2
    target = Path(args[0])
    # a fresh temporary dir (make's mktemp) is empty; anything else must be empty too
    code = servegate(["new", str(target), "--no-input"])
    if code != 0:
        return code
    print(f"\n$ servegate check {target}", flush=True)
    clean = servegate(["check", str(target)])
    broken = target.with_name(target.name + "-broken")
    shutil.rmtree(broken, ignore_errors=True)
    shutil.copytree(target, broken)
    _break(broken)
    print(
        f"\n# the same repo with a privileged model container in prod and PERMISSIVE mTLS:\n"
        f"$ servegate check {broken}",
        flush=True,
    )
    caught = servegate(["check", str(broken)])
    return 0 if clean == 0 and caught == 1 else 1


if __name__ == "__main__":
    sys.exit(main())

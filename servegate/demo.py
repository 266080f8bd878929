"""``python -m servegate.demo DIR`` (``make demo``): scaffold a repo with the defaults into DIR
and run ``servegate check`` on it, printing the report; the exit code is check's."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from servegate.cli import main as servegate

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m servegate.demo DIR", file=sys.stderr)
        return 2
    target = args[0]
    # a fresh temporary dir (make's mktemp) is empty; anything else must be empty too
    code = servegate(["new", target, "--no-input"])
    if code != 0:
        return code
    print(f"$ servegate check {target}", file=sys.stderr)
    return servegate(["check", target])


if __name__ == "__main__":
    sys.exit(main())

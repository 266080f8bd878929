"""``servegate cache info|clear``: what earlier checks remembered (``servegate.memo``)."""

from __future__ import annotations

import click


@click.group()
def cache() -> None:
    """The memo of earlier checks: parsed files, kustomize output, findings per unit.

    It lives in $SERVEGATE_CACHE_DIR, else the platform's user cache folder; `check
    --no-cache` neither reads nor writes it.
    """


@cache.command("info")
def info() -> int:
    """Print where the memo is and what each stage holds."""
    from servegate.memo.store import cache_dir
    from servegate.memo.store import info as stages

    directory = cache_dir()
    found = stages(directory)
    click.echo(f"cache: {directory}")
    if not found:
        click.echo("empty")
        return 0
    width = max(len(s.name) for s in found)
    for stage in found:
        click.echo(f"{stage.name:<{width}}  {stage.entries:>7,} entries  {_size(stage.bytes):>9}")
    total = sum(s.bytes for s in found)
    click.echo(
        f"{'total':<{width}}  {sum(s.entries for s in found):>7,} entries  {_size(total):>9}"
    )
    return 0


@cache.command("clear")
def clear() -> int:
    """Remove everything the memo holds (the next check starts cold)."""
    from servegate.memo.store import cache_dir
    from servegate.memo.store import clear as remove

    directory = cache_dir()
    removed = remove(directory)
    click.echo(f"cache: {directory}: {removed:,} entries removed")
    return 0


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n / 1024 / 1024:.1f} MiB"

"""``servegate render``: print the objects check validates, after kustomize."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("path", type=click.Path(path_type=str), default=".")
def render(path: str) -> int:
    """Render PATH (a repo, overlay or YAML files) as check sees it, as YAML on stdout."""
    from servegate.console import fail
    from servegate.engine import load_resources
    from servegate.errors import ToolMissing, UsageError
    from servegate.options import CheckOptions
    from servegate.yamlwrite import dump_all

    try:
        groups, findings = load_resources(CheckOptions(paths=[Path(path)]))
    except UsageError as err:
        return fail(str(err))
    except ToolMissing as err:
        return fail(str(err))
    for finding in findings:
        click.echo(
            f"{finding.file}:{finding.line}: {finding.severity.value} {finding.rule} "
            f"{finding.message}",
            err=True,
        )
    bodies = [r.body for g in groups for r in g.resources]
    click.echo(dump_all(bodies), nl=False)
    return 1 if findings else 0

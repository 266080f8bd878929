"""``servegate rules`` and ``servegate explain``: the rule registry, for people and docs."""

from __future__ import annotations

import click

from servegate.commands._options import NearestChoice


@click.command()
@click.option(
    "--format",
    "fmt",
    type=NearestChoice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="markdown is what docs/rules.md is generated from.",
)
def rules(fmt: str) -> int:
    """List every rule: id, default severity and title."""
    from servegate.rules import all_rules

    registry = all_rules()
    if fmt == "json":
        import json

        click.echo(
            json.dumps(
                [
                    {
                        "id": r.id,
                        "family": r.family,
                        "severity": r.severity.value,
                        "title": r.title,
                        "level": r.level.value if r.level else None,
                        "summary": r.summary,
                    }
                    for r in registry.values()
                ],
                indent=2,
            )
        )
    elif fmt == "markdown":
        from servegate.rules.docs import markdown

        click.echo(markdown(registry), nl=False)
    else:
        width = max(len(r.id) for r in registry.values())
        for r in registry.values():
            click.echo(f"{r.id:<{width}}  {r.severity.value:<7}  {r.title}")
    return 0


@click.command()
@click.argument("rule_id", metavar="RULE")
def explain(rule_id: str) -> int:
    """Show one rule's documentation: what it does, why, an example and the fix."""
    from servegate.rules import all_rules
    from servegate.rules.docs import rule_text

    registry = all_rules()
    rule = registry.get(rule_id)
    if rule is None:
        close = [r for r in registry if rule_id in r]
        hint = f"; did you mean {', '.join(close[:5])}?" if close else "; see `servegate rules`"
        click.echo(f"servegate: error: unknown rule {rule_id!r}{hint}", err=True)
        return 2
    click.echo(rule_text(rule), nl=False)
    return 0

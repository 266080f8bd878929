"""``servegate schemas build``: derive the strict CRD schemas shipped in ``schemas/crds``."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("schemas")
def schemas() -> None:
    """Derived CRD schemas."""


@schemas.command("build")
@click.option(
    "--from",
    "sources",
    multiple=True,
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="CRD file or folder (searched recursively); repeatable.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write <group>_<version>_<kind>.json and index.json into.",
)
@click.option(
    "--exclude",
    multiple=True,
    metavar="GROUP/KIND",
    help="Leave out kinds matching this glob (e.g. 'iter8.tools/*'); repeatable. "
    "Default: the legacy Iter8 v2 API.",
)
@click.option("--all", "include_all", is_flag=True, help="Exclude nothing by default.")
def build(
    sources: tuple[Path, ...], out: Path, exclude: tuple[str, ...], include_all: bool
) -> None:
    """Write one strict, description-free JSON Schema per served CRD version."""
    from servegate.schema.build import DEFAULT_EXCLUDE, CRDError
    from servegate.schema.build import build as build_schemas

    patterns = [*(() if include_all else DEFAULT_EXCLUDE), *exclude]
    try:
        written = build_schemas(list(sources), out, exclude=patterns)
    except CRDError as err:
        raise click.UsageError(str(err)) from None
    except OSError as err:
        raise click.ClickException(f"{out}: {err.strerror or err}") from None
    extra = ", ".join(p.name for p in written[-2:])
    click.echo(f"wrote {len(written) - 2} schemas, {extra} to {out}", err=True)

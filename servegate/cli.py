"""The ``servegate`` command line: a click group whose commands load lazily.

Each command lives in its own module under ``servegate.commands``; this file only names them,
so ``servegate --version`` imports nothing heavy.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import threading
from collections.abc import Sequence
from contextlib import suppress
from typing import NoReturn

import click

from servegate import __version__

#: command name -> (module, attribute, one-line help shown by ``servegate --help``)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "check": ("servegate.commands.check", "check", "Render and validate a repo, overlay or files."),
    "render": (
        "servegate.commands.render",
        "render",
        "Print what check validates, after kustomize.",
    ),
    "rules": ("servegate.commands.rules", "rules", "List every rule."),
    "explain": ("servegate.commands.rules", "explain", "Show one rule's docs: why, example, fix."),
    "new": ("servegate.commands.new", "new", "Scaffold a model's GitOps repo."),
    "add": ("servegate.commands.new", "add", "Add to a generated repo (an environment overlay)."),
    "promote": (
        "servegate.commands.promote",
        "promote",
        "Move an overlay's canary: --canary N, --full, --rollback.",
    ),
    "canary": (
        "servegate.commands.canary",
        "canary",
        "Metric-driven canary promotion: analyze against Prometheus, step in git.",
    ),
    "argocd": ("servegate.commands.argocd", "argocd", "Argo CD Config Management Plugin commands."),
    "ct": (
        "servegate.commands.ct",
        "ct",
        "Continuous-training pipeline (Argo Workflows) commands.",
    ),
    "merge": ("servegate.commands.merge", "merge", "Merge JSON reports of sharded checks."),
    "cache": (
        "servegate.commands.cache",
        "cache",
        "Show (info) or reset (clear) what earlier checks remembered.",
    ),
    "baseline": (
        "servegate.commands.baseline",
        "baseline",
        "Accept today's findings so check --baseline fails only on new ones.",
    ),
    "schemas": ("servegate.commands.schemas", "schemas", "Build derived CRD schemas."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name, (module, _, _) in COMMANDS.items() if _available(module)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None or not _available(entry[0]):
            return None
        command = getattr(importlib.import_module(entry[0]), entry[1])
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _available(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="servegate")
def cli() -> None:
    """servegate: scaffold KServe model GitOps repos and gate them before Argo CD syncs.

    Exit codes: 0 no error-level finding, 1 at least one error-level finding,
    2 usage or environment error.
    """


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point; returns the exit code (never raises for user errors)."""
    from servegate.console import fail
    from servegate.procs import Terminated, stopping_children

    try:
        with stopping_children():  # SIGTERM/SIGINT stop kustomize and clean up, then exit
            result = cli.main(
                args=list(argv) if argv is not None else None,
                prog_name="servegate",
                standalone_mode=False,
            )
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.ClickException as err:  # click's own usage errors, in servegate's style
        message = err.format_message()
        if isinstance(err, click.UsageError) and err.ctx is not None:
            message += f" (see '{err.ctx.command_path} --help')"
        fail(message)
        return 2 if err.exit_code in (1, 2) else err.exit_code
    except click.exceptions.Abort as err:
        if isinstance(err.__context__, KeyboardInterrupt):
            click.echo("servegate: interrupted", err=True)
            return 130
        fail("aborted")
        return 2
    except KeyboardInterrupt:
        click.echo("servegate: interrupted", err=True)
        return 130
    except Terminated as stop:
        click.echo("servegate: terminated", err=True)
        return stop.code
    except BrokenPipeError:
        return 1
    except Exception as err:  # a bug of ours: one line, not a traceback, unless asked
        if os.environ.get("SERVEGATE_DEBUG"):
            raise
        first = (str(err).splitlines() or [""])[0][:300]
        click.echo(
            f"servegate: internal error: {type(err).__name__}: {first} "
            "(set SERVEGATE_DEBUG=1 for the traceback, and please report it)",
            err=True,
        )
        return 2
    return result if isinstance(result, int) else 0


def run() -> NoReturn:
    """The ``servegate`` command (console script and ``python -m servegate``): ``main``, then
    exit without tearing the heap down.

    A check of a large repo ends holding millions of objects (parsed files, rendered objects,
    effective pods); the interpreter's normal shutdown frees them one by one and collects
    cycles over all of them, about a second on the M=300 bench repo, after the report is out.
    Like mypy's ``--fast-exit`` (``mypy.util.hard_exit``), the process instead flushes its
    standard streams and leaves with ``os._exit``: every file servegate writes is closed,
    every child process reaped and the memo's background writes waited for before ``main``
    returns. The ordinary shutdown is kept when something may still need it: another thread
    alive, or a profiler, tracer (a debugger) or coverage measuring the run, which write what
    they measured at exit.
    """
    code = main()
    with suppress(BrokenPipeError, ValueError):  # a reader that went away, a closed stream
        sys.stdout.flush()
        sys.stderr.flush()
    measured = sys.getprofile() is not None or sys.gettrace() is not None or _monitored()
    if measured or threading.active_count() > 1 or "coverage" in sys.modules:
        sys.exit(code)
    os._exit(code)


def _monitored() -> bool:
    """Whether a tool (cProfile, a debugger, coverage) measures the run through
    ``sys.monitoring`` (Python 3.12+, PEP 669), where ``sys.getprofile`` and ``sys.gettrace``
    say nothing of it."""
    monitoring = getattr(sys, "monitoring", None)
    if monitoring is None:
        return False
    return any(monitoring.get_tool(tool) is not None for tool in range(6))


if __name__ == "__main__":  # pragma: no cover
    run()

"""What every command prints besides its report: one error style, and when to use colour.

Errors are one line on stderr, ``servegate: error: <message>``, with exit code 2 (usage or
environment); notes and warnings follow the same shape. Colour follows the two informal
standards: ``NO_COLOR`` set to anything non-empty turns it off (https://no-color.org), and
``FORCE_COLOR`` set to anything non-empty turns it on even when stdout is not a terminal
(https://force-color.org, which also gives it the last word over ``NO_COLOR``). A report
written to a file (``--output``) never has colour.
"""

from __future__ import annotations

import os
import sys

import click

PREFIX = "servegate"


def fail(message: str) -> int:
    """Print a one-line usage/environment error on stderr and return exit code 2."""
    click.echo(f"{PREFIX}: error: {message}", err=True)
    return 2


def warn(message: str) -> None:
    click.echo(f"{PREFIX}: warning: {message}", err=True)


def note(message: str) -> None:
    click.echo(f"{PREFIX}: note: {message}", err=True)


def use_color(output: str | None = None) -> bool:
    """Whether a report for stdout (``output`` None) gets ANSI colour."""
    if output is not None:
        return False
    if os.environ.get("FORCE_COLOR", ""):
        return True
    if os.environ.get("NO_COLOR", ""):
        return False
    return sys.stdout.isatty()

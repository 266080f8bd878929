"""Output formats: one module per format, each a pure function of the Report."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from servegate.model import Report

FORMATS: dict[str, str] = {
    "text": "servegate.report.text",
    "json": "servegate.report.json_",
    "sarif": "servegate.report.sarif",
    "junit": "servegate.report.junit",
    "github": "servegate.report.github",
}


def available_formats() -> list[str]:
    return [name for name, module in FORMATS.items() if importlib.util.find_spec(module)]


def formatter(name: str) -> Callable[[Report, bool], str]:
    """``render(report, color) -> str`` for the format ``name``."""
    render: Callable[[Report, bool], str] = importlib.import_module(FORMATS[name]).render
    return render

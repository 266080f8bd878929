"""Hatch build hook: copy servegate's data folders into the wheel as servegate/_data/<name>.

A hook rather than `force-include` so that editable installs are untouched: there the package
finds the folders in the checkout (see servegate/datafiles.py).
"""

from __future__ import annotations

from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

DATA_DIRS = ("generator", "environments", "policies", "schemas", "argo")


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        for name in DATA_DIRS:
            build_data["force_include"][name] = f"servegate/_data/{name}"

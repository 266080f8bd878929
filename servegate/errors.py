"""The operator's errors: what ends a command with one line on stderr and exit code 2.

Everything wrong with the checked content is a finding instead (``servegate.model.Finding``).
Commands catch these three; the stages that raise them import them from here.
"""

from __future__ import annotations


class UsageError(Exception):
    """servegate was called wrongly: a bad flag, a missing path, a path outside the repo."""


class ConfigError(Exception):
    """The operator's configuration cannot be used: an unknown policy set or profile, a
    ``--config`` file that is missing or invalid."""


class ToolMissing(Exception):
    """kubectl (with kustomize) cannot be found or run."""

"""The operator's configuration file: the policy servegate enforces, outside the checked repo.

Named by ``--operator-config FILE`` or, in the Argo CD plugin sidecar (where there is no
command line), by the sidecar's own environment variable ``SERVEGATE_OPERATOR_CONFIG``. An
Application cannot set it: Argo CD passes an Application's plugin env only as
``ARGOCD_ENV_<name>``. The file follows ``schemas/operator.schema.json``; anything wrong with it
is the operator's error, a ``UsageError`` (exit code 2), never a finding. Command-line flags win
over it; its ``ignore`` adds to ``--ignore``.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from servegate.errors import UsageError
from servegate.options import CheckOptions

ENV_VAR = "SERVEGATE_OPERATOR_CONFIG"


def path_of(options: CheckOptions) -> Path | None:
    """The operator configuration file of this run, if any."""
    if options.operator_config is not None:
        return options.operator_config
    named = os.environ.get(ENV_VAR, "").strip()
    return Path(named) if named else None


def load(path: Path) -> dict[str, Any]:
    """The validated mapping of the operator configuration ``path`` (UsageError otherwise)."""
    from servegate.ownschemas import errors
    from servegate.yamlsafe import load_bytes

    try:
        raw = path.read_bytes()
    except OSError as err:
        raise UsageError(
            f"{path}: cannot read the operator configuration: {err.strerror}"
        ) from None
    loaded = load_bytes(raw)
    if loaded.problems:
        problem = loaded.problems[0]
        raise UsageError(f"{path}:{problem.line}: operator configuration: {problem.message}")
    doc = loaded.documents[0] if loaded.documents else None
    data = doc.data if doc is not None else None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: the operator configuration must be a mapping with version: 1")
    found = errors("operator.schema.json", data)
    if found:
        where, message = found[0]
        line = doc.line_of(tuple(where)) if doc is not None else 1
        shown = ".".join(map(str, where)) or "(top level)"
        raise UsageError(f"{path}:{line}: operator configuration: {shown}: {message}")
    return data


def resolve(options: CheckOptions) -> CheckOptions:
    """``options`` with the operator configuration filled in where no flag said otherwise."""
    path = path_of(options)
    if path is None:
        return options
    data = load(path)
    policies = options.policies
    if policies is None and data.get("policies"):
        policies = (path.parent / str(data["policies"])).resolve()
        if not policies.is_dir():
            raise UsageError(f"{path}: policies {data['policies']!r}: not a folder")
    return replace(
        options,
        policies=policies,
        k8s_version=options.k8s_version or data.get("k8sVersion"),
        kserve_version=options.kserve_version or data.get("kserveVersion"),
        pss_level=options.pss_level or data.get("pssLevel"),
        select=list(options.select) or [str(s) for s in data.get("select") or []],
        ignore=[*options.ignore, *(str(s) for s in data.get("ignore") or [])],
        allow_repo_weakening=options.allow_repo_weakening or bool(data.get("allowRepoWeakening")),
        allow_plugin_env=options.allow_plugin_env or bool(data.get("allowPluginEnv")),
        honor_excludes=options.honor_excludes or bool(data.get("honorExcludes")),
        operator_config=path,
    )

"""Environment profiles: what dev, staging, prod (or a team's own environment) look like.

Shipped profiles live in servegate's ``environments/`` data folder; a repo may add or override
profiles in its own ``environments/`` folder. Every profile is validated against
``schemas/environment.schema.json`` before anyone uses it, so the generator and the checker
read the same, well-formed vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from servegate.datafiles import data_dir
from servegate.yamlsafe import YAMLProblem, load_bytes

PROFILE_DIR = "environments"


class ProfileError(Exception):
    """A profile is missing or malformed (a usage error: exit code 2)."""


@dataclass(frozen=True, slots=True)
class Profile:
    """One validated environment profile; ``data`` is the profile document as loaded."""

    name: str
    path: Path
    data: dict[str, Any]

    @property
    def canary_percent(self) -> int:
        return int(self.data["canary"]["trafficPercent"])

    @property
    def require_canary(self) -> bool:
        return bool(self.data["requireCanary"])


def load_profile(path: Path) -> Profile:
    """Load and validate one profile file; raise ProfileError with a one-line reason."""
    from servegate.ownschemas import first_error

    try:
        result = load_bytes(path.read_bytes())
    except OSError as err:
        raise ProfileError(f"cannot read profile {path}: {err.strerror}") from err
    if result.problems:
        problem: YAMLProblem = result.problems[0]
        raise ProfileError(f"{path}:{problem.line}: {problem.message}")
    if len(result.documents) != 1:
        raise ProfileError(f"{path}: a profile is exactly one YAML document")
    data = result.documents[0].data
    error = first_error("environment.schema.json", data)
    if error is not None:
        raise ProfileError(f"{path}: {error[0]}: {error[1]}")
    assert isinstance(data, dict)
    if data["name"] != path.stem:
        raise ProfileError(f"{path}: name {data['name']!r} must match the file name {path.stem!r}")
    auto = data["autoscaling"]
    if auto["minReplicas"] > auto["maxReplicas"]:
        raise ProfileError(f"{path}: autoscaling.minReplicas is above maxReplicas")
    if data["requireCanary"] and data["canary"]["trafficPercent"] == 0:
        raise ProfileError(f"{path}: requireCanary is true but canary.trafficPercent is 0")
    return Profile(name=data["name"], path=path, data=data)


def profile_dirs(repo: Path | None = None) -> list[Path]:
    """Folders searched for profiles, later ones winning: shipped, then the repo's own."""
    dirs = [data_dir(PROFILE_DIR)]
    if repo is not None and (repo / PROFILE_DIR).is_dir():
        dirs.append(repo / PROFILE_DIR)
    return dirs


def available(repo: Path | None = None) -> dict[str, Path]:
    """Profile name -> file, shipped ones overridden by the repo's own of the same name."""
    found: dict[str, Path] = {}
    for directory in profile_dirs(repo):
        for path in sorted(directory.glob("*.yaml")):
            found[path.stem] = path
    return found


def get(name: str, repo: Path | None = None) -> Profile:
    """The validated profile ``name``; ProfileError names the known ones when it is unknown."""
    known = available(repo)
    if name not in known:
        raise ProfileError(
            f"unknown environment profile {name!r} (known: {', '.join(sorted(known)) or 'none'})"
        )
    return load_profile(known[name])

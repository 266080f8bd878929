"""The fast paths of a warm check give what the plain ones gave: environment lookup by folder,
the persistent stat index of input digests, and string-based discovery."""

from __future__ import annotations

import random

from servegate.config import Config


def _environment_by_scan(environments: dict[str, str], rel: str) -> str | None:
    """The former O(entries) lookup: exact, else the longest folder above, "" matches all."""
    rel = rel.strip("/")
    best: tuple[int, str] | None = None
    for key, env in environments.items():
        if (rel == key or rel.startswith(key + "/") or not key) and (
            best is None or len(key) > best[0]
        ):
            best = (len(key), env)
    return best[1] if best else None


def test_environment_for_exact_longest_and_empty_key() -> None:
    config = Config(
        environments={
            "overlays": "dev",
            "overlays/prod": "prod",
            "overlays/prod/eu": "prod-eu",
            "argocd/applications/prod.yaml": "staging",
        }
    )
    assert config.environment_for("overlays/prod") == "prod"  # exact
    assert config.environment_for("/overlays/prod/") == "prod"  # slashes stripped
    assert config.environment_for("overlays/prod/eu/x.yaml") == "prod-eu"  # longest above
    assert config.environment_for("overlays/prod/us") == "prod"
    assert config.environment_for("overlays/production") == "dev"  # a folder, not a prefix
    assert config.environment_for("argocd/applications/prod.yaml") == "staging"
    assert config.environment_for("argocd/applications/dev.yaml") is None
    assert config.environment_for("elsewhere") is None
    config.environments[""] = "default"
    assert config.environment_for("elsewhere/deep/file.yaml") == "default"
    assert config.environment_for("") == "default"
    assert config.environment_for("overlays/prod/us") == "prod"  # a longer key still wins


def test_environment_for_agrees_with_a_scan_of_every_entry() -> None:
    rng = random.Random(7)
    parts = ["a", "b", "ab", "a.b", "", "c"]
    for _ in range(300):
        keys = {
            "/".join(rng.choice(parts) for _ in range(rng.randint(0, 3))): f"e{i}"
            for i in range(rng.randint(0, 6))
        }
        config = Config(environments=keys)
        for _ in range(20):
            rel = "/".join(rng.choice(parts) for _ in range(rng.randint(0, 4)))
            assert config.environment_for(rel) == _environment_by_scan(keys, rel), (keys, rel)

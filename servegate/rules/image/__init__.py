"""image: container image reference rules (tags, digests, registries)."""

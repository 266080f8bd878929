"""kserve: InferenceService rules (deployment mode, canary, storage, autoscaling, resources)."""

"""rollouts: Argo Rollouts analysis template rules."""

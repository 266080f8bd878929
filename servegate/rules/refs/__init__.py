"""refs: cross-object references inside what is checked together."""

"""servegate's side-by-side benchmark: a synthetic monorepo generator and the runner."""

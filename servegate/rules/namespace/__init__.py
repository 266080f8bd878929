"""namespace: rules about Namespace objects that hold workloads."""

"""rbac: Role, binding and service-account rules."""

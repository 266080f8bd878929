"""pods: pod specs the pod-spec layer could not read (podSpecPatch, embedded manifests)."""

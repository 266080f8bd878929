"""istio: mTLS, authorization and sidecar-injection rules."""

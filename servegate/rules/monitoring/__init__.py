"""monitoring: Prometheus Operator monitoring objects (PrometheusRule)."""

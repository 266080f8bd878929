"""Admission beyond the OpenAPI schema: what the API server's validation code checks on
built-in kinds (kubernetes ``pkg/apis/*/validation``, apimachinery ``pkg/api/validation`` and
``pkg/util/validation``) that no schema expresses.

A family of its own rather than more ``schema.*`` findings: each check is a rule with its own
upstream source, documentation, fixtures and Kubernetes-version behaviour (Service names,
environment variable names), can be selected, ignored or exempted by id, and runs on the parsed
resource and its pod specs like every other rule (so KServe pods count too), while ``schema.*``
stays what schema validation reports.
"""

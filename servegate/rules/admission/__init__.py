"""Admission beyond the OpenAPI schema: what the API server's validation code checks on
built-in kinds (kubernetes ``pkg/apis/*/validation``, apimachinery ``pkg/api/validation`` and
``pkg/util/validation``) that no schema expresses."""

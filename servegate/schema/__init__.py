"""Schema validation: core kinds through kubernetes-validate's bundled strict schemas, CRD kinds
through strict JSON Schemas derived from CustomResourceDefinitions (``build``, ``validate``)."""

"""## What it does
Evaluates the CEL validation rules (`x-kubernetes-validations`) of the object's
CustomResourceDefinition, as the API server does on a create, and reports each rule that does
not hold (or fails to evaluate) at its field, with the CRD's message.

Rules run at their schema node with `self` bound to the value there, after null-pruning and
defaulting, with the Kubernetes CEL libraries; `messageExpression`, `fieldPath`, `reason` and
`optionalOldSelf` are honoured. Transition rules (those reading `oldSelf` without
`optionalOldSelf`) compare with the stored object and are never judged: docs/cel.md lists those
of the shipped CRDs. No rule runs on an object with a type, required, enum or size error, as
upstream.

## Why is this bad?
The API server refuses the object (Argo CD shows the sync as failed), so the change never
reaches the cluster; the OpenAPI schema alone does not catch it.

## Example
```yaml
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
spec:
  selector:
    matchLabels: {app: fraud}
  targetRefs:
  - {kind: Service, name: fraud}
```

## Use instead
```yaml
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
spec:
  targetRefs:
  - {kind: Service, name: fraud}
```

## References
- kubernetes/apiextensions-apiserver `pkg/apiserver/schema/cel/validation.go` (evaluation,
  messages, fieldPath, reason), `pkg/registry/customresource/strategy.go` (`hasBlockingErr`)
- kubernetes/apiserver `pkg/cel/common/values.go` (how values are typed), `pkg/cel/escaping.go`,
  `pkg/cel/environment/base.go` and `pkg/cel/library` (the functions)
- https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#validation-rules
"""

from __future__ import annotations

from servegate.model import Severity
from servegate.rules.base import reported

RULE = reported(
    "schema.cel", "Object fails a validation rule of its CRD", Severity.ERROR, doc=__doc__
)

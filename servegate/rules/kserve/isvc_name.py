"""## What it does
Flags an InferenceService whose name KServe's validating webhook refuses: it must match
`[a-z]([-a-z0-9]*[a-z0-9])?`, that is start with a lower-case letter, hold only lower-case
letters, digits and `-`, and not end with `-`. This is stricter than the DNS-1123 subdomain the
API server accepts for custom resources: no leading digit, no `.`.

## Why is this bad?
The API server admits the name, the webhook rejects the object: Argo CD shows a sync error at
deploy time ("a InferenceService name must consist of lower case alphanumeric characters or
'-', and must start with alphabetical character"), and the model never rolls out. KServe
derives Service, Deployment and host names from it, so a leading digit or a dot cannot work.

## Example
```yaml
kind: InferenceService
metadata:
  name: 7b-llm.v2
```

## Use instead
```yaml
kind: InferenceService
metadata:
  name: llm-7b-v2
```

## References
- kserve/kserve `pkg/apis/serving/v1beta1/inference_service_validation.go`
  (`IsvcNameFmt`, `validateInferenceServiceName`)
- kserve/kserve `pkg/apis/serving/v1beta1/component.go` (`InvalidISVCNameFormatError`)
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule

ISVC_NAME_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_NAME = re.compile(f"^{ISVC_NAME_FMT}$")


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    name = r.metadata.get("name")
    if not isinstance(name, str) or _NAME.match(name):
        return
    yield Violation(
        ("metadata", "name"),
        f"KServe's webhook refuses the name: it must start with a letter and hold only "
        f"lower-case letters, digits and '-' (regex '{ISVC_NAME_FMT}')",
        f"InferenceService {name!r}",
    )


RULE = rule(
    "kserve.isvc-name",
    "InferenceService names pass KServe's webhook",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={"InferenceService"},
    doc=__doc__,
)

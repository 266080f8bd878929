"""## What it does
Flags a `Secret` committed with `data` or `stringData`.

## Why is this bad?
Base64 is an encoding, not encryption: every reader of the repository, every fork and every
CI log has the value, forever, in Git history. Storage credentials for models are the usual
victim.

## Example
```yaml
apiVersion: v1
kind: Secret
metadata: {name: s3-creds}
stringData:
  AWS_SECRET_ACCESS_KEY: wJalrXUtnFEMI
```

## Use instead
Keep the secret out of Git: an ExternalSecret, a SealedSecret, or a secret created by the
platform, referenced by name.

## References
- https://kubernetes.io/docs/concepts/security/secrets-good-practices/
- https://argo-cd.readthedocs.io/en/stable/operator-manual/secret-management/
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    if r.api_version != "v1":
        return
    for key in ("data", "stringData"):
        value = r.body.get(key)
        if isinstance(value, dict) and value:
            yield Violation((key,), f"secret values committed in {key}", f"Secret {r.name!r}")


RULE = rule(
    "repo.committed-secret",
    "No secret values in Git",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={"Secret"},
    doc=__doc__,
)

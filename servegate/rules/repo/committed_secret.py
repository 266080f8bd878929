"""## What it does
Flags a `Secret` committed with values in `data` or `stringData`. A Secret whose values are
all empty (`""` or null), the placeholder some platforms commit and fill in on the cluster
(OpenShift AI data connections, for example), holds no secret and is not reported.

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
- https://kubernetes.io/docs/concepts/configuration/secret/ (`data` values are base64 strings;
  an empty one is valid)
- https://kubernetes.io/docs/concepts/security/secrets-good-practices/
- https://argo-cd.readthedocs.io/en/stable/operator-manual/secret-management/
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule


def _placeholder(value: object) -> bool:
    return value is None or value == ""


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    if r.api_version != "v1":
        return
    for key in ("data", "stringData"):
        value = r.body.get(key)
        if not isinstance(value, dict):
            continue
        filled = [k for k, v in value.items() if not _placeholder(v)]
        if filled:
            yield Violation(
                (key,),
                f"secret values committed in {key} ({', '.join(map(str, filled[:5]))}"
                f"{', ...' if len(filled) > 5 else ''})",
                f"Secret {r.name!r}",
            )


RULE = rule(
    "repo.committed-secret",
    "No secret values in Git",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={"Secret"},
    doc=__doc__,
)

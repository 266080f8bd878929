"""## What it does
Flags a `Secret` committed with values in `data` or `stringData`. A Secret whose values are
all placeholders holds no secret and is not reported: empty (`""` or null), which some
platforms commit and fill in on the cluster (OpenShift AI data connections, for example), or
the placeholders argocd-vault-plugin replaces while Argo CD renders (`<path:kv/data/db#password>`
anywhere; `<password>` in a Secret annotated `avp.kubernetes.io/path`).

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
- https://argocd-vault-plugin.readthedocs.io/en/stable/howitworks/ (generic placeholders with
  the `avp.kubernetes.io/path` annotation, inline-path placeholders `<path:...#key>`;
  argoproj-labs/argocd-vault-plugin#106)
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule

_INLINE_PATH = re.compile(r"^\s*<path:[^<>]+>\s*$")
_GENERIC = re.compile(r"^\s*<[^<>\s]+>\s*$")
AVP_PATH = "avp.kubernetes.io/path"


def _placeholder(value: object, avp: bool) -> bool:
    """Whether ``value`` holds no secret: empty, or a placeholder argocd-vault-plugin fills."""
    if value is None or value == "":
        return True
    if not isinstance(value, str):
        return False
    return bool(_INLINE_PATH.match(value) or (avp and _GENERIC.match(value)))


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    if r.api_version != "v1":
        return
    avp = bool(r.annotations.get(AVP_PATH))
    for key in ("data", "stringData"):
        value = r.body.get(key)
        if not isinstance(value, dict):
            continue
        filled = [k for k, v in value.items() if not _placeholder(v, avp)]
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

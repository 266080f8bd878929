"""## What it does
Checks every `storageUri` of an InferenceService (model and framework containers of every
component, canaries included): it must have a scheme from the policy set's
`allowedStorageSchemes`, never plain `http://`, carry no credentials (`user:password@`, or
signed-URL query parameters such as `X-Amz-Signature`, `sig`, `token`), and, when the policy
set lists `allowedBuckets`, name one of those buckets (or hosts). `pvc://` URIs are not
bucket-checked.

## Why is this bad?
A model is code: whoever can change the bytes behind the URI controls the server. Plain HTTP
lets anyone on the path swap the model; credentials in Git leak to every reader of the repo;
an unapproved bucket is outside your review and retention rules.

## Example
```yaml
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
      storageUri: http://admin:hunter2@models.example.com/iris
```

## Use instead
```yaml
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
      storageUri: s3://acme-models/iris/v3
```

## References
- https://kserve.github.io/website/docs/model-serving/storage/overview
- policy parameters `allowedStorageSchemes`, `allowedBuckets`
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from servegate.model import Severity
from servegate.podspecs import KSERVE_SHORTCUTS
from servegate.resource import FieldPath, Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.kserve._isvc import components, who

_SECRET_QUERY_KEYS = frozenset(
    {
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
        "x-goog-signature",
        "x-goog-credential",
        "sig",
        "signature",
        "token",
        "access_token",
        "sv",
        "password",
        "secret",
    }
)


def _uris(r: Resource) -> Iterator[tuple[str, FieldPath, Any]]:
    for label, path, body in components(r):
        for key in KSERVE_SHORTCUTS:
            shortcut = body.get(key)
            if isinstance(shortcut, dict) and "storageUri" in shortcut:
                yield label, (*path, key, "storageUri"), shortcut["storageUri"]


def problems(uri: str, schemes: list[str], buckets: list[str]) -> Iterator[str]:
    scheme, sep, rest = uri.partition("://")
    if not sep:
        yield f"storageUri {uri!r} has no scheme (expected one of {', '.join(schemes)})"
        return
    scheme = scheme.lower()
    if scheme == "http":
        yield f"storageUri {uri!r} uses plain http: use https or an object store"
    elif schemes and scheme not in schemes:
        yield f"storage scheme {scheme!r} is not allowed ({', '.join(schemes)})"
    authority, _, query = rest.partition("?")
    authority = authority.partition("/")[0]
    if "@" in authority:
        yield "storageUri carries credentials (user@host): use a secret on the service account"
        authority = authority.rpartition("@")[2]
    for pair in query.split("&") if query else ():
        if pair.partition("=")[0].lower() in _SECRET_QUERY_KEYS:
            yield "storageUri carries a signed or secret query parameter: use a secret instead"
            break
    if buckets and scheme != "pvc" and authority not in buckets:
        yield f"bucket or host {authority!r} is not in allowedBuckets ({', '.join(buckets)})"


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    schemes = [str(s).lower() for s in ctx.param("allowedStorageSchemes") or []]
    buckets = [str(b) for b in ctx.param("allowedBuckets") or []]
    for label, path, uri in _uris(r):
        if not isinstance(uri, str):
            continue
        for reason in problems(uri.strip(), schemes, buckets):
            yield Violation(path, reason, who(r, label))


RULE = rule(
    "kserve.storage-uri",
    "Models load from allowed storage, without credentials",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={"InferenceService"},
    params={
        "allowedStorageSchemes": [
            "s3",
            "gs",
            "azure",
            "pvc",
            "hf",
            "oci",
            "https",
            "hdfs",
            "webhdfs",
        ],
        "allowedBuckets": [],
    },
    doc=__doc__,
)

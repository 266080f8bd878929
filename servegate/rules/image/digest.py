"""## What it does
Where the policy set says `requireDigest: true` (the rule default; the shipped policy sets
turn it off), flags images not pinned by digest
(`@sha256:...`).

## Why is this bad?
A tag can be pushed again; only a digest names exactly the bytes that were reviewed and
scanned. Production policy sets often require it so that what Argo CD syncs is what CI built.

## Example
```yaml
containers:
- name: kserve-container
  image: ghcr.io/acme/model-server:1.4.2
```

## Use instead
```yaml
containers:
- name: kserve-container
  image: ghcr.io/acme/model-server:1.4.2@sha256:4f2d9c0e...
```

## References
- https://kubernetes.io/docs/concepts/containers/images/#image-names
- policy parameter `requireDigest` (policies/*.yaml, servegate.yaml `policy:`)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.podspecs import PodSpecView
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.image._ref import images, parse, who


def check(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    if ctx.param("requireDigest") is not True:
        return
    for c, image, path in images(pod):
        if not parse(image).digest:
            yield Violation(
                path, f"image {image!r} is not pinned by digest (@sha256:...)", who(pod, c)
            )


RULE = rule(
    "image.digest",
    "Images are pinned by digest where required",
    Severity.ERROR,
    Scope.POD,
    check,
    params={"requireDigest": True},
    doc=__doc__,
)

"""## What it does
Flags container images tagged `:latest`, or with no tag and no digest (which means `latest`),
in every container the pod-spec layer finds, KServe model containers that set `image` included.

## Why is this bad?
`latest` moves. The same Git commit deploys different code on different days, a rollback does
not roll back, and Argo CD cannot tell that anything changed. A model server must be as
reproducible as the model it serves.

## Example
```yaml
containers:
- name: kserve-container
  image: ghcr.io/acme/model-server:latest
```

## Use instead
```yaml
containers:
- name: kserve-container
  image: ghcr.io/acme/model-server:1.4.2@sha256:0f3c...
```

## References
- https://kubernetes.io/docs/concepts/containers/images/#image-names
- https://kubernetes.io/docs/concepts/configuration/overview/#container-images
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.podspecs import PodSpecView
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.image._ref import images, parse, who


def check(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    for c, image, path in images(pod):
        ref = parse(image)
        if ref.digest:
            continue  # a digest pins the image whatever the tag says
        if ref.tag is None:
            yield Violation(
                path, f"image {image!r} has no tag (means :latest): pin a version", who(pod, c)
            )
        elif ref.tag == "latest":
            yield Violation(path, f"image {image!r} uses :latest: pin a version", who(pod, c))


RULE = rule(
    "image.latest-tag",
    "Images are pinned to a version, not latest",
    Severity.ERROR,
    Scope.POD,
    check,
    doc=__doc__,
)

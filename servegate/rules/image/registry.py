"""## What it does
Flags images from a registry (or registry path) outside the policy set's `allowedRegistries`.
An entry allows a registry host (`ghcr.io`) or a path under it (`ghcr.io/acme`); Docker Hub
images without a host count as `docker.io`. An empty list allows any registry.

## Why is this bad?
Images from unvetted registries bypass the scanning, signing and mirroring your platform
team set up; a typo-squatted image name is one keystroke away.

## Example
```yaml
# allowedRegistries: [ghcr.io/acme]
containers:
- name: kserve-container
  image: docker.io/someone/model-server:1.0
```

## Use instead
```yaml
containers:
- name: kserve-container
  image: ghcr.io/acme/model-server:1.0
```

## References
- policy parameter `allowedRegistries` (policies/*.yaml, servegate.yaml `policy:`)
- https://kubernetes.io/docs/concepts/containers/images/#image-names
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.podspecs import PodSpecView
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.image._ref import images, parse, who


def allowed(name: str, registries: list[str]) -> bool:
    for entry in registries:
        entry = entry.rstrip("/")
        if name == entry or name.startswith(entry + "/"):
            return True
    return False


def check(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    registries = [str(r) for r in ctx.param("allowedRegistries") or []]
    if not registries:
        return
    for c, image, path in images(pod):
        if not allowed(parse(image).name, registries):
            yield Violation(
                path,
                f"image {image!r} is not from an allowed registry ({', '.join(registries)})",
                who(pod, c),
            )


RULE = rule(
    "image.registry",
    "Images come from allowed registries",
    Severity.ERROR,
    Scope.POD,
    check,
    params={"allowedRegistries": []},
    doc=__doc__,
)

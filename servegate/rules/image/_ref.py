"""Image references, parsed the way container runtimes read them, and where they are."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from servegate.podspecs import ContainerView, PodSpecView
from servegate.resource import FieldPath


@dataclass(frozen=True, slots=True)
class ImageRef:
    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def name(self) -> str:
        """``registry/repository`` with the implicit Docker Hub registry spelled out."""
        return f"{self.registry}/{self.repository}"


def parse(image: str) -> ImageRef:
    rest, _, digest = image.partition("@")
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    tag = None
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1 :]
    first, sep, remainder = rest.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry, repository = first, remainder
    else:
        registry, repository = "docker.io", rest
    return ImageRef(registry, repository, tag or None, digest or None)


def images(pod: PodSpecView) -> Iterator[tuple[ContainerView, str, FieldPath]]:
    """Every container that names an image (KServe shortcuts without ``image`` are skipped)."""
    for c in pod.containers:
        image = c.body.get("image")
        if isinstance(image, str) and image.strip():
            yield c, image.strip(), c.at("image")


def who(pod: PodSpecView, c: ContainerView) -> str:
    return f"{pod.label} container {c.name!r}"

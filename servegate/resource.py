"""Resource: one Kubernetes object as servegate checks it, and where its source lives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from servegate.yamlsafe import Document

FieldPath = tuple[str | int, ...]


class Locator(Protocol):
    """Knows which source line wrote a field of one rendered object (``servegate.provenance``)."""

    def locate(self, path: FieldPath) -> tuple[str, int] | None:
        """File and line for ``path`` (the object's ``within`` first), or None: ask the
        source document."""
        ...

    def removed(self, path: FieldPath) -> tuple[str, int] | None:
        """File and line of the patch that removed ``path`` (or a part of it), or None."""
        ...


@dataclass(frozen=True, slots=True)
class ResourceRef:
    """A Kubernetes object's identity: what a finding names and an exemption matches."""

    api_version: str
    kind: str
    namespace: str | None
    name: str

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"

    def as_dict(self) -> dict[str, str | None]:
        """As the JSON report and the baseline file write it."""
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
        }


@dataclass(frozen=True, slots=True)
class Patch:
    """A kustomize patch document that may have changed an object: lines win over the base."""

    file: str
    document: Document


@dataclass(frozen=True, slots=True)
class Origin:
    """The source a user edits: file relative to the repo root, and the document in it."""

    file: str
    document: Document | None = None
    patches: tuple[Patch, ...] = ()
    root: str | None = None
    """The kustomize root (overlay) this object was rendered from, if any."""
    within: FieldPath = ()
    """Where the object sits inside the source document: ``("items", 2)`` for a list's item,
    an Argo Workflows ``resource.manifest`` field for an object written there as text."""
    trace: Locator | None = field(default=None, compare=False, repr=False)
    """For a rendered object: which patch, replacement or transformer wrote each field
    (``servegate.provenance``), computed on the first ``locate``."""

    def locate(self, path: FieldPath) -> tuple[str, int]:
        """File and 1-based line of ``path`` in the source: the patch, replacement or
        kustomization field that last wrote it (or removed it), else the source document."""
        if self.within:
            path = (*self.within, *path)
        if self.trace is not None:
            found = self.trace.locate(path)
            if found is not None:
                return found
        for patch in reversed(self.patches):
            if path and path in patch.document.positions:
                return patch.file, patch.document.positions[path]
        if self.document is None:
            return self.file, 1
        return self.file, self.document.line_of(path)

    def removed(self, path: FieldPath) -> tuple[str, int] | None:
        """File and line of the patch that removed the field at ``path`` (or a part of it),
        or None: nothing did, or no replay can say (``servegate.provenance``)."""
        if self.trace is None:
            return None
        return self.trace.removed((*self.within, *path) if self.within else path)


@dataclass(frozen=True, slots=True)
class Resource:
    api_version: str
    kind: str
    namespace: str | None
    name: str
    body: dict[str, Any]
    origin: Origin
    ref: ResourceRef = field(init=False, compare=False)

    def __post_init__(self) -> None:
        ref = ResourceRef(self.api_version, self.kind, self.namespace, self.name)
        object.__setattr__(self, "ref", ref)

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    @property
    def metadata(self) -> dict[str, Any]:
        meta = self.body.get("metadata")
        return meta if isinstance(meta, dict) else {}

    @property
    def annotations(self) -> dict[str, Any]:
        ann = self.metadata.get("annotations")
        return ann if isinstance(ann, dict) else {}

    @property
    def labels(self) -> dict[str, Any]:
        labels = self.metadata.get("labels")
        return labels if isinstance(labels, dict) else {}

    @property
    def spec(self) -> dict[str, Any]:
        spec = self.body.get("spec")
        return spec if isinstance(spec, dict) else {}

    def locate(self, path: FieldPath) -> tuple[str, int]:
        return self.origin.locate(path)

    def removed(self, path: FieldPath) -> tuple[str, int] | None:
        return self.origin.removed(path)

    @classmethod
    def from_body(cls, body: dict[str, Any], origin: Origin) -> Resource:
        meta = body.get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        namespace = meta.get("namespace")
        return cls(
            api_version=str(body.get("apiVersion", "")),
            kind=str(body.get("kind", "")),
            namespace=str(namespace) if namespace else None,
            name=str(meta.get("name") or meta.get("generateName") or ""),
            body=body,
            origin=origin,
        )


def is_k8s_object(data: Any) -> bool:
    """A mapping with a string apiVersion and kind: what servegate treats as an object."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("apiVersion"), str)
        and isinstance(data.get("kind"), str)
    )


def dotted(path: FieldPath) -> str:
    """``('spec', 'containers', 0, 'image')`` -> ``spec.containers[0].image``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` if it is a mapping, else an empty one: repo YAML may hold anything anywhere."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """``value`` if it is a list, else an empty one."""
    return value if isinstance(value, list) else []

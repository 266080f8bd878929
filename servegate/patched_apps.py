"""Argo CD Applications whose deployment kustomize changes from what their file says.

What an Application deploys is read from its file (``servegate.argocd_apps``, before anything
is rendered), but an Application that a kustomization lists (the app-of-apps pattern: a
parent Application deploys a folder of Applications) reaches the cluster as kustomize renders
it: a patch, a replacement or a component can add ``spec.source.kustomize.patches``, point
``path`` at another folder, or add a source, and Argo CD then deploys that (argoproj/argo-cd
``controller/appcontroller.go``: the child Application is an ordinary resource of the parent's
manifests). servegate would have checked something else, so each rendered Application or
ApplicationSet is compared with its source document over what decides the deployment: the
sources (every field but ``targetRevision``: servegate checks the working tree whatever the
revision), the destination namespace, and an ApplicationSet's generators, template and
template patch. A difference is an ``argocd.source-unchecked`` error where the change was
written (the patch's line), naming the field.

Only objects of ``argoproj.io`` kinds ``Application`` and ``ApplicationSet`` are read: no
per-object work for anything else.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from servegate.model import Finding
from servegate.resource import FieldPath, Resource, as_dict
from servegate.rules.argocd.source_unchecked import RULE as UNCHECKED

_KINDS = frozenset({"Application", "ApplicationSet"})
_GROUP = "argoproj.io/"


def patched(resources: Iterable[Resource], unit: str) -> Iterator[Finding]:
    """An error for each rendered Application or ApplicationSet in ``resources`` (one unit's
    kustomize output) whose deployment differs from its source document's."""
    for resource in resources:
        if resource.kind not in _KINDS or not resource.api_version.startswith(_GROUP):
            continue
        source = _source_body(resource)
        if source is None:
            continue
        where = _difference(_view(resource.kind, resource.body), _view(resource.kind, source))
        if where is None:
            continue
        field_path = _field_path(resource.kind, where)
        file, line = resource.locate(field_path)
        shown = ".".join(str(p) for p in field_path)
        message = (
            f"{resource.kind} '{resource.name}': kustomize changes what it deploys ({shown} "
            f"differs from {resource.origin.file}); servegate checks an Application's sources as "
            "its file writes them, so what Argo CD would deploy is not checked: write the "
            "change into the Application's file"
        )
        yield UNCHECKED.finding(message, file, line, resource.ref, unit=unit)


def _source_body(resource: Resource) -> dict[str, Any] | None:
    """The object as its source document writes it (None: not rendered from a document)."""
    origin = resource.origin
    if origin.root is None or origin.document is None:
        return None
    node: Any = origin.document.data
    for step in origin.within:
        listed = isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node)
        if listed or (isinstance(node, dict) and step in node):
            node = node[step]
        else:
            return None
    return node if isinstance(node, dict) else None


def _view(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """What decides an Application's (or ApplicationSet's) deployment, normalized."""
    spec = as_dict(body.get("spec"))
    if kind == "Application":
        return _app_view(spec)
    template = as_dict(spec.get("template"))
    return as_dict(
        _clean(
            {
                "generators": spec.get("generators"),
                "template": _app_view(as_dict(template.get("spec"))),
                "templatePatch": spec.get("templatePatch"),
                "goTemplate": spec.get("goTemplate"),
                "goTemplateOptions": spec.get("goTemplateOptions"),
            }
        )
    )


def _app_view(spec: dict[str, Any]) -> dict[str, Any]:
    def source(value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {k: v for k, v in value.items() if k != "targetRevision"}

    sources = spec.get("sources")
    return as_dict(
        _clean(
            {
                "source": source(spec.get("source")),
                "sources": [source(s) for s in sources] if isinstance(sources, list) else sources,
                "destination": {"namespace": as_dict(spec.get("destination")).get("namespace")},
            }
        )
    )


def _clean(value: Any) -> Any:
    """Without nulls and empty mappings or lists (Argo CD reads them as absent)."""
    if isinstance(value, dict):
        out = {str(k): _clean(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _difference(a: Any, b: Any, at: FieldPath = ()) -> FieldPath | None:
    """The first path where ``a`` and ``b`` differ (None: equal)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return (*at, key)
            found = _difference(a[key], b[key], (*at, key))
            if found is not None:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return at
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = _difference(x, y, (*at, i))
            if found is not None:
                return found
        return None
    return None if a == b and type(a) is type(b) else at


def _field_path(kind: str, where: FieldPath) -> FieldPath:
    """The view's path as a path in the object (``template`` is ``spec.template.spec``)."""
    if kind == "ApplicationSet" and where[:1] == ("template",):
        return ("spec", "template", "spec", *where[1:])
    return ("spec", *where)

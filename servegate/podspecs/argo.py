"""Argo Workflows: the pod of every template, as the workflow controller builds it.

Sources (argoproj/argo-workflows): ``workflow/controller/operator.go``
``mergedTemplateDefaultsInto`` (``spec.templateDefaults`` strategic-merged under each template,
the defaults of other template types dropped); ``workflow/controller/workflowpod.go``
(workflow-level pod fields, the ``main`` container of container and script templates, init
containers and sidecars, then ``processPodSpecPatch``: the workflow's ``podSpecPatch`` and then
the template's, applied by ``workflow/util/util.go`` ``ApplyPodSpecPatch``). Templates written
inline in a step or a DAG task are templates too. ``resource`` and ``data`` templates run the
executor image as ``main``, set by the controller's configuration: their pod is judged only
when a podSpecPatch changes it, from the patch. The artifact GC pod likewise.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from servegate.podspecs.patch import PatchError, merge, parse_pod_spec_patch
from servegate.podspecs.views import CONTAINER_LISTS, ContainerView, PodSpecView
from servegate.resource import FieldPath, Resource, as_dict, as_list

KINDS = frozenset({"Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow"})
MAX_INLINE_DEPTH = 16

_TEMPLATE_TYPES = (
    "container",
    "containerSet",
    "script",
    "resource",
    "data",
    "dag",
    "steps",
    "suspend",
    "http",
    "plugin",
)
_POD_TYPES = frozenset({"container", "containerSet", "script", "resource", "data"})
_TEMPLATE_POD_FIELDS = frozenset(
    {
        "securityContext",
        "volumes",
        "nodeSelector",
        "tolerations",
        "affinity",
        "serviceAccountName",
        "automountServiceAccountToken",
        "hostAliases",
        "priorityClassName",
    }
)
#: The workflow-level fields Pod Security judges (a workflowTemplateRef's pods take them).
_POD_SECURITY_FIELDS = frozenset({"hostNetwork", "securityContext", "volumes"})
#: Workflow-level pod fields: what a template may set, and a few only the workflow sets.
_WORKFLOW_POD_FIELDS = _TEMPLATE_POD_FIELDS | {
    "hostNetwork",
    "dnsPolicy",
    "imagePullSecrets",
    "schedulerName",
}


#: workflow/common/security_context.go MinimalPodSC and MinimalCtrSC
_MINIMAL_POD_SC = {
    "runAsNonRoot": True,
    "runAsUser": 8737,
    "seccompProfile": {"type": "RuntimeDefault"},
}
_MINIMAL_CONTAINER_SC = {
    **_MINIMAL_POD_SC,
    "capabilities": {"drop": ["ALL"]},
    "privileged": False,
    "readOnlyRootFilesystem": True,
    "allowPrivilegeEscalation": False,
}


def workflow_spec(r: Resource) -> tuple[FieldPath, dict[str, Any]]:
    """Where the WorkflowSpec is: ``spec``, or a CronWorkflow's ``spec.workflowSpec``."""
    if r.kind == "CronWorkflow":
        return ("spec", "workflowSpec"), as_dict(r.spec.get("workflowSpec"))
    return ("spec",), r.spec


def templates(r: Resource) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    """(path, template as written) for every template, inline ones included."""
    path, spec = workflow_spec(r)
    stack = [
        ((*path, "templates", i), t, 0)
        for i, t in reversed(list(enumerate(as_list(spec.get("templates")))))
    ]
    while stack:
        tpath, template, depth = stack.pop()
        if not isinstance(template, dict):
            continue
        yield tpath, template
        if depth >= MAX_INLINE_DEPTH:
            continue
        inline: list[tuple[FieldPath, Any, int]] = []
        for j, group in enumerate(as_list(template.get("steps"))):
            for k, step in enumerate(as_list(group)):
                if isinstance(as_dict(step).get("inline"), dict):
                    inline.append(((*tpath, "steps", j, k, "inline"), step["inline"], depth + 1))
        for j, task in enumerate(as_list(as_dict(template.get("dag")).get("tasks"))):
            if isinstance(as_dict(task).get("inline"), dict):
                inline.append(((*tpath, "dag", "tasks", j, "inline"), task["inline"], depth + 1))
        stack.extend(reversed(inline))


def template_type(template: dict[str, Any]) -> str | None:
    return next((t for t in _TEMPLATE_TYPES if template.get(t) is not None), None)


def with_defaults(defaults: dict[str, Any], template: dict[str, Any]) -> dict[str, Any]:
    """``template`` with ``templateDefaults`` merged under it as the controller merges them."""
    if not defaults:
        return template
    kind = template_type(template)
    applicable = {k: v for k, v in defaults.items() if k not in _TEMPLATE_TYPES or k == kind}
    try:
        merged = merge(applicable, template, "argo.Template")
    except PatchError:
        return template  # the controller refuses the workflow; the template is judged as is
    return merged if isinstance(merged, dict) else template


def patches(r: Resource) -> Iterator[tuple[FieldPath, str]]:
    """(path, text) of every podSpecPatch string in an Argo Workflows object."""
    path, spec = workflow_spec(r)
    for where, holder in (
        ((*path, "podSpecPatch"), spec),
        ((*path, "templateDefaults", "podSpecPatch"), as_dict(spec.get("templateDefaults"))),
        ((*path, "artifactGC", "podSpecPatch"), as_dict(spec.get("artifactGC"))),
    ):
        if isinstance(holder.get("podSpecPatch"), str):
            yield where, holder["podSpecPatch"]
    for tpath, template in templates(r):
        if isinstance(template.get("podSpecPatch"), str):
            yield (*tpath, "podSpecPatch"), template["podSpecPatch"]


def workflow_pods(r: Resource) -> Iterator[PodSpecView]:
    path, spec = workflow_spec(r)
    pod_fields = {k: v for k, v in spec.items() if k in _WORKFLOW_POD_FIELDS}
    defaults = as_dict(spec.get("templateDefaults"))
    pod_metadata = as_dict(spec.get("podMetadata"))
    workflow_patch = _patch_at((*path, "podSpecPatch"), spec)
    reference = as_dict(spec.get("workflowTemplateRef"))
    if reference and (workflow_patch or pod_fields.keys() & _POD_SECURITY_FIELDS):
        # the referenced template's pods take this spec's pod fields and podSpecPatch (the
        # controller merges the Workflow's spec over the template's: workflow/util/merge.go)
        target = f"{reference.get('kind') or 'WorkflowTemplate'} {reference.get('name')!r}"
        base = PodSpecView(
            r,
            f"{r.kind} pods of {target}",
            path,
            pod_fields,
            (),
            pod_metadata,
            True,
            (*path, "podMetadata"),
            {(k,): (*path, k) for k in pod_fields},
        )
        yield _patched(base, workflow_patch)
    for tpath, raw in templates(r):
        template = with_defaults(defaults, raw)
        if template_type(template) not in _POD_TYPES:
            continue
        patch_where = tpath if "podSpecPatch" in raw else (*path, "templateDefaults")
        found = [*workflow_patch, *_patch_at((*patch_where, "podSpecPatch"), template)]
        containers = _template_containers(template, tpath, raw, path)
        if not containers and not found:
            continue  # resource and data templates: the executor's pod, unchanged
        merged, field_paths = _merge_pod_fields(pod_fields, path, template, tpath, raw)
        metadata = {
            key: {
                **as_dict(pod_metadata.get(key)),
                **as_dict(as_dict(template.get("metadata")).get(key)),
            }
            for key in ("annotations", "labels")
        }
        label = f"{r.kind} template {template.get('name', tpath[-1])!r}"
        yield _patched(
            PodSpecView(
                r,
                label,
                tpath,
                merged,
                tuple(containers),
                metadata,
                True,
                (*tpath, "metadata"),
                field_paths,
            ),
            found,
        )
    gc = as_dict(spec.get("artifactGC"))
    gc_patch = _patch_at((*path, "artifactGC", "podSpecPatch"), gc)
    if gc_patch:
        # the controller's own artifact GC pod (workflow/controller/artifact_gc.go), hardened
        # with common.MinimalPodSC and MinimalCtrSC, which the patch may undo
        gc_path = (*path, "artifactGC")
        main = {"name": "main", "securityContext": dict(_MINIMAL_CONTAINER_SC)}
        base = PodSpecView(
            r,
            f"{r.kind} artifact GC pod",
            gc_path,
            {"securityContext": dict(_MINIMAL_POD_SC)},
            (ContainerView("main", "containers", main, gc_path),),
            as_dict(gc.get("podMetadata")),
            True,
            (*gc_path, "podMetadata"),
            {("securityContext",): gc_path},
        )
        yield _patched(base, gc_patch)


_Found = list[tuple[FieldPath, dict[str, Any] | str]]
"""(where, the parsed patch or why it cannot be read) of each podSpecPatch that applies."""


def _patch_at(where: FieldPath, holder: dict[str, Any]) -> _Found:
    text = holder.get("podSpecPatch")
    if not isinstance(text, str) or not text.strip():
        return []
    parsed = parse_pod_spec_patch(text)
    return [(where, parsed.patch if parsed.patch is not None else f"podSpecPatch {parsed.problem}")]


def _template_containers(
    template: dict[str, Any], tpath: FieldPath, raw: dict[str, Any], wf_path: FieldPath
) -> list[ContainerView]:
    def where(key: str) -> FieldPath:
        return (*tpath, key) if key in raw else (*wf_path, "templateDefaults", key)

    containers: list[ContainerView] = []
    for key in ("container", "script"):
        body = template.get(key)
        if isinstance(body, dict):
            # the controller names it "main" whatever the template says (workflowpod.go)
            containers.append(ContainerView("main", key, body, where(key)))
    container_set = as_dict(template.get("containerSet"))
    for j, body in enumerate(as_list(container_set.get("containers"))):
        if isinstance(body, dict):
            name = str(body.get("name") or f"containerSet[{j}]")
            path = (*where("containerSet"), "containers", j)
            containers.append(ContainerView(name, "containerSet", body, path))
    for section in ("initContainers", "sidecars"):
        for j, body in enumerate(as_list(template.get(section))):
            if isinstance(body, dict):
                name = str(body.get("name") or f"{section}[{j}]")
                containers.append(ContainerView(name, section, body, (*where(section), j)))
    return containers


def _merge_pod_fields(
    pod_fields: dict[str, Any],
    path: FieldPath,
    template: dict[str, Any],
    tpath: FieldPath,
    raw_template: dict[str, Any],
) -> tuple[dict[str, Any], dict[FieldPath, FieldPath]]:
    """Workflow-level pod fields overlaid by the template's, remembering where each came from.
    Volumes are joined (Argo mounts both lists); other fields are replaced."""
    merged = dict(pod_fields)
    paths: dict[FieldPath, FieldPath] = {(k,): (*path, k) for k in pod_fields}
    for key, value in template.items():
        if key not in _TEMPLATE_POD_FIELDS:
            continue
        where = (*tpath, key) if key in raw_template else (*path, "templateDefaults", key)
        if key == "volumes" and isinstance(value, list) and isinstance(merged.get(key), list):
            outer = merged[key]
            merged[key] = [*outer, *value]
            paths.pop((key,), None)
            paths.update({(key, j): (*path, key, j) for j in range(len(outer))})
            paths.update({(key, len(outer) + j): (*where, j) for j in range(len(value))})
            continue
        merged[key] = value
        paths[(key,)] = where
    return merged, paths


def _patched(pod: PodSpecView, given: _Found) -> PodSpecView:
    """``pod`` with each podSpecPatch applied in order, as ApplyPodSpecPatch does; every
    field a patch sets is located in that patch. A patch that cannot be read or applied is
    left out and recorded in ``problems`` (Argo would fail the pod)."""
    if not given:
        return pod
    problems = [(where, p) for where, p in given if isinstance(p, str)]
    found = [(where, p) for where, p in given if isinstance(p, dict)]
    if problems:
        pod = replace(pod, problems=(*pod.problems, *problems))
    if not found:
        return pod
    sections: dict[str, list[ContainerView]] = {"containers": [], "initContainers": []}
    for c in pod.containers:
        sections["initContainers" if c.section == "initContainers" else "containers"].append(c)
    spec: dict[str, Any] = dict(pod.spec)
    for section, views in sections.items():
        if views:
            spec[section] = [{**c.body, "name": c.name} for c in views]
    for where, patch in found:
        try:
            spec = merge(spec, patch)
        except PatchError as err:
            problem = (where, f"podSpecPatch cannot be applied: {err}")
            return replace(pod, problems=(*pod.problems, problem))
    field_paths = dict(pod.field_paths)
    for where, patch in found:
        for key, value in patch.items():
            if key in CONTAINER_LISTS or not isinstance(key, str) or key.startswith("$"):
                continue
            if key == "volumes" and isinstance(value, list):
                _locate_items(field_paths, spec, key, value, (*where, key))
            else:
                _locate_fields(field_paths, (key,), value, (*where, key), 3)
    containers: list[ContainerView] = []
    for section in CONTAINER_LISTS:
        originals = {c.name: c for c in sections.get(section, ())}
        for i, body in enumerate(as_list(spec.get(section))):
            if not isinstance(body, dict):
                continue
            name = str(body.get("name") or f"{section}[{i}]")
            original = originals.get(name)
            located: dict[FieldPath, FieldPath] = {}
            first: FieldPath | None = None
            for where, patch in found:
                for j, item in enumerate(as_list(patch.get(section))):
                    if isinstance(item, dict) and item.get("name") == name:
                        first = first or (*where, section, j)
                        for key, value in item.items():
                            if isinstance(key, str) and not key.startswith("$"):
                                _locate_fields(located, (key,), value, (*where, section, j, key), 3)
            if original is not None:
                containers.append(
                    ContainerView(name, original.section, body, original.path, located)
                )
            else:
                containers.append(
                    ContainerView(name, section, body, first or pod.at(section, i), located)
                )
    return PodSpecView(
        pod.resource,
        f"{pod.label} (with podSpecPatch)",
        pod.path,
        spec,
        tuple(containers),
        pod.metadata,
        pod.pod_level,
        pod.metadata_path,
        field_paths,
        pod.component,
        pod.inferred,
        pod.problems,
    )


def _locate_fields(
    into: dict[FieldPath, FieldPath], parts: FieldPath, value: Any, where: FieldPath, depth: int
) -> None:
    into[parts] = where
    if depth > 1 and isinstance(value, dict):
        for key, child in value.items():
            if isinstance(key, str) and not key.startswith("$"):
                _locate_fields(into, (*parts, key), child, (*where, key), depth - 1)


def _locate_items(
    into: dict[FieldPath, FieldPath],
    spec: dict[str, Any],
    key: str,
    items: list[Any],
    where: FieldPath,
) -> None:
    """List items merged by name (volumes): each merged item a patch touched is located there."""
    merged = as_list(spec.get(key))
    for j, item in enumerate(items):
        name = as_dict(item).get("name")
        for i, existing in enumerate(merged):
            if isinstance(existing, dict) and existing.get("name") == name:
                _locate_fields(into, (key, i), item, (*where, j), 3)

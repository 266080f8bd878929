"""## What it does
Checks the `storageUris` list of each InferenceService component (predictor, transformer,
explainer) as KServe's validating webhook does: it is not combined with a `storageUri` on the
component's model or framework container; every entry has a `uri` and an absolute
`mountPath` (default `/mnt/models`) that is not `/` and holds no `..`; the mount paths of the
non-PVC entries share a parent directory below `/`; PVC mount paths are unique. It also flags
a `STORAGE_URI` env var on the predictor's `transformer-container` (a transformer collocated
with the predictor loads no model).

## Why is this bad?
The schema admits all of these; KServe refuses the object at sync ("Setting both StorageURI and
StorageURIs is not supported", "storage paths must have a common parent directory"). A `..` in
a mount path is refused as a path-traversal attempt.

## Example
```yaml
spec:
  predictor:
    storageUris:
    - {uri: "s3://models/llm/base", mountPath: /mnt/base}
    - {uri: "s3://models/llm/lora", mountPath: /adapters/lora}
    model:
      modelFormat: {name: huggingface}
      storageUri: s3://models/llm/base
```

## Use instead
```yaml
spec:
  predictor:
    storageUris:
    - {uri: "s3://models/llm/base", mountPath: /mnt/models/base}
    - {uri: "s3://models/llm/lora", mountPath: /mnt/models/lora}
    model:
      modelFormat: {name: huggingface}
```

## References
- kserve/kserve `pkg/apis/serving/v1beta1/inference_service_validation.go`
  (`validateMultipleStorageURIs`, `validateMultipleStorageURIsSpec`, `validateStorageURISpec`,
  `validateCollocationStorageURI`)
- kserve/kserve `pkg/utils/storage.go` (`FindCommonParentPath`)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from servegate.model import Severity
from servegate.podspecs import KSERVE_SHORTCUTS
from servegate.resource import FieldPath, Resource, as_dict, as_list
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.kserve._isvc import webhook_components, who

DEFAULT_MOUNT_PATH = "/mnt/models"
"""The CRD's default for ``storageUris[].mountPath`` (``+kubebuilder:default``)."""


def _common_parent(paths: list[str]) -> bool:
    """True when the paths share at least one leading directory (KServe: parent is not "/")."""
    parts = [p.strip("/").split("/") if p.strip("/") else [] for p in paths]
    return bool(parts) and all(parts) and len({p[0] for p in parts}) == 1


def _entries(uris: list[Any], path: FieldPath, detail: str) -> Iterator[Violation]:
    others: list[str] = []
    pvc: dict[str, int] = {}
    for i, entry in enumerate(uris):
        entry = as_dict(entry)
        where = (*path, i)
        mount = str(entry.get("mountPath") or DEFAULT_MOUNT_PATH)
        if not entry.get("uri"):
            yield Violation(where, "storage URI cannot be empty", detail)
        if mount in ("", "/"):
            yield Violation((*where, "mountPath"), "storage path cannot be empty or /", detail)
        elif not mount.startswith("/"):
            yield Violation(
                (*where, "mountPath"), f"storage path must be absolute: {mount}", detail
            )
        elif ".." in mount:
            yield Violation(
                (*where, "mountPath"), f"storage path cannot contain '..': {mount}", detail
            )
        if str(entry.get("uri") or "").startswith("pvc://"):
            if mount in pvc:
                yield Violation((*where, "mountPath"), "PVC storage paths must be unique", detail)
            pvc[mount] = i
        else:
            others.append(mount)
    if len(others) > 1 and not _common_parent(others):
        yield Violation(
            path,
            f"storage paths must have a common parent directory below /: {', '.join(others)}",
            detail,
        )


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    for name, path, body in webhook_components(r):
        detail = who(r, name)
        uris = body.get("storageUris")
        if isinstance(uris, list):
            for key in KSERVE_SHORTCUTS:
                if as_dict(body.get(key)).get("storageUri") is not None:
                    yield Violation(
                        (*path, key, "storageUri"),
                        "setting both storageUri and storageUris is not supported",
                        detail,
                    )
            yield from _entries(uris, (*path, "storageUris"), detail)
        if name != "predictor":
            continue
        for i, container in enumerate(as_list(body.get("containers"))):
            container = as_dict(container)
            if container.get("name") != "transformer-container":
                continue
            for j, env in enumerate(as_list(container.get("env"))):
                if as_dict(env).get("name") == "STORAGE_URI":
                    yield Violation(
                        (*path, "containers", i, "env", j),
                        "storage uri should not be specified in transformer container",
                        detail,
                    )


RULE = rule(
    "kserve.storage-uris",
    "storageUris pass KServe's webhook",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={"InferenceService"},
    doc=__doc__,
)

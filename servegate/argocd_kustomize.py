"""An overlay rendered as Argo CD renders it for one Application's ``spec.source.kustomize``.

Argo CD applies an Application's kustomize settings by editing the overlay's own kustomization
before ``kustomize build`` (argoproj/argo-cd ``util/kustomize/kustomize.go`` ``Build``), in
this order: ``kustomize edit set nameprefix`` / ``namesuffix`` (replace the overlay's
``namePrefix``/``nameSuffix``), ``edit set image`` (update the ``images`` entry of the same
name, else add one), ``edit set replicas``, ``edit add label`` (into ``commonLabels``; into a
``labels`` entry without selectors with ``labelWithoutSelector``; an existing key only with
``forceCommonLabels``), ``edit add annotation`` (``commonAnnotations``, likewise
``forceCommonAnnotations``), ``edit set namespace``, then the ``patches`` appended to the
overlay's ``patches``, and ``edit add component`` (``ignoreMissingComponents`` drops missing
ones). kustomize's edit commands are kubernetes-sigs/kustomize ``kustomize/commands/edit``
(``set/setimage.go``, ``set/setreplicas.go``, ``add/addmetadata.go``, ``add/addcomponent.go``).

servegate never writes into the repo: the edited kustomization goes into a shadow copy of the
repo in a temporary folder, where the overlay's own files are copied and everything else is a
symlink to the repo (kustomize resolves folders through symlinks, so bases are read from the
repo itself, under the same load restrictions), and the shadow is built through servegate's
wrapper kustomization with ``kubectl kustomize`` in the same sandbox as every render.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from servegate.resource import as_dict, as_list

#: The settings that change what is rendered (``version``, ``kubeVersion`` and ``apiVersions``
#: only matter to Helm charts inflated by kustomize, which servegate refuses anyway).
EFFECTIVE = (
    "namePrefix",
    "nameSuffix",
    "images",
    "replicas",
    "commonLabels",
    "commonAnnotations",
    "namespace",
    "patches",
    "components",
)


class EditError(Exception):
    """``kustomize edit`` would fail, so Argo CD's build fails and nothing is deployed."""


def effective(settings: Mapping[str, Any]) -> bool:
    """Whether ``spec.source.kustomize`` changes what the overlay renders."""
    return any(settings.get(key) for key in EFFECTIVE)


def edit(
    data: Mapping[str, Any], settings: Mapping[str, Any], env: Mapping[str, str], kdir_exists: Any
) -> dict[str, Any]:
    """The kustomization ``data`` as Argo CD's ``kustomize edit`` commands leave it for
    ``settings``; ``env`` holds the Argo CD build environment (``ARGOCD_APP_NAME``...) for
    ``${VAR}`` in images and labels; ``kdir_exists(path)`` tells whether a component path
    exists (``ignoreMissingComponents``). Raises EditError where kustomize edit fails."""
    k: dict[str, Any] = dict(data)
    for key, field_name in (("namePrefix", "namePrefix"), ("nameSuffix", "nameSuffix")):
        value = settings.get(key)
        if isinstance(value, str) and value:
            k[field_name] = value
    images = [str(i) for i in as_list(settings.get("images")) if isinstance(i, str | int)]
    if images:
        entries = [dict(e) for e in as_list(k.get("images")) if isinstance(e, dict)]
        for arg in images:
            _set_image(entries, _envsubst(arg, env))
        k["images"] = entries
    replicas = [r for r in as_list(settings.get("replicas")) if isinstance(r, dict)]
    if replicas:
        entries = [dict(e) for e in as_list(k.get("replicas")) if isinstance(e, dict)]
        for replica in replicas:
            name = str(replica.get("name", ""))
            try:
                count = int(str(replica.get("count")))
            except ValueError:
                raise EditError(f"replicas count of {name!r} is not a number") from None
            for entry in entries:
                if entry.get("name") == name:
                    entry["count"] = count
                    break
            else:
                entries.append({"name": name, "count": count})
        k["replicas"] = entries
    labels = as_dict(settings.get("commonLabels"))
    if labels:
        pairs = {str(n): _envsubst(str(v), env) for n, v in labels.items()}
        if settings.get("labelWithoutSelector") is True:
            label: dict[str, Any] = {"pairs": pairs, "includeSelectors": False}
            if settings.get("labelIncludeTemplates") is True:
                label["includeTemplates"] = True
            k["labels"] = [*as_list(k.get("labels")), label]
        else:
            k["commonLabels"] = _add(
                as_dict(k.get("commonLabels")), pairs, settings.get("forceCommonLabels") is True
            )
    annotations = as_dict(settings.get("commonAnnotations"))
    if annotations:
        subst = settings.get("commonAnnotationsEnvsubst") is True
        pairs = {
            str(n): _envsubst(str(v), env) if subst else str(v) for n, v in annotations.items()
        }
        k["commonAnnotations"] = _add(
            as_dict(k.get("commonAnnotations")),
            pairs,
            settings.get("forceCommonAnnotations") is True,
        )
    namespace = settings.get("namespace")
    if isinstance(namespace, str) and namespace:
        k["namespace"] = namespace
    patches = [p for p in as_list(settings.get("patches")) if isinstance(p, dict)]
    if patches:
        existing = k.get("patches")
        if existing is not None and not isinstance(existing, list):
            raise EditError("the kustomization's patches field is not a list")
        k["patches"] = [*(existing or []), *patches]
    components = [c for c in as_list(settings.get("components")) if isinstance(c, str)]
    if settings.get("ignoreMissingComponents") is True:
        components = [c for c in components if kdir_exists(c)]
    if components:
        present = [c for c in as_list(k.get("components")) if isinstance(c, str)]
        k["components"] = [
            *as_list(k.get("components")),
            *(c for c in components if c not in present),
        ]
    return k


def _add(current: dict[str, Any], pairs: dict[str, str], force: bool) -> dict[str, Any]:
    out = dict(current)
    for name, value in pairs.items():
        if name in out and not force:
            raise EditError(
                f"{name!r} is already in the kustomization; kustomize edit add refuses it "
                "without --force"
            )
        out[name] = value
    return out


def _set_image(entries: list[dict[str, Any]], arg: str) -> None:
    """``kustomize edit set image ARG``: ``[<name>=]<new name>[:<tag>|@<digest>]``."""
    if "=" in arg:
        name, _, rest = arg.partition("=")
        new_name, tag, digest = _split_image(rest)
        image: dict[str, Any] = {"name": name}
        if new_name and new_name != name:
            image["newName"] = new_name
    else:
        name, tag, digest = _split_image(arg)
        image = {"name": name}
    for entry in entries:
        if entry.get("name") == image["name"]:
            if "newName" in image:
                entry["newName"] = image["newName"]
            break
    else:
        entry = image
        entries.append(entry)
    if tag:
        entry["newTag"] = tag
        entry.pop("digest", None)
    if digest:
        entry["digest"] = digest
        entry.pop("newTag", None)


def _split_image(text: str) -> tuple[str, str, str]:
    """(name, tag, digest) of an image reference; a ``:`` after the last ``/`` is a tag."""
    name, _, digest = text.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag = ""
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    return name, tag, digest


def _envsubst(text: str, env: Mapping[str, str]) -> str:
    """Argo CD's ``Env.Envsubst``: ``$VAR`` and ``${VAR}`` of the build environment; unknown
    variables are left as they are."""
    import re

    def one(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return env.get(name, match.group(0))

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", one, text)


# ---- the shadow repo ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Shadow:
    """A shadow of the repo with one edited kustomization, and the wrapper to build it.

    ``wrapper`` is the wrapper folder; ``virtual_wrapper`` is where that folder would sit
    beside the real repo, so origin paths kustomize prints (relative to the wrapper) resolve
    to the repo's own files (``servegate.origins.origin_for``, ``render.foreign_origin``)."""

    root: Path
    wrapper: Path
    virtual_wrapper: Path


def make_shadow(
    repo_root: Path, kdir: str, kfile_name: str, text: str, needed: set[str], scratch: Path
) -> Shadow:
    """Lay out a shadow of ``repo_root`` in ``scratch`` whose ``kdir/kfile_name`` holds
    ``text``; the files of ``kdir`` named in ``needed`` (relative to ``kdir``: what the
    kustomization reads as files) are copied, every other entry is a symlink to the repo."""
    token = secrets.token_hex(6)
    holder = Path(scratch) / f"app-{token}"
    holder.mkdir()
    shadow = holder / repo_root.name
    parts = [] if kdir == "." else kdir.split("/")
    here_repo, here_shadow = repo_root, shadow
    here_shadow.mkdir()
    for part in parts:
        _link_all(here_repo, here_shadow, skip={part})
        here_repo, here_shadow = here_repo / part, here_shadow / part
        here_shadow.mkdir()
    base = os.path.realpath(repo_root)
    _mirror(here_repo, here_shadow, {n for n in needed if n}, kfile_name, base)
    (here_shadow / kfile_name).write_text(text, "utf-8")
    wrapper = holder / f"servegate-wrap-{token}"
    wrapper.mkdir()
    target = os.path.relpath(here_shadow, wrapper)
    from servegate.batching import quote
    from servegate.render import WRAPPER

    (wrapper / "kustomization.yaml").write_text(WRAPPER.format(target=quote(target)), "utf-8")
    return Shadow(shadow, wrapper, repo_root.parent / wrapper.name)


def _link_all(src: Path, dst: Path, skip: set[str]) -> None:
    for entry in os.scandir(src):
        if entry.name in skip:
            continue
        os.symlink(os.path.realpath(entry.path), dst / entry.name)


def _mirror(src: Path, dst: Path, needed: set[str], kfile_name: str, base: str) -> None:
    """Fill ``dst`` from ``src``: files in ``needed`` (relative paths) copied when they are
    inside the repo (``base``, real path), folders on the way to them made, everything else a
    symlink to the repo's entry (which kustomize's load restrictions then judge)."""
    heads: dict[str, set[str]] = {}
    for rel in needed:
        head, _, rest = rel.partition("/")
        heads.setdefault(head, set())
        if rest:
            heads[head].add(rest)
    for entry in os.scandir(src):
        name = entry.name
        if name == kfile_name:
            continue
        if name in heads and heads[name] and entry.is_dir(follow_symlinks=False):
            (dst / name).mkdir()
            _mirror(Path(entry.path), dst / name, heads[name], "", base)
            continue
        real = os.path.realpath(entry.path)
        inside = real.startswith(base + os.sep)
        if name in heads and not heads[name] and inside and os.path.isfile(real):
            shutil.copyfile(real, dst / name)
        else:
            os.symlink(real, dst / name)

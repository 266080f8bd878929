"""Which objects a kustomize patch, replacement or transformer applies to, as kustomize decides.

* A ``target`` selector (``patches``, ``patchesJson6902``, replacement ``targets``) holds
  ``group``, ``version``, ``kind``, ``name``, ``namespace`` (each an anchored regular
  expression, empty for any), ``labelSelector`` and ``annotationSelector`` (Kubernetes label
  selector syntax). A patch target matches on the object's original *or* current name and
  namespace (kubernetes-sigs/kustomize ``api/resmap/reswrangler.go`` ``Select``,
  ``api/types/selector.go`` ``SelectorRegex``, namespaces compared as ``EffectiveNamespace``:
  none is ``default``); a replacement target on any of its ids, with its raw namespace, less
  those its ``reject`` selectors match (``api/filters/replacement/replacement.go``,
  ``TargetSelectorRegex``).
* A strategic-merge patch without a target applies to the object one of whose ids (the current
  one and every earlier one: a name before a ``namePrefix``, a namespace before ``namespace:``)
  equals the patch's own group, version, kind, name and namespace (``GetById``,
  ``resid.ResId.Equals``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from servegate.goregexp import Pattern, compile_go

#: Kinds kustomize knows to be cluster-scoped (kyaml ``openapi.IsNamespaceScoped`` over its
#: built-in Kubernetes schema): their namespace is never compared or set.
CLUSTER_SCOPED = frozenset(
    {
        "APIService",
        "CSIDriver",
        "CSINode",
        "CertificateSigningRequest",
        "ClusterRole",
        "ClusterRoleBinding",
        "ComponentStatus",
        "CustomResourceDefinition",
        "FlowSchema",
        "IngressClass",
        "MutatingWebhookConfiguration",
        "Namespace",
        "Node",
        "PersistentVolume",
        "PodSecurityPolicy",
        "PriorityClass",
        "PriorityLevelConfiguration",
        "RuntimeClass",
        "StorageClass",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "ValidatingWebhookConfiguration",
        "VolumeAttachment",
    }
)


@dataclass(frozen=True, slots=True)
class ResId:
    """kustomize's ``resid.ResId``: group, version, kind, name and namespace of an object."""

    group: str
    version: str
    kind: str
    name: str
    namespace: str

    @classmethod
    def of(cls, body: Any) -> ResId:
        body = body if isinstance(body, dict) else {}
        meta = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
        group, version = split_api_version(body.get("apiVersion"))
        return cls(
            group,
            version,
            str(body.get("kind") or ""),
            str((meta or {}).get("name") or ""),
            str((meta or {}).get("namespace") or ""),
        )

    @property
    def cluster_scoped(self) -> bool:
        return self.kind in CLUSTER_SCOPED

    @property
    def effective_namespace(self) -> str:
        if self.cluster_scoped:
            return "_non_namespaceable_"
        return self.namespace or "default"

    def equals(self, other: ResId) -> bool:
        """``ResId.Equals``: same group, version, kind, name and effective namespace."""
        return (self.group, self.version, self.kind, self.name) == (
            other.group,
            other.version,
            other.kind,
            other.name,
        ) and self.effective_namespace == other.effective_namespace


def split_api_version(api_version: Any) -> tuple[str, str]:
    text = str(api_version or "")
    group, _, version = text.rpartition("/")
    return group, version


@dataclass(frozen=True, slots=True)
class Selector:
    """A kustomize ``types.Selector``."""

    group: str = ""
    version: str = ""
    kind: str = ""
    name: str = ""
    namespace: str = ""
    label_selector: str = ""
    annotation_selector: str = ""

    @classmethod
    def parse(cls, data: Any) -> Selector | None:
        """The selector a ``target:``/``select:`` mapping describes; None if it is not one."""
        if not isinstance(data, dict):
            return None
        return cls(
            str(data.get("group") or ""),
            str(data.get("version") or ""),
            str(data.get("kind") or ""),
            str(data.get("name") or ""),
            str(data.get("namespace") or ""),
            str(data.get("labelSelector") or ""),
            str(data.get("annotationSelector") or ""),
        )

    @property
    def has_id(self) -> bool:
        return any((self.group, self.version, self.kind, self.name, self.namespace))

    def matches_gvk(self, rid: ResId) -> bool:
        return (
            _matches(self.group, rid.group)
            and _matches(self.version, rid.version)
            and _matches(self.kind, rid.kind)
        )

    def selects(
        self, original: ResId, current: ResId, labels: dict[str, Any], annotations: dict[str, Any]
    ) -> bool:
        """``resWrangler.Select``: a patch's ``target``."""
        if not (
            _matches(self.namespace, original.effective_namespace)
            or _matches(self.namespace, current.effective_namespace)
        ):
            return False
        if not (_matches(self.name, original.name) or _matches(self.name, current.name)):
            return False
        return self.matches_gvk(current) and self.matches_labels(labels, annotations)

    def matches_labels(self, labels: dict[str, Any], annotations: dict[str, Any]) -> bool:
        return label_selector_matches(self.label_selector, labels) and label_selector_matches(
            self.annotation_selector, annotations
        )

    def selects_id(self, rid: ResId) -> bool:
        """``TargetSelectorRegex.Selects``: a replacement target, on one id."""
        return (
            self.matches_gvk(rid)
            and _matches(self.name, rid.name)
            and _matches(self.namespace, rid.namespace)
        )


def _matches(pattern: str, value: str) -> bool:
    if not pattern:
        return True
    compiled = _regex(pattern)
    return compiled is not None and compiled.fullmatch(value) is not None


def _regex(pattern: str) -> Pattern | None:
    """kustomize's selector regex (Go's regexp, RE2: linear time); None when kustomize
    refuses the build, so nothing here is selected."""
    return compile_go(f"(?:{pattern})")


# --- label selectors (k8s.io/apimachinery pkg/labels/selector.go Parse) -------------------------

_TOKEN = re.compile(r"\s*(!=|==|=|!|,|\(|\)|>|<|[^\s!=,()<>]+)")


class LabelSelectorError(ValueError):
    """A selector apimachinery's ``labels.Parse`` refuses."""


def label_selector_matches(selector: str, labels: dict[str, Any]) -> bool:
    """Whether ``labels`` satisfy ``selector`` (every comma-separated requirement): ``k``,
    ``!k``, ``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``, ``k notin (a,b)``, ``k>n``, ``k<n``.
    An empty selector selects everything; one that does not parse selects nothing (kustomize
    refuses the build)."""
    if not selector.strip():
        return True
    try:
        requirements = _parse_selector(selector)
    except LabelSelectorError:
        return False
    values = {str(k): "" if v is None else str(v) for k, v in labels.items()}
    return all(_requirement_holds(r, values) for r in requirements)


_Requirement = tuple[str, str, tuple[str, ...]]


@lru_cache(maxsize=256)
def _parse_selector(selector: str) -> tuple[_Requirement, ...]:
    tokens = [m.group(1) for m in _TOKEN.finditer(selector)]
    if "".join(tokens) != re.sub(r"\s+", "", selector):
        raise LabelSelectorError(selector)
    out: list[_Requirement] = []
    i = 0

    def take() -> str:
        nonlocal i
        if i >= len(tokens):
            raise LabelSelectorError(selector)
        i += 1
        return tokens[i - 1]

    while i < len(tokens):
        key = take()
        if key == "!":
            out.append((take(), "!", ()))
        else:
            op = tokens[i] if i < len(tokens) else ","
            if op == ",":
                out.append((key, "exists", ()))
            elif op in ("=", "==", "!=", ">", "<"):
                take()
                value = tokens[i] if i < len(tokens) and tokens[i] != "," else ""
                if value:
                    take()
                out.append((key, op, (value,)))
            elif op in ("in", "notin"):
                take()
                if take() != "(":
                    raise LabelSelectorError(selector)
                values: list[str] = []
                while True:
                    item = take()
                    if item == ")":
                        break
                    if item != ",":
                        values.append(item)
                out.append((key, op, tuple(values)))
            else:
                raise LabelSelectorError(selector)
        if i < len(tokens):
            if tokens[i] != ",":
                raise LabelSelectorError(selector)
            i += 1
    return tuple(out)


def _requirement_holds(requirement: _Requirement, labels: dict[str, str]) -> bool:
    key, op, values = requirement
    present = key in labels
    value = labels.get(key, "")
    if op == "exists":
        return present
    if op == "!":
        return not present
    if op in ("=", "=="):
        return present and value == values[0]
    if op == "!=":
        return not present or value != values[0]
    if op == "in":
        return present and value in values
    if op == "notin":
        return not present or value not in values
    try:  # > and <: integer comparison of a present label
        return present and (
            int(value) > int(values[0]) if op == ">" else int(value) < int(values[0])
        )
    except ValueError:
        return False

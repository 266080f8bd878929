"""Name and value formats of kubernetes/apimachinery ``pkg/util/validation/validation.go`` and
``pkg/api/validation``, and which built-in kinds admission rules apply to."""

from __future__ import annotations

import re
from collections.abc import Callable

from servegate.podspecs import PodSpecView
from servegate.resource import Resource

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL = re.compile(_LABEL)
_DNS1123_SUBDOMAIN = re.compile(rf"{_LABEL}(\.{_LABEL})*")
_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_PORT_NAME = re.compile(r"[-a-z0-9]+")

#: The built-in pod-carrying kinds, by apiVersion group ("" is core).
CORE_POD_KINDS = {
    "": {"Pod", "PodTemplate", "ReplicationController"},
    "apps": {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"},
    "batch": {"Job", "CronJob"},
}
BUILTIN_GROUPS = frozenset(
    {
        "",
        "apps",
        "batch",
        "autoscaling",
        "policy",
        "networking.k8s.io",
        "rbac.authorization.k8s.io",
        "storage.k8s.io",
        "scheduling.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "node.k8s.io",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "certificates.k8s.io",
        "events.k8s.io",
        "flowcontrol.apiserver.k8s.io",
        "apiregistration.k8s.io",
        "resource.k8s.io",
    }
)
TOTAL_ANNOTATION_SIZE = 256 * 1024
"""``TotalAnnotationSizeLimitB`` of apimachinery ``pkg/api/validation/objectmeta.go``."""

Check = Callable[[str], list[str]]


def dns1123_label(value: str) -> list[str]:
    out = []
    if len(value) > 63:
        out.append("must be no more than 63 characters")
    if not _DNS1123_LABEL.fullmatch(value):
        out.append(
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
            "'-', and must start and end with an alphanumeric character"
        )
    return out


def dns1123_subdomain(value: str) -> list[str]:
    out = []
    if len(value) > 253:
        out.append("must be no more than 253 characters")
    if not _DNS1123_SUBDOMAIN.fullmatch(value):
        out.append(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
            "'-' or '.', and must start and end with an alphanumeric character"
        )
    return out


def dns1035_label(value: str) -> list[str]:
    out = []
    if len(value) > 63:
        out.append("must be no more than 63 characters")
    if not _DNS1035_LABEL.fullmatch(value):
        out.append(
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start "
            "with an alphabetic character, and end with an alphanumeric character"
        )
    return out


def path_segment(value: str) -> list[str]:
    """``path.IsValidPathSegmentName`` (RBAC object names)."""
    if value in (".", ".."):
        return [f"may not be {value!r}"]
    bad = [c for c in ("/", "%") if c in value]
    return [f"may not contain {c!r}" for c in bad]


_VALID_KEY = re.compile(rf"(?:{_LABEL}(?:\.{_LABEL})*/)?([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")


def qualified_name(value: str) -> list[str]:
    """``IsQualifiedName``: label and annotation keys, ``[prefix/]name``."""
    if len(value) <= 63 and _VALID_KEY.fullmatch(value):
        return []  # the common case, in one match
    prefix, slash, name = value.rpartition("/")
    out = []
    if slash and not prefix:
        return ["prefix part must be non-empty"]
    if prefix:
        out += [f"prefix part {m}" for m in dns1123_subdomain(prefix)]
    if not name:
        out.append("name part must be non-empty")
    elif len(name) > 63:
        out.append("name part must be no more than 63 characters")
    if name and not _QUALIFIED_NAME.fullmatch(name):
        out.append(
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start "
            "and end with an alphanumeric character"
        )
    return out


def label_value(value: str) -> list[str]:
    if not value or (len(value) <= 63 and _QUALIFIED_NAME.fullmatch(value)):
        return []
    out = []
    if len(value) > 63:
        out.append("must be no more than 63 characters")
    if value and not _QUALIFIED_NAME.fullmatch(value):
        out.append(
            "a valid label must be an empty string or consist of alphanumeric characters, '-', "
            "'_' or '.', and must start and end with an alphanumeric character"
        )
    return out


def port_name(value: str) -> list[str]:
    """``IsValidPortName`` (IANA_SVC_NAME, RFC 6335)."""
    out = []
    if not 1 <= len(value) <= 15:
        out.append("must be no more than 15 characters")
    if not _PORT_NAME.fullmatch(value):
        out.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if "--" in value:
        out.append("must not contain consecutive hyphens")
    if not re.search("[a-z]", value):
        out.append("must contain at least one letter (a-z)")
    if value.startswith("-") or value.endswith("-"):
        out.append("must not begin or end with a hyphen")
    return out


def is_builtin(resource: Resource) -> bool:
    return resource.group in BUILTIN_GROUPS


def is_core_pod(pod: PodSpecView) -> bool:
    """A pod spec of a built-in kind: the API server validates it as a pod."""
    return pod.resource.kind in CORE_POD_KINDS.get(pod.resource.group, ())


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)

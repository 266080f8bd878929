"""What an AppProject entry admits, judged with Argo CD's own matching (see ``_glob``).

An entry is too broad when it is a deny pattern (``!x`` admits everything but ``x``), when it
admits a name nobody would list on purpose (a probe: then it admits any name), or when it
admits a namespace or kind that holds the cluster's control plane.
"""

from __future__ import annotations

from servegate.rules.argocd._glob import filepath_match, glob_match, is_deny

PROBE_SERVER = "https://servegate-probe.invalid:6443"
PROBE_NAME = "servegate-probe-cluster"
PROBE_NAMESPACE = "servegate-probe-namespace"
SYSTEM_NAMESPACES = (
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "argocd",
    "istio-system",
    "knative-serving",
    "kserve",
    "cert-manager",
    "default",
)
"""Namespaces whose workloads run the cluster, the mesh, KServe or Argo CD itself."""

PROBE_KIND = ("servegate.probe.invalid", "ServegateProbe")
PRIVILEGED_CLUSTER_KINDS = (
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"),
    ("apiregistration.k8s.io", "APIService"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
)
"""Cluster-scoped kinds through which an application can grant itself cluster-admin."""


def breadth(pattern: str, probe: str, sensitive: tuple[str, ...] = ()) -> str | None:
    """Why the destination pattern ``pattern`` is too broad, or None."""
    if is_deny(pattern):
        if not glob_match(pattern, probe):
            return None  # the negated glob matches any name: the entry admits (almost) nothing
        return f"{pattern!r} is a deny pattern: it admits everything but {pattern[1:]!r}"
    if glob_match(pattern, probe):
        return f"{pattern!r} admits any value"
    hits = [s for s in sensitive if glob_match(pattern, s)]
    if hits:
        return f"{pattern!r} admits {', '.join(hits)}"
    return None


def kind_breadth(group: str, kind: str, privileged: tuple[tuple[str, str], ...]) -> str | None:
    """Why a resource list entry (``filepath.Match`` patterns) is too broad, or None."""
    if filepath_match(kind, PROBE_KIND[1]) and filepath_match(group, PROBE_KIND[0]):
        return f"{group or '(core)'}/{kind} admits every kind"
    hits = [f"{k}" for g, k in privileged if filepath_match(group, g) and filepath_match(kind, k)]
    if hits:
        return f"{group or '(core)'}/{kind} admits {', '.join(hits)}"
    return None

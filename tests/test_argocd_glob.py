"""Argo CD's pattern matching (servegate/rules/argocd/_glob.py) against the semantics of
gobwas/glob and Go's filepath.Match that argo-cd's AppProject code relies on."""

from __future__ import annotations

import time

import pytest

from servegate.rules.argocd._glob import filepath_match, glob_match
from servegate.rules.argocd._project import breadth, kind_breadth
from servegate.rules.argocd.project_source_repos import breadth as repo_breadth
from servegate.rules.argocd.project_source_repos import normalize


@pytest.mark.parametrize(
    ("pattern", "value", "separators", "expected"),
    [
        ("*", "anything/at.all", "", True),
        ("ml-*", "ml-prod", "", True),
        ("ml-*", "kube-system", "", False),
        ("*", "a/b", "/", True),  # globMatch special-cases a bare "*"
        ("https://github.com/acme/*", "https://github.com/acme/x/y", "/", False),
        ("https://github.com/acme/*", "https://github.com/acme/x/y", "", True),
        ("https://github.com/**", "https://github.com/a/b", "/", True),
        ("!kube-system", "ml-prod", "", True),
        ("!kube-system", "kube-system", "", False),
        ("{ml,ai}-*", "ai-x", "", True),
        ("ml-?", "ml-1", "", True),
        ("ml-?", "ml-12", "", False),
        ("[!a-c]x", "bx", "", False),
        ("[!a-c]x", "dx", "", True),
        ("[a-", "a", "", False),  # does not compile: matches nothing
        ("{a,b", "a", "", False),
        ("a\\*", "a*", "", True),
        ("a\\*", "ab", "", False),
    ],
)
def test_gobwas_glob(pattern: str, value: str, separators: str, expected: bool) -> None:
    assert glob_match(pattern, value, separators) is expected


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("*", "ClusterRoleBinding", True),
        ("Cluster*", "ClusterRole", True),
        ("*Binding", "RoleBinding", True),
        ("[^C]*", "ClusterRole", False),
        ("[!C]*", "ClusterRole", True),  # Go's filepath.Match: '!' is a literal in a class
        ("*", "a/b", False),
        ("[", "x", False),
        ("", "", True),
    ],
)
def test_filepath_match(pattern: str, value: str, expected: bool) -> None:
    assert filepath_match(pattern, value) is expected


@pytest.mark.parametrize(
    ("pattern", "broad"),
    [
        ("*", True),
        ("**", True),
        ("?*", True),
        ("{ml-*,*}", True),
        ("!kube-system", True),
        ("kube-*", True),
        ("*-system", True),
        ("ml-fraud-*", False),
        ("ml-{dev,prod}", False),
        ("ml-prod", False),
    ],
)
def test_destination_namespace_breadth(pattern: str, broad: bool) -> None:
    from servegate.rules.argocd._project import PROBE_NAMESPACE, SYSTEM_NAMESPACES

    assert (breadth(pattern, PROBE_NAMESPACE, SYSTEM_NAMESPACES) is not None) is broad


@pytest.mark.parametrize(
    ("group", "kind", "broad"),
    [
        ("*", "*", True),
        ("rbac.authorization.k8s.io", "Cluster*", True),
        ("*", "*WebhookConfiguration", True),
        ("apiextensions.k8s.io", "CustomResourceDefinition", True),
        ("", "Namespace", False),
        ("storage.k8s.io", "StorageClass", False),
    ],
)
def test_cluster_kind_breadth(group: str, kind: str, broad: bool) -> None:
    from servegate.rules.argocd._project import PRIVILEGED_CLUSTER_KINDS

    assert (kind_breadth(group, kind, PRIVILEGED_CLUSTER_KINDS) is not None) is broad


@pytest.mark.parametrize(
    ("repo", "broad"),
    [
        ("*", True),
        ("https://**", True),
        ("!https://github.com/acme/legacy", True),
        ("https://github.com/*/fraud-model", True),
        ("git@github.com:acme-*/models.git", True),
        ("https://git*.com/acme/x", True),
        ("https://github.com/acme/*", False),
        ("https://github.com/acme/fraud-model.git", False),
        ("git@github.com:acme/models.git", False),
        ("https://charts.example.com/stable", False),
    ],
)
def test_source_repo_breadth(repo: str, broad: bool) -> None:
    assert (repo_breadth(repo) is not None) is broad


def test_normalize_like_argo_cd() -> None:
    assert normalize("git@GitHub.com:Acme/Repo.git") == "git@github.com/acme/repo"
    assert normalize("ssh://git@github.com/acme/repo.git") == "git@github.com/acme/repo"
    assert normalize(" https://github.com/Acme/Repo.git ") == "https://github.com/acme/repo"


def test_a_pattern_cannot_stall_a_check() -> None:
    """The patterns compile to RE2 (linear time): ``*a*a*...b`` made Python's backtracking
    regex run for minutes on a 40-character value; a project or a directory source is
    repo content."""
    pattern = "*a" * 25 + "b"
    started = time.perf_counter()
    assert not glob_match(pattern, "a" * 4_000, "/")
    assert glob_match("!" + pattern, "a" * 4_000)
    assert not filepath_match(pattern, "a" * 4_000)
    assert time.perf_counter() - started < 1
    # literal punctuation, spaces and non-ASCII stay literal
    assert glob_match("a b.(c)+é/*", "a b.(c)+é/x", "/")
    assert not glob_match("a b.(c)+é/*", "a b.(c)+éy/x/z", "/")

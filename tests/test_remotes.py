"""No network, no escape: every remote form kustomize accepts is a ``repo.remote-base`` finding
at its line, in every field kustomize reads a location from; kustomize runs without a network;
a render that used content from outside the repo is a finding and is never cached."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import CLI, LoopbackServer, Tree

from servegate.discover import discover
from servegate.remotes import remote_kind

POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: served\nspec:\n  containers:\n  - name: c\n    image: nginx:1.27\n"

REMOTE = [
    "https://github.com/org/repo//deploy?ref=v1",
    "HTTPS://github.com/org/repo",
    "hTtP://127.0.0.1:8080/pod.yaml",
    "http:/example.com/pod.yaml",
    "git::https://github.com/org/repo.git//deploy",
    "GIT::HTTP://127.0.0.1/org/repo.git",
    "git::ssh://git@example.com/org/repo",
    "ssh://git@example.com:2222/org/repo.git",
    "SSH://example.com/org/repo",
    "file:///srv/git/repo.git//deploy",
    "git@github.com:org/repo.git",
    "deploy@git.example.com:org/repo",
    "github.com/org/repo",
    "GitHub.com/org/repo/deploy?ref=main",
    "github.com:org/repo",
    "gitlab.com/org/repo",
    "Bitbucket.org/org/repo",
    "gh:org/repo",
    "git.example.com/org/repo//deploy",
    "example.org:8443/team/base",
    "s3::https://bucket.s3.amazonaws.com/x",
    "oci://registry.example.com/charts",
    "../base?ref=main",
    "  https://github.com/org/repo",
]
LOCAL = [
    "../base",
    "base",
    "./deploy.yaml",
    "a:b.yaml",
    "patches/app.v2.yaml",
    "team@home",  # no host separator after the user: not a git URL
    "org/repo//deploy",
    "",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: https://x}\n",  # an inline patch
]


@pytest.mark.parametrize("entry", REMOTE)
def test_remote_forms(entry: str) -> None:
    assert remote_kind(entry) is not None


@pytest.mark.parametrize("entry", LOCAL)
def test_local_forms(entry: str) -> None:
    assert remote_kind(entry, lambda: False) is None


def test_a_host_like_path_is_local_when_it_exists() -> None:
    assert remote_kind("example.org/base", lambda: True) is None
    assert remote_kind("example.org/base", lambda: False) is not None
    assert remote_kind("github.com/org/repo", lambda: True) is not None  # kustomize clones it


URL = "HTTP://127.0.0.1:9/x.yaml"
#: Every field kustomize reads a location from, with the URL at line 3 of the kustomization.
FIELDS = {
    "resources": f"resources:\n- ok.yaml\n- {URL}\n",
    "bases": f"bases:\n- ../ok\n- {URL}\n",
    "components": f"components:\n- ../ok\n- {URL}\n",
    "crds": f"crds:\n- ok.yaml\n- {URL}\n",
    "configurations": f"configurations:\n- ok.yaml\n- {URL}\n",
    "patchesStrategicMerge": f"patchesStrategicMerge:\n- ok.yaml\n- {URL}\n",
    "patches": f"patches:\n- path: ok.yaml\n- path: {URL}\n",
    "patches-string": f"patches:\n- ok.yaml\n- {URL}\n",
    "patchesJson6902": f"patchesJson6902:\n- path: ok.yaml\n- path: {URL}\n",
    "replacements": f"replacements:\n- path: ok.yaml\n- path: {URL}\n",
    "openapi": f"openapi:\n  version: v1\n  path: {URL}\n",
    "configMapGenerator.files": f"configMapGenerator:\n- name: c\n  files: [k={URL}]\n",
    "configMapGenerator.envs": f"configMapGenerator:\n- name: c\n  envs: [{URL}]\n",
    "secretGenerator.env": f"secretGenerator:\n- name: s\n  env: {URL}\n",
    "generators": f"generators:\n- ok.yaml\n- {URL}\n",
    "transformers": f"transformers:\n- ok.yaml\n- {URL}\n",
    "validators": f"validators:\n- ok.yaml\n- {URL}\n",
    "inline PatchTransformer": (
        f"transformers:\n- apiVersion: builtin\n  path: {URL}\n  kind: PatchTransformer\n"
    ),
    "inline ConfigMapGenerator": (
        f"generators:\n- apiVersion: builtin\n  files: [{URL}]\n  kind: ConfigMapGenerator\n"
    ),
    "inline ReplacementTransformer": (
        f"transformers:\n- kind: ReplacementTransformer\n  replacements: [{{path: {URL}}}]\n"
    ),
    "helmCharts.repo": f"helmCharts:\n- name: x\n  repo: {URL}\n",
    "helmCharts.valuesFile": f"helmCharts:\n- name: x\n  valuesFile: {URL}\n",
}


@pytest.mark.parametrize("field", sorted(FIELDS))
def test_every_field_is_checked(field: str, tree: Tree) -> None:
    root = tree(
        {
            "app/kustomization.yaml": FIELDS[field],
            "app/ok.yaml": "apiVersion: builtin\nkind: ConfigMap\nmetadata: {name: ok}\n",
            "ok/kustomization.yaml": "resources: []\n",
        }
    )
    found = discover([root], root)
    remote = [(f.file, f.line) for f in found.findings if f.rule == "repo.remote-base"]
    assert remote == [("app/kustomization.yaml", 3)]
    assert found.kustomizations["app"].blocked


def test_a_configuration_file_naming_a_url(tree: Tree) -> None:
    """A transformer configuration file is a builtin plugin's configuration: the files it
    names are read too, so a URL there is a finding at that file's line."""
    root = tree(
        {
            "app/kustomization.yaml": "resources: [pod.yaml]\ntransformers: [patch.yaml]\n",
            "app/pod.yaml": POD,
            "app/patch.yaml": f"apiVersion: builtin\nkind: PatchTransformer\nmetadata: {{name: p}}\npath: {URL}\n",
        }
    )
    found = discover([root], root)
    assert [(f.rule, f.file, f.line) for f in found.findings] == [
        ("repo.remote-base", "app/patch.yaml", 4)
    ]


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    running = LoopbackServer({"/pod.yaml": POD.encode()})
    yield running
    running.close()


def test_check_never_fetches(server: LoopbackServer, cli: CLI, tree: Tree) -> None:
    forms = [
        f"HTTP://127.0.0.1:{server.port}/pod.yaml",
        f"git::http://127.0.0.1:{server.port}/org/repo.git//deploy",
        f"http://127.0.0.1:{server.port}/org/repo?ref=main",
    ]
    root = tree({f"o{i}/kustomization.yaml": f"resources:\n- {u}\n" for i, u in enumerate(forms)})
    run = cli("check", root, "--format", "json")
    assert run.code == 1
    found = {(f["rule"], f["file"], f["line"]) for f in run.json()["findings"]}
    assert found == {("repo.remote-base", f"o{i}/kustomization.yaml", 2) for i in range(3)}
    assert server.requests == []


def _wrapped_remote(root: Path, port: int) -> Path:
    """A root whose remote resource discovery never sees (rendered directly, as if the
    filter had missed a form)."""
    (root / "o").mkdir(parents=True)
    (root / "o/kustomization.yaml").write_text(
        f"resources:\n- HTTP://127.0.0.1:{port}/pod.yaml\n", encoding="utf-8"
    )
    return root


def test_kustomize_runs_without_a_network(server: LoopbackServer, tmp_path: Path) -> None:
    from servegate.render import render_one, sandbox

    if not sandbox():
        pytest.skip("this platform allows no network namespace (unshare --net / -rn)")
    root = _wrapped_remote(tmp_path / "repo", server.port)
    result = render_one(root, "o", tmp_path)
    assert result.output is None and result.error is not None
    assert server.requests == [], "the request never arrives"


def test_a_render_that_used_remote_content_is_a_finding_and_never_cached(
    server: LoopbackServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the sandbox (a platform with no namespaces) kustomize fetches what the filter
    missed; the origin check still makes it a finding, and nothing is cached."""
    import servegate.render as render

    monkeypatch.setattr(render, "sandbox", functools.cache(lambda: ()))
    root = _wrapped_remote(tmp_path / "repo", server.port)
    result = render.render_one(root, "o", tmp_path)
    assert server.requests == ["/pod.yaml"]
    assert result.output is None and result.rule.id == "repo.remote-base"
    assert result.error_is_transient, "never cached"
    assert "no file in the repo" in result.message
    batch = render.render_batch(root, ["o", "o"], tmp_path)
    assert [r.rule.id for r in batch] == ["repo.remote-base"] * 2


def test_foreign_origins(tmp_path: Path) -> None:
    from servegate.render import foreign_origin

    (tmp_path / "repo/app").mkdir(parents=True)
    (tmp_path / "repo/app/pod.yaml").write_text(POD, encoding="utf-8")
    wrapper = str(tmp_path / "wrap")
    repo = tmp_path / "repo"

    def obj(origin: str) -> str:
        return (
            "apiVersion: v1\nkind: Pod\nmetadata:\n  annotations:\n"
            f"    config.kubernetes.io/origin: |\n{origin}  name: p\n"
        )

    local = obj("      path: ../repo/app/pod.yaml\n")
    assert foreign_origin(local, wrapper, repo) is None
    generated = obj(
        "      configuredIn: ../repo/app/pod.yaml\n      configuredBy:\n"
        "        apiVersion: builtin\n        kind: ConfigMapGenerator\n"
    )
    assert foreign_origin(local + "---\n" + generated, wrapper, repo) is None
    for origin in (
        "      path: ../repo/app/HTTP:/127.0.0.1/pod.yaml\n",
        "      path: deploy/pod.yaml\n      repo: https://github.com/org/repo\n      ref: v1\n",
        "      path: ../../etc/hostname\n",
    ):
        assert foreign_origin(local + "---\n" + obj(origin), wrapper, repo) is not None

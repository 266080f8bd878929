"""servegate.deployed: what the repo's Argo CD Applications deploy is checked as Argo CD renders it,
and what cannot be is an error, never skipped quietly. Each test builds a small repo of its own
and runs the whole check through the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import (
    LoopbackServer,
    Run,
    application,
    restricted_deployment,
    restricted_pod,
    tree_digest,
    write_tree,
)

from servegate.engine import check
from servegate.model import Unit
from servegate.options import CheckOptions


def errors(run: Run, rule: str = "") -> list[dict[str, Any]]:
    return [
        f for f in run.json()["findings"] if f["severity"] == "error" and f["rule"].startswith(rule)
    ]


def names(found: list[dict[str, Any]]) -> list[str]:
    return sorted(str(f["resource"]["name"]) for f in found if f.get("resource"))


KUSTOMIZE_PATCH = """\
    kustomize:
      namePrefix: prod-
      patches:
      - target: {kind: Pod, name: evil}
        patch: |-
          - op: add
            path: /spec/hostPID
            value: true
"""


def test_application_kustomize_patches_are_applied(tmp_path: Path, cli: Callable[..., Run]) -> None:
    write_tree(
        tmp_path,
        {
            "overlays/prod/kustomization.yaml": "resources: [pod.yaml]\nnamePrefix: own-\n",
            "overlays/prod/pod.yaml": restricted_pod("evil"),
            "apps/app.yaml": application("model-prod", "overlays/prod", KUSTOMIZE_PATCH),
        },
    )
    before = tree_digest(tmp_path)
    run = cli("check", tmp_path, "--format", "json")
    assert run.code == 1
    (found,) = errors(run, "pss.")
    assert found["resource"]["name"] == "prod-evil"  # Argo CD's prefix replaces the overlay's
    assert found["file"] == "overlays/prod/pod.yaml"
    assert "Application argocd/model-prod" in found["message"]
    assert tree_digest(tmp_path) == before  # nothing written into the repo


@pytest.mark.parametrize(
    "settings",
    [
        "    kustomize:\n      images: ['registry.example.com/img=docker.io/library/model:latest']\n",
        "    kustomize:\n      components: [../../evil]\n",
        "    kustomize:\n      patches:\n      - path: host.yaml\n",
    ],
)
def test_other_kustomize_settings_change_what_is_checked(
    tmp_path: Path, cli: Callable[..., Run], settings: str
) -> None:
    write_tree(
        tmp_path,
        {
            "overlays/prod/kustomization.yaml": "resources: [pod.yaml]\n",
            "overlays/prod/pod.yaml": restricted_pod("model"),
            "overlays/prod/host.yaml": (
                "apiVersion: v1\nkind: Pod\nmetadata: {name: model, namespace: ml}\nspec: {hostIPC: true}\n"
            ),
            "evil/kustomization.yaml": (
                "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
                "patches:\n- patch: |-\n    apiVersion: v1\n    kind: Pod\n    metadata: {name: model, namespace: ml}\n"
                "    spec: {hostNetwork: true}\n"
            ),
            "apps/app.yaml": application("model-prod", "overlays/prod", settings),
        },
    )
    run = cli("check", tmp_path, "--format", "json")
    found = [f for f in errors(run) if f["rule"] in ("image.latest-tag", "pss.host-namespaces")]
    assert len(found) == 1, run.out
    assert "Application argocd/model-prod" in found[0]["message"]


def test_an_overlay_an_application_deploys_is_a_root_even_when_included(
    tmp_path: Path, cli: Callable[..., Run]
) -> None:
    """The including kustomization deletes the evil pod; the Application deploys the overlay
    itself, so the cluster gets it."""
    write_tree(
        tmp_path,
        {
            "kustomization.yaml": (
                "resources: [overlays/prod]\npatches:\n- patch: |-\n    $patch: delete\n"
                "    apiVersion: v1\n    kind: Pod\n    metadata: {name: evil, namespace: ml}\n"
            ),
            "overlays/prod/kustomization.yaml": "resources: [pod.yaml]\n",
            "overlays/prod/pod.yaml": restricted_pod("evil", "  hostNetwork: true\n"),
            "apps/app.yaml": application("model-prod", "overlays/prod"),
        },
    )
    run = cli("check", tmp_path, "--format", "json")
    assert names(errors(run, "pss.host-namespaces")) == ["evil"]


def test_directory_source_rules(tmp_path: Path, cli: Callable[..., Run]) -> None:
    evil_json = json.loads(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "json-evil", "namespace": "ml"},
                "spec": {"hostPID": True, "containers": []},
            }
        )
    )
    write_tree(
        tmp_path,
        {
            "deploy/ok.yaml": restricted_pod("ok"),
            "deploy/.hidden/evil.yaml": restricted_pod("hidden-evil", "  hostNetwork: true\n"),
            "deploy/sub/excluded.yaml": restricted_pod("excluded-evil", "  hostIPC: true\n"),
            "deploy/evil.json": json.dumps(evil_json),
            "apps/app.yaml": application(
                "raw", "deploy", "    directory: {recurse: true, exclude: 'sub/*'}\n"
            ),
        },
    )
    run = cli("check", tmp_path, "--format", "json")
    host = errors(run, "pss.host-namespaces")
    # the dot-folder is applied by Argo CD (recurse); sub/ is excluded by the Application, but
    # the repo's own check still reads it as a plain folder
    assert names(host) == ["excluded-evil", "hidden-evil", "json-evil"]
    hidden = next(f for f in host if f["resource"]["name"] == "hidden-evil")
    assert "Application argocd/raw" in hidden["message"]


def test_plain_discovery_reads_dot_files_and_json_manifests(
    tmp_path: Path, cli: Callable[..., Run]
) -> None:
    write_tree(
        tmp_path,
        {
            "deploy/.evil.yaml": restricted_pod("dot-evil", "  hostPID: true\n"),
            "deploy/evil.json": json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": "json-evil", "namespace": "ml"},
                    "spec": {"hostNetwork": True, "containers": []},
                }
            ),
            "deploy/package.json": '{"name": "not-a-manifest", // comments\n}',
            ".pre-commit-config.yaml": "repos: []\n",
        },
    )
    run = cli("check", tmp_path, "--format", "json")
    assert names(errors(run, "pss.host-namespaces")) == ["dot-evil", "json-evil"]
    assert not [f for f in run.json()["findings"] if f["file"].endswith("package.json")]


def test_what_cannot_be_checked_is_an_error(tmp_path: Path, cli: Callable[..., Run]) -> None:
    write_tree(
        tmp_path,
        {
            "deploy/ok.yaml": restricted_pod("ok"),
            "deploy/gen.jsonnet": "{}",
            "apps/a.yaml": application("jsonnet", "deploy"),
            "apps/b.yaml": application(
                "vault", "deploy", "    plugin: {name: argocd-vault-plugin}\n"
            ),
            "apps/c.yaml": application("own-plugin", "deploy", "    plugin: {name: servegate}\n"),
            "apps/d.yaml": application("escape", "../elsewhere"),
            "apps/e.yaml": application(
                "two", "deploy", "    directory: {recurse: true}\n    helm: {}\n"
            ),
        },
    )
    run = cli("check", tmp_path, "--format", "json")
    found = errors(run, "argocd.source-unchecked")
    assert names(found) == ["escape", "jsonnet", "two", "vault"]
    assert run.code == 1


def test_external_sources_are_warnings(tmp_path: Path, cli: Callable[..., Run]) -> None:
    write_tree(
        tmp_path,
        {
            "deploy/ok.yaml": restricted_pod("ok"),
            "apps/a.yaml": application(
                "other", "deploy", repo="git@git.example.com:infra/other.git"
            ),
            "apps/b.yaml": application("mine", "deploy", repo="https://GIT.example.com/ml/model"),
            # Argo CD compares repository URLs lowercased whole (git.NormalizeGitURL)
            "apps/d.yaml": application(
                "mine-too", "deploy", repo="https://git.example.com/ML/Model"
            ),
            "apps/c.yaml": application("missing", "not/here"),
        },
    )
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(
        ["git", "-C", str(tmp_path), "remote", "add", "origin", "git@git.example.com:ml/model.git"],
        check=True,
    )
    run = cli("check", tmp_path, "--format", "json")
    warned = [f for f in run.json()["findings"] if f["rule"] == "argocd.source-external"]
    assert names(warned) == ["missing", "other"]


def test_application_set_list_generator(tmp_path: Path, cli: Callable[..., Run]) -> None:
    appset = (
        "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\n"
        "metadata: {name: envs, namespace: argocd}\nspec:\n  generators:\n"
        "  - list:\n      elements: [{env: dev}, {env: prod}]\n"
        "  template:\n    metadata: {name: 'model-{{env}}'}\n    spec:\n      project: ml\n"
        "      source:\n        repoURL: https://git.example.com/ml/model.git\n"
        "        path: 'overlays/{{env}}'\n        kustomize:\n          patches:\n"
        '          - target: {kind: Pod}\n            patch: \'[{"op": "add", "path": "/spec/hostIPC", "value": true}]\'\n'
        "      destination: {server: https://kubernetes.default.svc, namespace: ml}\n"
    )
    write_tree(
        tmp_path,
        {
            "overlays/dev/kustomization.yaml": "resources: [pod.yaml]\n",
            "overlays/dev/pod.yaml": restricted_pod("dev"),
            "overlays/prod/kustomization.yaml": "resources: [pod.yaml]\n",
            "overlays/prod/pod.yaml": restricted_pod("prod"),
            "apps/appset.yaml": appset,
        },
    )
    run = cli("check", tmp_path, "--format", "json")
    found = errors(run, "pss.host-namespaces")
    assert names(found) == ["dev", "prod"]
    assert all("from ApplicationSet argocd/envs" in f["message"] for f in found)


def test_warm_check_and_shards_find_the_same(tmp_path: Path, cli: Callable[..., Run]) -> None:
    write_tree(
        tmp_path,
        {
            "overlays/prod/kustomization.yaml": "resources: [pod.yaml]\n",
            "overlays/prod/pod.yaml": restricted_pod("evil"),
            "apps/app.yaml": application("model-prod", "overlays/prod", KUSTOMIZE_PATCH),
        },
    )
    first = cli("check", tmp_path, "--format", "json")
    warm = cli("check", tmp_path, "--format", "json")
    assert first.json()["findings"] == warm.json()["findings"]
    assert names(errors(warm, "pss.")) == ["prod-evil"]
    shards = [cli("check", tmp_path, "--shard", f"{i}/2", "--format", "json") for i in (1, 2)]
    found = [f for s in shards for f in errors(s, "pss.")]
    assert names(found) == ["prod-evil"]


def test_changed_files_reach_what_a_changed_application_deploys(
    tmp_path: Path, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tree(
        tmp_path,
        {
            "kustomization.yaml": "resources: [overlays/prod]\n",
            "overlays/prod/kustomization.yaml": "resources: [pod.yaml]\n",
            "overlays/prod/pod.yaml": restricted_pod("evil"),
            "apps/app.yaml": application("model-prod", "overlays/prod", KUSTOMIZE_PATCH),
            "apps/plain.yaml": application("model-plain", "overlays/prod", "    kustomize: {}\n"),
        },
    )
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    monkeypatch.chdir(tmp_path)  # --changed-files checks the repo of the working folder
    run = cli("check", "--changed-files", "apps/app.yaml", "--format", "json")
    assert names(errors(run, "pss.")) == ["prod-evil"]


# --- every kustomize setting Argo CD applies, and where the unit's plan comes from ------------


def _deployed(root: Path, **options: Any) -> list[Unit]:
    """The units of a check of ``root`` that an Application's settings made."""
    report = check(CheckOptions(paths=[root], cache=False, **options))
    return [u for u in report.units if u.id.startswith("app:")]


def _bodies(units: list[Unit]) -> list[dict[str, Any]]:
    return [r.body for u in units for r in u.resources]


COMPONENT = (
    "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
    "commonLabels: {from-component: 'yes'}\n"
)


@pytest.mark.parametrize(
    ("settings", "expect"),
    [
        ("namePrefix: argo-", lambda b: b["metadata"]["name"] == "argo-model"),
        ("nameSuffix: -argo", lambda b: b["metadata"]["name"] == "model-argo"),
        (
            "images: ['registry.example.com/img=other.example.com/model:2.0']",
            lambda b: (
                b["spec"]["template"]["spec"]["containers"][0]["image"]
                == "other.example.com/model:2.0"
            ),
        ),
        (
            "images: ['registry.example.com/img:$ARGOCD_APP_NAME']",
            lambda b: (
                b["spec"]["template"]["spec"]["containers"][0]["image"]
                == "registry.example.com/img:model-prod"
            ),
        ),
        (
            "commonLabels: {tier: gpu}",
            lambda b: (
                b["metadata"]["labels"]["tier"] == "gpu"
                and b["spec"]["selector"]["matchLabels"]["tier"] == "gpu"
            ),
        ),
        (
            "commonLabels: {tier: gpu}\n      labelWithoutSelector: true",
            lambda b: (
                b["metadata"]["labels"]["tier"] == "gpu"
                and "tier" not in b["spec"]["selector"]["matchLabels"]
            ),
        ),
        (
            "commonAnnotations: {owner: ml}",
            lambda b: b["metadata"]["annotations"]["owner"] == "ml",
        ),
        ("namespace: serving", lambda b: b["metadata"]["namespace"] == "serving"),
        ("replicas: [{name: model, count: 7}]", lambda b: b["spec"]["replicas"] == 7),
        (
            "components: [../../components/labels]",
            lambda b: b["metadata"]["labels"]["from-component"] == "yes",
        ),
        (
            'patches:\n      - target: {group: apps, kind: Deployment, name: "mod.*"}\n'
            '        patch: \'[{"op": "add", "path": "/spec/paused", "value": true}]\'',
            lambda b: b["spec"]["paused"] is True,
        ),
        (
            "patches:\n      - path: paused.yaml\n        target: {kind: Deployment}",
            lambda b: b["spec"]["paused"] is True,
        ),
    ],
)
def test_each_kustomize_setting_is_applied_as_argo_cd_applies_it(
    tmp_path: Path, settings: str, expect: Callable[[dict[str, Any]], bool]
) -> None:
    write_tree(
        tmp_path,
        {
            "overlays/prod/kustomization.yaml": "resources: [deploy.yaml]\n",
            "overlays/prod/deploy.yaml": restricted_deployment("model"),
            "overlays/prod/paused.yaml": "- {op: add, path: /spec/paused, value: true}\n",
            "components/labels/kustomization.yaml": COMPONENT,
            "apps/app.yaml": application(
                "model-prod", "overlays/prod", f"    kustomize:\n      {settings}\n"
            ),
        },
    )
    before = tree_digest(tmp_path)
    (body,) = _bodies(_deployed(tmp_path))
    assert expect(body), body
    assert tree_digest(tmp_path) == before


def test_the_unit_gets_the_environment_its_folder_is_mapped_to(tmp_path: Path) -> None:
    """The same mapping as every root: servegate.yaml's environments (or --env)."""
    write_tree(
        tmp_path,
        {
            "servegate.yaml": "version: 1\nenvironments:\n  overlays/prod: prod\n  overlays/dev: dev\n",
            "overlays/prod/kustomization.yaml": "resources: [deploy.yaml]\n",
            "overlays/prod/deploy.yaml": restricted_deployment("model"),
            "apps/app.yaml": application(
                "model-prod", "overlays/prod", "    kustomize: {namePrefix: a-}\n"
            ),
        },
    )
    assert [u.environment for u in _deployed(tmp_path)] == ["prod"]
    assert [u.environment for u in _deployed(tmp_path, env="dev")] == ["dev"]


MULTI_SOURCE = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: model-prod, namespace: argocd}
spec:
  project: ml
  sources:
  - repoURL: https://git.example.com/ml/model.git
    targetRevision: main
    ref: values
  - repoURL: https://git.example.com/ml/model.git
    path: overlays/prod
    kustomize:
      patches:
      - target: {kind: Pod, name: evil}
        patch: '[{"op": "add", "path": "/spec/hostIPC", "value": true}]'
  - repoURL: https://git.example.com/ml/model.git
    path: overlays/prod
    kustomize:
      nameSuffix: -second
      patches:
      - target: {kind: Pod}
        patch: '[{"op": "add", "path": "/spec/hostPID", "value": true}]'
  destination: {server: https://kubernetes.default.svc, namespace: ml}
"""


def test_every_source_of_a_multi_source_application_is_checked(
    tmp_path: Path, cli: Callable[..., Run]
) -> None:
    write_tree(
        tmp_path,
        {
            "overlays/prod/kustomization.yaml": "resources: [pod.yaml]\n",
            "overlays/prod/pod.yaml": restricted_pod("evil"),
            "apps/app.yaml": MULTI_SOURCE,
        },
    )
    run = cli("check", tmp_path, "--format", "json")
    assert run.code == 1
    found = errors(run, "pss.host-namespaces")
    assert sorted((f["resource"]["name"], f["path"]) for f in found) == [
        ("evil", "spec.hostIPC"),
        ("evil-second", "spec.hostPID"),
    ]
    assert all("Application argocd/model-prod" in f["message"] for f in found)


@pytest.mark.parametrize(
    ("directory", "expect"),
    [
        ("{}", ["top"]),  # the top folder only: sub-folders need recurse
        ("{recurse: true}", ["deep", "hidden", "top"]),
        ("{recurse: true, include: '*/*.yaml'}", ["deep", "hidden"]),
        ("{recurse: true, include: '{top.yaml,.hidden/*}'}", ["hidden", "top"]),
        ("{recurse: true, exclude: '.hidden/*'}", ["deep", "top"]),
        ("{recurse: true, include: '*.yaml', exclude: 'sub/*'}", ["hidden", "top"]),
    ],
)
def test_directory_recurse_include_exclude(
    tmp_path: Path, cli: Callable[..., Run], directory: str, expect: list[str]
) -> None:
    """Exactly what Argo CD applies is what the Application deploys: sub-folders with recurse,
    dot-folders too (the repo's own check skips them, so the source is one here), and
    include/exclude patterns that cross ``/``."""
    write_tree(
        tmp_path,
        {
            ".deploy/top.yaml": restricted_pod("top", "  hostPID: true\n"),
            ".deploy/sub/deep.yaml": restricted_pod("deep", "  hostPID: true\n"),
            ".deploy/.hidden/hidden.yaml": restricted_pod("hidden", "  hostPID: true\n"),
            "apps/app.yaml": application("raw", ".deploy", f"    directory: {directory}\n"),
        },
    )
    run = cli("check", tmp_path, "--format", "json")
    found = errors(run, "pss.host-namespaces")
    assert names(found) == expect
    assert all("Application argocd/raw" in f["message"] for f in found)


# --- the shadow: no network, nothing written, removed on SIGTERM, remembered by all it reads ---


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    running = LoopbackServer({"/pod.yaml": restricted_pod("remote", "  hostPID: true\n").encode()})
    yield running
    running.close()


def test_remote_settings_are_never_fetched(
    tmp_path: Path, cli: Callable[..., Run], server: LoopbackServer
) -> None:
    url = f"http://127.0.0.1:{server.port}"
    for i, settings in enumerate(
        [
            f"components: ['{url}/pod.yaml']",
            f"components: ['git::{url}/org/repo.git//comp?ref=main']",
            f"patches: [{{path: '{url}/pod.yaml'}}]",
            "components: ['github.com/org/repo/comp?ref=v1']",
        ]
    ):
        write_tree(
            tmp_path,
            {
                f"o{i}/kustomization.yaml": "resources: [pod.yaml]\n",
                f"o{i}/pod.yaml": restricted_pod(f"p{i}"),
                f"apps/a{i}.yaml": application(
                    f"a{i}", f"o{i}", f"    kustomize:\n      {settings}\n"
                ),
            },
        )
    run = cli("check", tmp_path, "--format", "json")
    assert run.code == 1
    assert names(errors(run, "argocd.source-unchecked")) == ["a0", "a1", "a2", "a3"]
    assert server.requests == []


def test_the_shadow_build_has_no_network(tmp_path: Path, server: LoopbackServer) -> None:
    """The second line of defence: a remote entry that reached the shadow is never fetched."""
    from servegate.argocd_kustomize import make_shadow
    from servegate.render import build, sandbox

    if not sandbox():
        pytest.skip("this platform allows no network namespace (unshare --net / -rn)")
    repo = write_tree(tmp_path / "repo", {"o/kustomization.yaml": "resources: []\n"})
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    text = f"resources: ['http://127.0.0.1:{server.port}/pod.yaml']\n"
    shadow = make_shadow(repo, "o", "kustomization.yaml", text, set(), scratch)
    output, error, _ = build(shadow.wrapper, shadow.root)
    assert output is None and error
    assert server.requests == []


def test_the_render_memo_keys_on_what_the_settings_add(
    tmp_path: Path, cli: Callable[..., Run]
) -> None:
    """A warm check reuses the shadow render only while the overlay, the components the
    settings add, the patch files they name and the settings themselves are unchanged."""
    write_tree(
        tmp_path,
        {
            "overlays/prod/kustomization.yaml": "resources: [pod.yaml]\n",
            "overlays/prod/pod.yaml": restricted_pod("evil"),
            "overlays/prod/patch.yaml": "- {op: add, path: /spec/hostIPC, value: false}\n",
            "components/c/kustomization.yaml": COMPONENT,
            "apps/app.yaml": application(
                "model-prod",
                "overlays/prod",
                "    kustomize:\n      components: [../../components/c]\n"
                "      patches: [{path: patch.yaml, target: {kind: Pod}}]\n",
            ),
        },
    )
    assert cli("check", tmp_path, "--format", "json").code == 0
    assert cli("check", tmp_path, "--format", "json").code == 0  # warm
    (tmp_path / "components/c/kustomization.yaml").write_text(
        COMPONENT + "patches:\n- target: {kind: Pod}\n  patch: "
        '\'[{"op": "add", "path": "/spec/hostNetwork", "value": true}]\'\n'
    )
    assert names(errors(cli("check", tmp_path, "--format", "json"), "pss.")) == ["evil"]
    (tmp_path / "components/c/kustomization.yaml").write_text(COMPONENT)
    assert cli("check", tmp_path, "--format", "json").code == 0
    (tmp_path / "overlays/prod/patch.yaml").write_text(
        "- {op: add, path: /spec/hostIPC, value: true}\n"
    )
    assert names(errors(cli("check", tmp_path, "--format", "json"), "pss.")) == ["evil"]


STALLING_KUBECTL = """\
#!/bin/sh
# kubectl, except that the build of a shadow of the repo (servegate.argocd_kustomize) stalls
case "$*" in
  */app-*) exec sleep 120 ;;
esac
exec {kubectl} "$@"
"""


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to see child processes")
def test_sigterm_during_a_shadow_build_stops_it_and_removes_the_shadow(tmp_path: Path) -> None:
    from servegate.render import kubectl_path

    stand_in = tmp_path / "kubectl"
    stand_in.write_text(STALLING_KUBECTL.format(kubectl=kubectl_path()))
    stand_in.chmod(0o755)
    root = write_tree(
        tmp_path / "repo",
        {
            "overlays/prod/kustomization.yaml": "resources: [pod.yaml]\n",
            "overlays/prod/pod.yaml": restricted_pod("evil"),
            "apps/app.yaml": application("model-prod", "overlays/prod", KUSTOMIZE_PATCH),
        },
    )
    (root / ".git").mkdir()
    before = tree_digest(root)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {
        **os.environ,
        "TMPDIR": str(scratch),
        "SERVEGATE_CACHE_DIR": str(tmp_path / "cache"),
        "SERVEGATE_KUBECTL": str(stand_in),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "servegate", "check", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    deadline = time.monotonic() + 60
    stalled: set[int] = set()
    while time.monotonic() < deadline and proc.poll() is None:
        stalled = _sleepers(proc.pid)
        if stalled and any(scratch.rglob("servegate-wrap-*")):
            break
        time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("the shadow build never started")
    os.kill(proc.pid, signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("servegate still running 15 s after SIGTERM")
    assert proc.returncode == 143
    assert list(scratch.iterdir()) == []
    time.sleep(0.5)
    assert _alive(stalled) == set()
    assert tree_digest(root) == before
    assert b"Traceback" not in err


def _sleepers(pid: int) -> set[int]:
    """The ``sleep 120`` processes below ``pid`` (the stalled shadow builds)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    below: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in below:
                below.add(child)
                todo.append(child)
    found = set()
    for child in below:
        try:
            if (Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0"))[:2] == [b"sleep", b"120"]:
                found.add(child)
        except OSError:
            continue
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"sleep\0120"):
                alive.add(pid)
        except OSError:
            continue
    return alive


NARROWED_SETTINGS = """\
    kustomize:
      namePrefix: prod-
      components: [../../components/c]
      patches:
      - path: extra.yaml
        target: {kind: Pod}
      - target: {kind: Pod, name: evil}
        patch: '[{"op": "add", "path": "/spec/hostPID", "value": true}]'
"""


@pytest.mark.parametrize(
    ("changed", "found"),
    [
        ("overlays/prod/pod.yaml", ["prod-evil"]),  # the overlay the Application deploys
        ("components/c/kustomization.yaml", ["prod-evil"]),  # a component its settings add
        ("overlays/prod/extra.yaml", ["prod-evil"]),  # a patch file its settings name
        ("docs/notes.yaml", []),  # nothing it reads: narrowing still narrows
    ],
)
def test_changed_files_reach_what_an_unchanged_application_deploys(
    tmp_path: Path,
    cli: Callable[..., Run],
    monkeypatch: pytest.MonkeyPatch,
    changed: str,
    found: list[str],
) -> None:
    write_tree(
        tmp_path,
        {
            "kustomization.yaml": "resources: [overlays/prod]\n",
            "overlays/prod/kustomization.yaml": "resources: [pod.yaml]\n",
            "overlays/prod/pod.yaml": restricted_pod("evil"),
            "overlays/prod/extra.yaml": "- {op: add, path: /metadata/labels, value: {a: b}}\n",
            "components/c/kustomization.yaml": COMPONENT,
            "docs/notes.yaml": "a: 1\n",
            "apps/app.yaml": application("model-prod", "overlays/prod", NARROWED_SETTINGS),
        },
    )
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    monkeypatch.chdir(tmp_path)
    for args in (["--changed-files", changed], ["--changed-files", changed, "--no-cache"]):
        run = cli("check", *args, "--format", "json")
        assert names(errors(run, "pss.")) == found, args


def _app_json(name: str, path: str) -> str:
    """An Application as JSON (Argo CD's directory sources and kubectl read ``.json`` too)."""
    import yaml

    return json.dumps(yaml.safe_load(application(name, path)))


@pytest.mark.parametrize(
    ("where", "text"),
    [
        ("apps/app.json", lambda: _app_json("model-prod", "overlays/prod")),
        ("apps/.app.yaml", lambda: application("model-prod", "overlays/prod")),
        ("apps/app.yaml", lambda: application("model-prod", "overlays/prod")),
    ],
)
@pytest.mark.parametrize("mode", ["--changed-files", "--changed-files --no-cache", "--base"])
def test_a_narrowed_check_finds_unchanged_applications_in_every_manifest_file(
    tmp_path: Path,
    cli: Callable[..., Run],
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    text: Callable[[], str],
    mode: str,
) -> None:
    """The overlay is included by the root kustomization, so only the Application makes it a
    root of its own; the Application's file is unchanged and may be JSON or a dot-file."""
    write_tree(
        tmp_path,
        {
            "kustomization.yaml": "resources: [overlays/prod]\nnamePrefix: root-\n",
            "overlays/prod/kustomization.yaml": "resources: [pod.yaml]\n",
            "overlays/prod/pod.yaml": restricted_pod("evil"),
            where: text(),
        },
    )
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    pod = tmp_path / "overlays/prod/pod.yaml"
    pod.write_text(pod.read_text().replace("containers:", "hostPID: true\n  containers:"))
    monkeypatch.chdir(tmp_path)
    args = ["--base", "HEAD"] if mode == "--base" else [*mode.split(), "overlays/prod/pod.yaml"]
    run = cli("check", *args, "--format", "json")
    assert names(errors(run, "pss.host-namespaces")) == ["evil", "root-evil"], args


HIDDEN_OVERLAY = {
    ".deploy/prod/kustomization.yaml": "resources: [pod.yaml]\n",
    ".deploy/prod/pod.yaml": restricted_pod("evil").replace(
        "containers:", "hostPID: true\n  containers:"
    ),
    "apps/app.yaml": application("hidden", ".deploy/prod"),
}


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--no-cache"],
        ["--changed-files", ".deploy/prod/pod.yaml"],
        ["--changed-files", "apps/app.yaml"],
        ["apps"],  # a folder below the root: the Application's file is in scope
    ],
)
def test_an_overlay_in_a_dot_folder_that_an_application_deploys_is_checked(
    tmp_path: Path, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    """Discovery's walk skips dot-folders (as kustomize users expect of ``.github``), but Argo
    CD deploys whatever path an Application names: that overlay is read and checked."""
    write_tree(tmp_path, HIDDEN_OVERLAY)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    monkeypatch.chdir(tmp_path)
    run = cli("check", *(args or ["."]), "--format", "json")
    assert names(errors(run, "pss.host-namespaces")) == ["evil"], args


def test_what_an_application_deploys_outside_the_checked_folder_keeps_its_findings(
    tmp_path: Path, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kustomization read only because an Application deploys it reports what blocks its
    render (here a remote base) instead of being skipped in silence."""
    write_tree(
        tmp_path,
        {
            "overlays/prod/kustomization.yaml": "resources:\n- github.com/org/repo//x?ref=v1\n",
            "apps/app.yaml": application("model-prod", "overlays/prod"),
        },
    )
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    monkeypatch.chdir(tmp_path)
    run = cli("check", "apps", "--format", "json")
    assert run.code == 1
    assert [f["file"] for f in errors(run, "repo.remote-base")] == [
        "overlays/prod/kustomization.yaml"
    ]


ESCAPED_APPS = {
    # a double-quoted YAML escape spells the letters a byte search would look for
    "apps/app.yaml": application("model-prod", "overlays/prod")
    .replace("apiVersion: argoproj.io/v1alpha1", 'apiVersion: "argoproj\\x2eio/v1alpha1"')
    .replace("kind: Application", 'kind: "Applic\\x61tion"'),
    # a JSON \u escape, and an escaped line break joining two halves of the kind
    "apps/app.json": '{"apiVersion": "argoproj.io/v1alpha1", "kind": "Applic\\u0061tion",'
    ' "metadata": {"name": "model-prod", "namespace": "argocd"}, "spec": {"project": "ml",'
    ' "source": {"repoURL": "https://git.example.com/ml/model.git", "path": "overlays/prod"},'
    ' "destination": {"server": "https://kubernetes.default.svc", "namespace": "ml"}}}',
    "apps/folded.yaml": application("model-prod", "overlays/prod").replace(
        "kind: Application", 'kind: "Applic\\\n  ation"'
    ),
    # !!binary decodes base64 (go-yaml decode.go scalar), and a backslash before a LINE
    # SEPARATOR is an escaped line break (go-yaml yamlh.go is_break)
    "apps/binary.yaml": application("model-prod", "overlays/prod").replace(
        "kind: Application", "kind: !!binary QXBwbGljYXRpb24="
    ),
    "apps/separator.yaml": application("model-prod", "overlays/prod").replace(
        "kind: Application", 'kind: "Appli\\\u2028cation"'
    ),
}


@pytest.mark.parametrize("where", sorted(ESCAPED_APPS))
def test_an_application_spelled_with_escapes_is_found(
    tmp_path: Path, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """kubectl and Argo CD decode escapes before they read ``kind``: so does the scan."""
    write_tree(
        tmp_path,
        {
            "kustomization.yaml": "resources: [overlays/prod]\nnamePrefix: root-\n",
            "overlays/prod/kustomization.yaml": "resources: [pod.yaml]\n",
            "overlays/prod/pod.yaml": restricted_pod("evil").replace(
                "containers:", "hostPID: true\n  containers:"
            ),
            where: ESCAPED_APPS[where],
        },
    )
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    monkeypatch.chdir(tmp_path)
    run = cli("check", ".", "--format", "json")
    assert names(errors(run, "pss.host-namespaces")) == ["evil", "root-evil"], run.out


def test_only_files_that_may_hold_an_application_are_parsed_for_one() -> None:
    from servegate.deployed import may_hold_application

    rollout = b"apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nregex: (\\d+)\n"
    assert not may_hold_application(rollout)
    assert may_hold_application(b"kind: Application\n")
    assert may_hold_application(b'kind: "Applic\\x61tion"\n')
    assert may_hold_application("kind: Application\n".encode("utf-16-le"))
    assert may_hold_application(b"kind: !!binary QXBwbGljYXRpb24=\n")
    assert may_hold_application('kind: "Appli\\\u0085cation"\n'.encode())
    assert not may_hold_application(b'expr: sum(rate(x{code!="200"}[5m]))\n')


CHILD_PATCHES = {
    "kustomize patches": (
        "patches:\n- target: {kind: Application}\n  patch: |-\n    - op: add\n"
        "      path: /spec/source/kustomize\n      value:\n        patches:\n"
        "        - target: {kind: Pod}\n"
        '          patch: \'[{"op": "add", "path": "/spec/hostPID", "value": true}]\'\n',
        "spec.source.kustomize",
    ),
    "a replacement of the path": (
        "resources: [paths.yaml]\nreplacements:\n"
        "- source: {kind: ConfigMap, name: paths, fieldPath: data.path}\n"
        "  targets:\n  - select: {kind: Application}\n    fieldPaths: [spec.source.path]\n",
        "spec.source.path",
    ),
    "a strategic merge adding a source": (
        "patches:\n- patch: |-\n    apiVersion: argoproj.io/v1alpha1\n    kind: Application\n"
        "    metadata: {name: model-prod, namespace: argocd}\n    spec:\n"
        "      destination: {namespace: kube-system}\n",
        "spec.destination.namespace",
    ),
    "the generator of an ApplicationSet": (
        "patches:\n- target: {kind: ApplicationSet}\n  patch: |-\n    - op: replace\n"
        "      path: /spec/generators/0/list/elements/0/env\n      value: evil\n",
        "spec.generators.0.list.elements.0.env",
    ),
}

CHILD_APPSET = """\
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: envs, namespace: argocd}
spec:
  generators:
  - list:
      elements: [{env: prod}]
  template:
    metadata: {name: 'model-{{env}}'}
    spec:
      project: ml
      source: {repoURL: 'https://git.example.com/ml/model.git', path: 'overlays/{{env}}'}
      destination: {server: 'https://kubernetes.default.svc', namespace: ml}
"""


def _app_of_apps(tmp_path: Path, kustomization: str) -> None:
    write_tree(
        tmp_path,
        {
            "overlays/prod/kustomization.yaml": "resources: [pod.yaml]\n",
            "overlays/prod/pod.yaml": restricted_pod("evil"),
            "overlays/evil/kustomization.yaml": "resources: [pod.yaml]\n",
            "overlays/evil/pod.yaml": restricted_pod("evil"),
            "apps/app.yaml": application("model-prod", "overlays/prod"),
            "apps/appset.yaml": CHILD_APPSET,
            "apps/paths.yaml": "apiVersion: v1\nkind: ConfigMap\n"
            "metadata: {name: paths, namespace: argocd}\ndata: {path: overlays/evil}\n",
            "apps/kustomization.yaml": "resources: [app.yaml, appset.yaml]\n" + kustomization,
        },
    )


@pytest.mark.parametrize("how", sorted(CHILD_PATCHES))
def test_an_application_that_kustomize_changes_is_an_error(
    tmp_path: Path, cli: Callable[..., Run], how: str
) -> None:
    """An app-of-apps folder's kustomization that changes what a child Application deploys
    (Argo CD applies the child as rendered) is an error at the line that changes it."""
    kustomization, field = CHILD_PATCHES[how]
    if kustomization.startswith("resources:"):  # two resources: lists would be a duplicate key
        kustomization = kustomization.replace("resources: [paths.yaml]\n", "")
        _app_of_apps(tmp_path, kustomization)
        (tmp_path / "apps/kustomization.yaml").write_text(
            "resources: [app.yaml, appset.yaml, paths.yaml]\n" + kustomization, encoding="utf-8"
        )
    else:
        _app_of_apps(tmp_path, kustomization)
    run = cli("check", tmp_path, "--format", "json")
    assert run.code == 1
    (found,) = errors(run, "argocd.source-unchecked")
    assert f"({field} differs from apps/app" in found["message"]
    assert found["file"] == "apps/kustomization.yaml" and found["line"] > 1
    warm = cli("check", tmp_path, "--format", "json")  # the render and result memo keep it
    assert errors(warm, "argocd.source-unchecked") == [found]


def test_what_does_not_change_a_deployment_is_no_error(
    tmp_path: Path, cli: Callable[..., Run]
) -> None:
    """Names, labels, annotations, the Application's own namespace and the revision do not
    change what servegate checks (the working tree)."""
    _app_of_apps(
        tmp_path,
        "namespace: argocd\nnamePrefix: x-\ncommonLabels: {team: ml}\n"
        "commonAnnotations: {owner: ml}\npatches:\n- target: {kind: Application}\n"
        "  patch: |-\n    - op: add\n      path: /spec/source/targetRevision\n      value: v2\n",
    )
    run = cli("check", tmp_path, "--format", "json")
    assert errors(run, "argocd.") == []


GIT_FILES_APPSET = """\
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: envs, namespace: argocd}
spec:
  generators:
  - git:
      repoURL: https://git.example.com/ml/model.git
      revision: HEAD
      files:
      - path: "config/*/config.json"
  template:
    metadata: {name: 'model-{{env}}'}
    spec:
      project: ml
      source:
        repoURL: https://git.example.com/ml/model.git
        path: 'overlays/{{env}}'
        kustomize:
          patches:
          - target: {kind: Pod}
            patch: '[{"op": "add", "path": "/spec/hostPID", "value": true}]'
      destination: {server: https://kubernetes.default.svc, namespace: ml}
"""


def test_a_git_files_generator_is_resolved_and_its_files_narrow(
    tmp_path: Path, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Git files generator's parameters come from the repo's files, so what its
    Applications deploy is checked; a narrowed check reaches it when only such a file
    changes (the ApplicationSet's file is unchanged)."""
    write_tree(
        tmp_path,
        {
            "overlays/prod/kustomization.yaml": "resources: [pod.yaml]\n",
            "overlays/prod/pod.yaml": restricted_pod("prod"),
            "overlays/canary/kustomization.yaml": "resources: [pod.yaml]\n",
            "overlays/canary/pod.yaml": restricted_pod("canary"),
            "config/one/config.json": '{"env": "prod"}',
            "apps/appset.yaml": GIT_FILES_APPSET,
        },
    )
    run = cli("check", tmp_path, "--format", "json")
    assert names(errors(run, "pss.host-namespaces")) == ["prod"]
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    (tmp_path / "config/one/config.json").write_text('{"env": "canary"}', encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # --changed-files checks the repo of the working folder
    for narrowed in (("--changed-files", "config/one/config.json"), ("--base", "HEAD")):
        run = cli("check", "--format", "json", *narrowed)
        assert names(errors(run, "pss.host-namespaces")) == ["canary"], narrowed

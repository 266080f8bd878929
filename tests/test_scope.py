"""What a check covers (servegate/scope.py): the --changed-files shortcut (``discover_changed``)
finds exactly what discovering the whole repo and narrowing it to the changed files finds, and
the check reports the same findings."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import CLI, PRIVILEGED_POD, Tree

from bench.synth import scaffold_template, synth
from servegate import scope
from servegate.discover import discover, discover_changed
from servegate.engine import check
from servegate.options import CheckOptions
from servegate.yamlsafe import KUBERNETES

CHANGED = [
    "models/model-0003/overlays/prod/inferenceservice-patch.yaml",
    "models/model-0003/overlays/prod/kustomization.yaml",
    "models/model-0002/base/inferenceservice.yaml",
    "models/model-0002/base/kustomization.yaml",
    "models/model-0001/argocd/appproject.yaml",
    "models/model-0004/base/no-such-file.yaml",
    "README.md",
]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("changed")
    synth(base / "repo", 6, template=scaffold_template(base / "tpl"))
    repo = base / "repo"
    # a file an overlay reads from outside its own folder, and a broken plain file
    shared = repo / "models/model-0005/overlays/dev/kustomization.yaml"
    shared.write_text(
        shared.read_text() + "configMapGenerator:\n- name: c\n  files:\n  - ../../base/extra.txt\n"
    )
    (repo / "models/model-0005/base/extra.txt").write_text("x\n")
    (repo / "plain").mkdir()
    (repo / "plain/bad.yaml").write_text("a: 1\na: 2\n")
    return repo


@pytest.mark.parametrize(
    "changed",
    [*([c] for c in CHANGED), ["models/model-0005/base/extra.txt"], ["plain/bad.yaml"], CHANGED],
)
def test_shortcut_equals_full_discovery_narrowed(
    repo: Path, changed: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SERVEGATE_CACHE_DIR", str(tmp_path / "cache"))
    touched = set(changed)
    whole = discover([repo])
    full = scope.narrow(whole, touched)
    manifests: dict[str, str] = {}
    fast = discover_changed(repo, touched, None, manifests)
    assert fast is not None
    # every manifest file, decoded as the whole repo's check decodes it (for its Applications)
    assert set(whole.yaml_files) <= set(manifests)
    plain = set(whole.plain_files)
    assert {f for f in whole.yaml_files if manifests[f] == KUBERNETES} == plain
    fast = scope.narrow(fast, touched)
    assert fast.roots == full.roots
    assert fast.plain_files == full.plain_files
    assert fast.yaml_files == full.yaml_files
    assert sorted(fast.findings, key=str) == sorted(full.findings, key=str)
    for r in full.roots:
        assert fast.inputs(r) == full.inputs(r)


def test_check_changed_files_reports_what_a_full_narrowing_reports(
    repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SERVEGATE_CACHE_DIR", str(tmp_path / "cache"))
    files = (*(repo / c for c in CHANGED[:5]), repo / "plain/bad.yaml")
    fast = check(CheckOptions(paths=(repo,), changed=files))
    # a path below the root skips the shortcut: the whole-repo discovery and narrowing
    slow = check(CheckOptions(paths=(repo / "models", repo / "plain"), root=repo, changed=files))
    assert fast.findings == slow.findings
    assert fast.resources == slow.resources > 0
    assert any(f.rule == "yaml.duplicate-key" for f in fast.findings)


def test_symlinks_fall_back_to_full_discovery(repo: Path) -> None:
    copy = repo / "models/link"
    copy.symlink_to(repo / "models/model-0001")
    try:
        assert discover_changed(repo, {"models/model-0001/base/rbac.yaml"}) is None
    finally:
        copy.unlink()


# -- exclude: globs (issue 15.3): the repo's, honoured only when the operator asks ------------

EXCLUDING = {
    "servegate.yaml": "version: 1\nexclude:\n  - models/*/scratch\n  - examples\n",
    "models/a/scratch/overlay/pod.yaml": PRIVILEGED_POD,
    "models/a/scratch/overlay/kustomization.yaml": "resources: [pod.yaml]\n",
    "examples/pod.yaml": PRIVILEGED_POD.replace("name: debug", "name: example"),
    "models/a/overlays/prod/kustomization.yaml": "resources: [../../shared]\n",
    "models/a/shared/kustomization.yaml": "resources: [cm.yaml]\n",
    "models/a/shared/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
}


def test_excludes_count_only_when_the_operator_honours_them(cli: CLI, tree: Tree) -> None:
    root = tree(EXCLUDING)
    plain = cli("check", root, "--format", "json")
    assert plain.code == 1
    assert {f["file"] for f in plain.json()["findings"] if f["rule"] == "pss.privileged"} == {
        "models/a/scratch/overlay/pod.yaml",
        "examples/pod.yaml",
    }
    honoured = cli("check", root, "--format", "json", "--honor-excludes")
    assert honoured.code == 0, honoured.out
    listed = {
        f["file"]: f["suppression"]
        for f in honoured.json()["suppressed"]
        if f["rule"] == "repo.excluded"
    }
    assert set(listed) == {"models/a/scratch/overlay/kustomization.yaml", "examples/pod.yaml"}
    scratch = listed["models/a/scratch/overlay/kustomization.yaml"]
    assert scratch["kind"] == "exclude"
    assert "servegate.yaml:3 exclude 'models/*/scratch'" in scratch["reason"]
    assert "examples/pod.yaml" in cli("check", root, "--honor-excludes").out


def test_the_operator_configuration_honours_excludes(
    cli: CLI, tree: Tree, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tree(EXCLUDING)
    operator = tmp_path_factory.mktemp("op") / "operator.yaml"
    operator.write_text("version: 1\nhonorExcludes: true\n", encoding="utf-8")
    assert cli("check", root, "--operator-config", operator).code == 0


def test_an_exclude_never_hides_what_the_operator_names_or_a_kept_root_renders(
    cli: CLI, tree: Tree
) -> None:
    root = tree(
        {
            **EXCLUDING,
            "servegate.yaml": "version: 1\nexclude: [models/*/shared, models/a/scratch]\n",
            "models/a/shared/cm.yaml": PRIVILEGED_POD,
        }
    )
    run = cli("check", root, "--format", "json", "--honor-excludes")
    assert any(f["file"] == "models/a/shared/cm.yaml" for f in run.json()["findings"])
    named = cli("check", root / "models/a/scratch", "--format", "json", "--honor-excludes")
    assert named.code == 1 and not named.json()["suppressed"]


@pytest.mark.parametrize("glob", ["'*'", "../other", "/etc", "a/../../b"])
def test_an_exclude_of_everything_or_outside_is_invalid(cli: CLI, tree: Tree, glob: str) -> None:
    root = tree({"servegate.yaml": f"version: 1\nexclude: [{glob}]\n", "pod.yaml": PRIVILEGED_POD})
    run = cli("check", root, "--format", "json", "--honor-excludes")
    rules = {f["rule"] for f in run.json()["findings"]}
    assert {"repo.config-invalid", "pss.privileged"} <= rules

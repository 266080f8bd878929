"""Discovery: a root's inputs (what its render key hashes and what narrowing maps back), include
cycles, and the bound on what one root's include graph may cost kustomize."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest
from helpers import CLI, Tree, doubling_graph, write_tree

from servegate import scope
from servegate.discover import MAX_BUILDS, _build_counts, _components, discover, discover_changed

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n"
DEPLOY = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n"

#: One overlay per way kustomize reads a file; each reads ``<overlay>/<FILE>`` (or the file
#: named second), and the change of that file must select that overlay and no other.
KINDS: dict[str, tuple[dict[str, str], str]] = {
    "replacements": (
        {"kustomization.yaml": "resources: [d.yaml]\nreplacements:\n- path: repl.yaml\n"},
        "repl.yaml",
    ),
    "configMapGenerator.files": (
        {"kustomization.yaml": "configMapGenerator:\n- name: c\n  files: [k=conf/app.ini]\n"},
        "conf/app.ini",
    ),
    "secretGenerator.envs": (
        {"kustomization.yaml": "secretGenerator:\n- name: s\n  envs: [s.env]\n"},
        "s.env",
    ),
    "secretGenerator.env": (
        {"kustomization.yaml": "secretGenerator:\n- name: s\n  env: one.env\n"},
        "one.env",
    ),
    "patches": (
        {
            "kustomization.yaml": "resources: [d.yaml]\npatches:\n- path: p.yaml\n  target: {kind: Deployment}\n"
        },
        "p.yaml",
    ),
    "patchesJson6902": (
        {
            "kustomization.yaml": "resources: [d.yaml]\npatchesJson6902:\n- path: j.yaml\n  target: {kind: Deployment, name: d}\n"
        },
        "j.yaml",
    ),
    "patchesStrategicMerge": (
        {"kustomization.yaml": "resources: [d.yaml]\npatchesStrategicMerge: [sm.yaml]\n"},
        "sm.yaml",
    ),
    "crds": ({"kustomization.yaml": "resources: [d.yaml]\ncrds: [crd.json]\n"}, "crd.json"),
    "openapi": (
        {"kustomization.yaml": "resources: [d.yaml]\nopenapi:\n  path: schema.json\n"},
        "schema.json",
    ),
    "configurations": (
        {"kustomization.yaml": "resources: [d.yaml]\nconfigurations: [conf.yaml]\n"},
        "conf.yaml",
    ),
    "transformer configuration": (
        {"kustomization.yaml": "resources: [d.yaml]\ntransformers: [labels.yaml]\n"},
        "labels.yaml",
    ),
    "file a transformer configuration names": (
        {
            "kustomization.yaml": "resources: [d.yaml]\ntransformers: [patcher.yaml]\n",
            "patcher.yaml": "apiVersion: builtin\nkind: PatchTransformer\nmetadata: {name: p}\npath: inner.yaml\n",
        },
        "inner.yaml",
    ),
    "inline transformer's file": (
        {
            "kustomization.yaml": "resources: [d.yaml]\ntransformers:\n- apiVersion: builtin\n  kind: PatchTransformer\n  metadata: {name: p}\n  path: inline.yaml\n"
        },
        "inline.yaml",
    ),
    "component": (
        {
            "kustomization.yaml": "resources: [d.yaml]\ncomponents: [comp]\n",
            "comp/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches: [{path: cp.yaml}]\n",
        },
        "comp/cp.yaml",
    ),
    "file in the folder that nothing names": (
        {"kustomization.yaml": "resources: [d.yaml]\n"},
        "notes/extra.yaml",
    ),
}


def _kinds_repo(root: Path) -> Path:
    files: dict[str, str] = {
        "bystander/kustomization.yaml": "resources: [cm.yaml]\n",
        "bystander/cm.yaml": CM,
    }
    for i, (own, changed) in enumerate(KINDS.values()):
        for name, text in own.items():
            files[f"k{i}/{name}"] = text
        files.setdefault(f"k{i}/d.yaml", DEPLOY)
        files.setdefault(f"k{i}/{changed}", "a: 1\n")
    (root / ".git").mkdir(parents=True, exist_ok=True)
    return write_tree(root, files)


@pytest.mark.parametrize("kind", list(KINDS))
def test_narrowing_selects_every_root_that_reads_the_file(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--changed-files (the shortcut and the full discovery) and --base map the file back to
    its root, and the root's render key changes with it: the three agree."""
    from servegate.memo import Memo
    from servegate.render import render_keys

    monkeypatch.setenv("SERVEGATE_CACHE_DIR", str(tmp_path / "cache"))
    root = _kinds_repo(tmp_path / "repo").resolve()
    index = list(KINDS).index(kind)
    changed = {f"k{index}/{KINDS[kind][1]}"}
    full = discover([root], root)
    assert not full.findings
    assert scope.narrow(full, changed).roots == [f"k{index}"]
    fast = discover_changed(root, changed)
    assert fast is not None and scope.narrow(fast, changed).roots == [f"k{index}"]
    before = render_keys(full, full.roots, Memo.default())
    (root / next(iter(changed))).write_text("a: 2\n", encoding="utf-8")
    after = render_keys(full, full.roots, Memo.default())
    assert {r for r in full.roots if before[r] != after[r]} == {f"k{index}"}


def test_a_shared_base_selects_every_overlay_and_its_unnamed_files(tree: Tree) -> None:
    root = tree(
        {
            "base/kustomization.yaml": "resources: [d.yaml]\n",
            "base/d.yaml": DEPLOY,
            "base/docs/readme.yaml": "a: 1\n",
            "dev/kustomization.yaml": "namespace: dev\nresources: [../base]\n",
            "prod/kustomization.yaml": "namespace: prod\nresources: [../base]\n",
            "other/kustomization.yaml": "resources: [cm.yaml]\n",
            "other/cm.yaml": CM,
        }
    ).resolve()
    for changed in ({"base/d.yaml"}, {"base/docs/readme.yaml"}, {"base/gone.yaml"}):
        assert scope.narrow(discover([root], root), changed).roots == ["dev", "prod"]
        fast = discover_changed(root, changed)
        assert fast is not None and fast.roots == ["dev", "prod"]


def test_symlink_targets_are_inputs(tree: Tree) -> None:
    """kustomize follows a resource symlink to its target; the target is an input of the root
    (and a symlinked base folder is the base itself, not a second kustomization)."""
    root = tree(
        {
            "shared/pod.yaml": CM,
            "base/kustomization.yaml": "resources: [cm.yaml]\n",
            "base/cm.yaml": CM,
            "app/kustomization.yaml": "resources: [pod.yaml, linked]\n",
            "app/real.yaml": CM,
        }
    ).resolve()
    os.symlink("../shared/pod.yaml", root / "app/pod.yaml")
    os.symlink("../base", root / "app/linked")
    found = discover([root], root)
    assert found.roots == ["app"]
    assert found.kustomizations["app"].dirs == ["base"]
    assert {"app/pod.yaml", "shared/pod.yaml", "base/cm.yaml"} <= set(found.inputs("app"))
    for changed in ("shared/pod.yaml", "base/cm.yaml"):
        assert scope.narrow(found, {changed}).roots == ["app"]
    assert discover_changed(root, {"shared/pod.yaml"}) is None  # symlinks: the full way


def test_changed_files_and_base_render_the_root_a_replacements_file_feeds(
    tree: Tree, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end with real kustomize and git: only the replacements file changes, and both
    narrowed modes render the overlay and find what the change did."""
    import subprocess

    root = tree(
        {
            "base/kustomization.yaml": "resources: [deploy.yaml]\n",
            "base/deploy.yaml": (
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: model}\nspec:\n"
                "  selector: {matchLabels: {app: m}}\n  template:\n    metadata: {labels: {app: m}}\n"
                "    spec:\n      securityContext: {runAsNonRoot: true}\n"
                "      containers: [{name: c, image: registry.example.com/m:1}]\n"
            ),
            "overlays/prod/kustomization.yaml": "namespace: prod\nresources: [../../base]\nreplacements:\n- path: repl.yaml\n",
            "overlays/prod/repl.yaml": (
                "source: {kind: Deployment, name: model, fieldPath: metadata.name}\n"
                "targets:\n- select: {kind: Deployment, name: model}\n"
                "  fieldPaths: [metadata.labels.copy]\n  options: {create: true}\n"
            ),
        }
    )
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    subprocess.run(["git", "init", "-q"], cwd=root, check=True, env=env)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True, env=env)
    subprocess.run(["git", "commit", "-qm", "x"], cwd=root, check=True, env=env)
    repl = root / "overlays/prod/repl.yaml"
    repl.write_text(
        repl.read_text()
        .replace("metadata.name", "spec.template.spec.securityContext.runAsNonRoot")
        .replace("metadata.labels.copy", "spec.template.spec.hostNetwork")
    )
    monkeypatch.chdir(root)  # pre-commit runs in the repo
    for args in (("--changed-files", repl), (root, "--base", "HEAD")):
        run = cli("check", *args, "--format", "json")
        rules = {f["rule"] for f in run.json()["findings"]}
        assert run.code == 1 and "pss.host-namespaces" in rules, (args, run.out)


# --- include cycles ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {
                "a/kustomization.yaml": "resources:\n- ../b\n",
                "b/kustomization.yaml": "resources:\n- ../a\n",
            },
            {("a/kustomization.yaml", 2), ("b/kustomization.yaml", 2)},
        ),
        (
            {"a/kustomization.yaml": "resources:\n- cm.yaml\n- .\n", "a/cm.yaml": CM},
            {("a/kustomization.yaml", 3)},
        ),
        (
            {
                "app/kustomization.yaml": "namespace: x\nresources:\n- ../a\n",
                "a/kustomization.yaml": "components:\n- ../c\n",
                "c/kustomization.yaml": "kind: Component\ncomponents:\n- ../a\n",
            },
            {("a/kustomization.yaml", 2), ("c/kustomization.yaml", 3)},
        ),
    ],
    ids=["two kustomizations", "itself", "through a component, below an overlay"],
)
def test_a_cycle_is_an_error(
    files: dict[str, str],
    expected: set[tuple[str, int]],
    tree: Tree,
    cli: CLI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = tree(files)
    found = discover([root], root)
    cycle = {(f.file, f.line) for f in found.findings if "cycle" in f.message}
    assert cycle == expected
    assert all(f.rule == "repo.kustomize-error" for f in found.findings)
    assert found.roots, "a cycle belongs to a root"
    run = cli("check", root, "--format", "json")
    assert run.code == 1
    assert {(f["file"], f["line"]) for f in run.json()["findings"]} == expected
    changed = next(iter(expected))[0]  # the pre-commit way reports it too
    monkeypatch.chdir(root)
    run = cli("check", "--changed-files", root / changed, "--format", "json")
    assert run.code == 1 and changed in {f["file"] for f in run.json()["findings"]}


# --- what one root may cost -------------------------------------------------------------------


def test_build_counts_follow_every_path() -> None:
    from servegate.discover import Kustomization

    ks = {f"L{k}": Kustomization(f"L{k}", f"L{k}/k", None) for k in range(8)}
    for k in range(1, 8):
        ks[f"L{k}"].dirs = [f"L{k - 1}", f"L{k - 1}"]  # two paths to the level below
    counts = _build_counts(ks, _components(ks))
    assert [counts[f"L{k}"] for k in range(8)] == [2 ** (k + 1) - 1 for k in range(8)]


def test_a_graph_that_would_cost_minutes_is_refused_at_once(tmp_path: Path, cli: CLI) -> None:
    """Twelve doublings (three roots of 16,382 builds each, several minutes of kustomize per
    root): an error per root from discovery, before kustomize runs."""
    root = doubling_graph(tmp_path / "repo", 12, roots=3)
    (root / ".git").mkdir()
    started = time.monotonic()
    run = cli("check", root, "--format", "json")
    assert time.monotonic() - started < 15
    assert run.code == 1
    errors = {(f["rule"], f["file"]) for f in run.json()["findings"]}
    assert errors == {("repo.kustomize-error", f"roots/r{i}/kustomization.yaml") for i in range(3)}
    assert "16,382" in run.out and f"{MAX_BUILDS:,}" in run.out


def test_a_graph_that_multiplies_a_large_file_is_refused_at_once(
    tmp_path: Path, tree: Tree, cli: CLI
) -> None:
    """1,023 builds are allowed, but when the leaf is a 250 KB ConfigMap they read 128 MB
    (35 s of kustomize and 1.4 GB of memory from a 0.5 MB repo): the bytes are bounded too,
    counted once per path, generator data included, per root and per check."""
    files = {"lib/L0/kustomization.yaml": "configMapGenerator:\n- name: big\n  files: [big.txt]\n"}
    files["lib/L0/big.txt"] = "x" * 250_000
    for k in range(1, 10):
        for side in "ab":
            files[f"lib/L{k}/{side}/kustomization.yaml"] = (
                f"nameSuffix: -{side}\nresources: [../../L{k - 1}]\n"
            )
        files[f"lib/L{k}/kustomization.yaml"] = "resources: [a, b]\n"
    files["big/kustomization.yaml"] = "resources: [../lib/L9]\n"  # 128 MB
    files["fine/kustomization.yaml"] = "resources: [../lib/L5]\n"  # 8 MB: allowed
    root = tree(files)
    found = discover([root], root)
    [finding] = found.findings
    assert (finding.rule, finding.file) == ("repo.kustomize-error", "big/kustomization.yaml")
    assert "122 MiB" in finding.message and found.kustomizations["big"].blocked
    assert not found.kustomizations["fine"].blocked
    started = time.monotonic()
    run = cli("check", root, "--format", "json")
    assert time.monotonic() - started < 20  # fine/ still renders: 32 copies of 250 KB
    assert run.code == 1
    assert ("repo.kustomize-error", "big/kustomization.yaml") in {
        (f["rule"], f["file"]) for f in run.json()["findings"]
    }
    more = {f"r{i}/kustomization.yaml": "resources: [../lib/L7]\n" for i in range(9)}
    many = tree({**files, **more})
    blocked = [f.file for f in discover([many], many).findings if "per check" in f.message]
    assert blocked == ["r8/kustomization.yaml"]  # fine/ reads 8 MB, r0..r8 32 MB each


def test_an_ordinary_shared_graph_is_not_refused(tmp_path: Path) -> None:
    root = doubling_graph(tmp_path / "repo", 10, roots=2)  # 4,093 builds: allowed (and slow)
    found = discover([root], root)
    assert not found.findings and found.roots == ["roots/r0", "roots/r1"]


def test_generator_files_are_data_not_yaml(tree: Tree, cli: CLI) -> None:
    """kustomize reads generator ``files`` and ``envs`` as data: they are inputs of the root
    (its key, narrowing), never strict-parsed as YAML sources."""
    root = tree(
        {
            "o/kustomization.yaml": "configMapGenerator:\n- name: c\n  files: [app.ini]\n  envs: [x.env]\n",
            "o/app.ini": "[section]\nkey: value: other\n",
            "o/x.env": "A=1\nB=x: y\n",
        }
    )
    found = discover([root], root)
    assert found.kustomizations["o"].data_files == ["o/app.ini", "o/x.env"]
    assert {"o/app.ini", "o/x.env"} <= set(found.inputs("o"))
    run = cli("check", root, "--format", "json")
    assert run.code == 0, run.out
    assert run.json()["summary"]["resources"] == 1


COMPONENT = """\
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
- path: patch.yaml
  target: {kind: Deployment, name: web}
"""
COMPONENT_PATCH = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: web
        securityContext: {privileged: true}
"""


def test_a_component_nothing_includes_is_not_a_root(tree: Tree, cli: CLI) -> None:
    """kustomize refuses to build a Component alone ("expected kind != 'Component'"); one that
    no kustomization includes deploys nothing, so it is neither rendered nor an error."""
    root = tree(
        {
            "components/hardening/kustomization.yaml": COMPONENT,
            "components/hardening/patch.yaml": COMPONENT_PATCH,
        }
    )
    assert discover([root]).roots == []
    for args in ([root], ["--changed-files", root / "components/hardening/patch.yaml"]):
        run = cli("check", *args, "--format", "json")
        assert run.code == 0, run.out
        assert run.json()["findings"] == []


def test_an_included_component_is_still_checked(tree: Tree, cli: CLI) -> None:
    root = tree(
        {
            "components/hardening/kustomization.yaml": COMPONENT,
            "components/hardening/patch.yaml": COMPONENT_PATCH,
            "app/kustomization.yaml": "resources: [web.yaml]\ncomponents: [../components/hardening]\n",
            "app/web.yaml": (
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n"
                "  selector: {matchLabels: {app: web}}\n  template:\n"
                "    metadata: {labels: {app: web}}\n    spec:\n      containers:\n"
                "      - name: web\n        image: busybox:1.36\n"
            ),
        }
    )
    assert discover([root]).roots == ["app"]
    run = cli("check", root, "--select", "pss.privileged", "--format", "json")
    assert run.code == 1
    assert [f["file"] for f in run.json()["findings"]] == ["components/hardening/patch.yaml"]


# --- discovery on strings ---------------------------------------------------------------------


def _tricky_repo(root: Path) -> Path:
    """Entries pathlib normalises ("./", "//", a trailing "/"), symlinks in and out of the
    repo, a symlink loop, "..", absolute and remote references."""
    write_tree(
        root,
        {
            "base/kustomization.yaml": (
                "resources:\n- ./cm.yaml\n- sub//deep.yaml\n- sub/\n"
                "patches:\n- path: ./p.yaml\n- p.yaml/\n"
            ),
            "base/cm.yaml": "kind: ConfigMap\nmetadata: {name: cm}\n",
            "base/p.yaml": "kind: ConfigMap\nmetadata: {name: cm}\ndata: {a: b}\n",
            "base/sub/deep.yaml": "kind: Secret\nmetadata: {name: s}\n",
            "base/sub/kustomization.yaml": "resources: [deep.yaml]\n",
            "over/kustomization.yaml": (
                "resources:\n- ../base\n- ../link/cm.yaml\n- linkdir/../base/cm.yaml\n"
                "- ../../outside\n- /etc/passwd\n- ''\n- .\n- ./../base/\n"
                "- https://github.com/x/y\ngenerators: [../gen.yaml]\n"
                "configMapGenerator:\n- name: c\n  files: [k=../base/cm.yaml, missing.txt]\n"
            ),
            "over2/kustomization.yaml": (
                "resources:\n- ../plain/loop1.yaml/..\n- ../link/../base/cm.yaml\n"
            ),
            "gen.yaml": "apiVersion: builtin\nkind: X\n",
            "plain/a.yaml": "kind: ConfigMap\nmetadata: {name: plain}\n",
        },
    )
    os.symlink("base", root / "link")
    os.symlink("../base", root / "over/linkdir")
    os.symlink("/etc", root / "plain/etc")
    os.symlink("/etc/hostname", root / "plain/host.yaml")
    os.symlink("loop2", root / "plain/loop1.yaml")
    os.symlink("loop1.yaml", root / "plain/loop2")
    return root


@pytest.mark.parametrize("memo_on", [False, True])
def test_discovery_of_tricky_paths(tmp_path: Path, memo_on: bool) -> None:
    from servegate.discover import discover
    from servegate.memo import Memo

    root = _tricky_repo(tmp_path / "repo").resolve()
    d = discover([root], root, Memo(tmp_path / "cache") if memo_on else Memo.off())
    assert d.roots == ["over", "over2"]  # "over" lists itself: a cycle, and a root of its own
    assert d.plain_files == ["plain/a.yaml", "plain/loop1.yaml"]
    assert [(f.rule, f.file, f.line) for f in d.findings] == [
        ("repo.symlink-escape", "plain/etc", 1),
        ("repo.symlink-escape", "plain/host.yaml", 1),
        ("repo.kustomize-escape", "over/kustomization.yaml", 5),
        ("repo.kustomize-escape", "over/kustomization.yaml", 6),
        ("repo.remote-base", "over/kustomization.yaml", 10),
        ("repo.kustomize-error", "over/kustomization.yaml", 7),  # '' is the folder itself
    ]
    base, over, over2 = (
        d.kustomizations["base"],
        d.kustomizations["over"],
        d.kustomizations["over2"],
    )
    assert (base.dirs, base.files) == (
        ["base/sub"],
        ["base/cm.yaml", "base/sub/deep.yaml", "base/p.yaml", "base/p.yaml"],
    )
    assert [(p.file, p.kind, p.name) for p in base.patches] == [
        ("base/p.yaml", "ConfigMap", "cm")
    ] * 2
    assert over.blocked and over.dirs == ["base", "over", "over", "base"]
    assert over.files == [
        "link/cm.yaml",
        "base/cm.yaml",  # the symlink's target is read too
        "over/base/cm.yaml",  # relpath is lexical: "linkdir/.." is not followed
        "base/cm.yaml",  # ... but kustomize resolves it, so the real file is an input
        "gen.yaml",
    ]
    assert over.data_files == ["base/cm.yaml", "over/missing.txt"]  # generator files
    assert (over2.dirs, over2.files) == ([], ["plain", "base/cm.yaml"])


def test_memoized_realpath_equals_os_realpath(tmp_path: Path) -> None:
    from servegate.discover import _Paths, join

    root = _tricky_repo(tmp_path / "repo").resolve()
    scan = _Paths(root)
    names = ["base", "sub", "link", "over", "linkdir", "plain", "etc", "loop1.yaml", "..", ".", "x"]
    rng = random.Random(3)
    probes = [str(root), "/", "//x/../..", f"{root}/plain/loop2/x/..", f"{root}//base/./sub/"]
    for _ in range(2000):
        tail = "/".join(rng.choice(names) for _ in range(rng.randint(1, 5)))
        probes.append(f"{root}/{tail}")
    for path in probes:
        assert scan.real(path) == os.path.realpath(path), path
    fresh = _Paths(root)  # entries of kustomization folders, resolved on from the folder
    for _ in range(2000):
        directory = f"{root}/" + "/".join(rng.choice(names) for _ in range(rng.randint(0, 3)))
        entry = "/".join(rng.choice([*names, "", "/etc"]) for _ in range(rng.randint(1, 4)))
        path = join(directory.rstrip("/"), entry)
        assert fresh.real_entry(directory.rstrip("/"), entry, path) == os.path.realpath(path)


def test_walk_lists_what_os_walk_lists_and_names_the_symlinks(tmp_path: Path) -> None:
    from servegate.discover import _walk

    root = _tricky_repo(tmp_path / "repo")
    (root / "base/.hidden").mkdir()
    (root / "base/.hidden/x.yaml").write_text("a: 1\n")
    ours = []
    for here, dirs, files, links in _walk(str(root)):
        ours.append((here, sorted(dirs), sorted(files)))
        assert links == {n for n in dirs + files if os.path.islink(os.path.join(here, n))}
        dirs[:] = [d for d in dirs if not d.startswith(".")]  # pruned as discovery does
    theirs = []
    for here, dirs, files in os.walk(root):
        theirs.append((here, sorted(dirs), sorted(files)))
        dirs[:] = [d for d in dirs if not d.startswith(".")]
    assert ours == theirs
    assert any(here.endswith("/plain") and "etc" in dirs for here, dirs, _ in ours)
    assert not any(".hidden" in here for here, _, _ in ours)

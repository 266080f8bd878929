"""servegate.argocd_apps: Applications and ApplicationSets in the repo and the sources they deploy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from servegate.argocd_apps import Repo, records, sources_of
from servegate.yamlsafe import load_text


def _records(text: str) -> list[dict[str, Any]]:
    loaded = load_text(text)
    return records(((d.data, d) for d in loaded.documents), "apps.yaml")


def _sources(text: str, root: Path) -> tuple[list[tuple[str, str, Any]], list[str]]:
    out: list[tuple[str, str, Any]] = []
    notes: list[str] = []
    for record in _records(text):
        found, found_notes = sources_of(record, "apps.yaml", Repo(root))
        out.extend((s.app.name, str(s.source.get("path")), s.line) for s in found)
        notes.extend(f.message for f in found_notes)
    return out, notes


APP = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: model, namespace: argocd}
spec:
  sources:
  - repoURL: https://git.example.com/ml/model.git
    path: overlays/prod
  - repoURL: https://git.example.com/ml/values.git
    ref: values
  destination: {namespace: ml}
"""


def test_application_sources_ref_only_ones_supply_values(tmp_path: Path) -> None:
    found, notes = _sources(APP, tmp_path)
    assert found == [("model", "overlays/prod", 6)]
    assert notes == []


def test_applications_inside_a_list_are_found(tmp_path: Path) -> None:
    listed = yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [yaml.safe_load(APP)]})
    found, _ = _sources(listed, tmp_path)
    assert [f[:2] for f in found] == [("model", "overlays/prod")]


def _appset(generators: list[Any], path: str, go: bool = False, name: str = "m-{{env}}") -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "ApplicationSet",
            "metadata": {"name": "set", "namespace": "argocd"},
            "spec": {
                "goTemplate": go,
                "generators": generators,
                "template": {
                    "metadata": {"name": name},
                    "spec": {"source": {"repoURL": "https://git.example.com/x.git", "path": path}},
                },
            },
        }
    )


def test_list_generator_with_fasttemplate(tmp_path: Path) -> None:
    text = _appset(
        [{"list": {"elements": [{"env": "dev"}, {"env": "prod"}]}}], "overlays/{{ env }}"
    )
    found, notes = _sources(text, tmp_path)
    assert [f[:2] for f in found] == [("m-dev", "overlays/dev"), ("m-prod", "overlays/prod")]
    assert notes == []


def test_git_directories_generator_matches_folders_as_go_path_match(tmp_path: Path) -> None:
    for folder in ("apps/a", "apps/b", "apps/b/deep", "apps/skip", "apps/.hidden"):
        (tmp_path / folder).mkdir(parents=True)
    gen = {
        "git": {
            "repoURL": "https://git.example.com/x.git",
            "revision": "HEAD",
            "directories": [{"path": "apps/*"}, {"path": "apps/skip", "exclude": True}],
        }
    }
    found, _ = _sources(_appset([gen], "{{path}}", name="{{path.basename}}"), tmp_path)
    # '*' stops at '/': apps/b/deep is not chosen; hidden folders are (servegate checks more)
    assert sorted(f[:2] for f in found) == [
        (".hidden", "apps/.hidden"),
        ("a", "apps/a"),
        ("b", "apps/b"),
    ]


def test_go_template_field_references(tmp_path: Path) -> None:
    (tmp_path / "envs/prod").mkdir(parents=True)
    gen = {"git": {"repoURL": "u", "revision": "HEAD", "directories": [{"path": "envs/*"}]}}
    text = _appset([gen], "{{ .path.path }}", go=True, name="app-{{.path.basename}}")
    found, notes = _sources(text, tmp_path)
    assert [f[:2] for f in found] == [("app-prod", "envs/prod")]
    text = _appset([gen], "{{ .path.path | upper }}", go=True)
    found, notes = _sources(text, tmp_path)
    assert found == [] and "still holds a template" in notes[0]


def test_unresolved_generators_are_noted_and_fixed_templates_still_checked(tmp_path: Path) -> None:
    found, notes = _sources(_appset([{"clusters": {}}], "overlays/{{name}}"), tmp_path)
    assert found == [] and "not checked" in notes[0]
    found, notes = _sources(_appset([{"clusters": {}}], "overlays/prod"), tmp_path)
    assert [f[1] for f in found] == ["overlays/prod"] and "checked once" in notes[0]


def test_go_template_index_and_names_that_cannot_be_templated(tmp_path: Path) -> None:
    """argo/cluster/applicationset-monorepo.yaml's layout: ``index`` picks a segment; a name
    servegate cannot template does not stop the source from being checked."""
    for folder in ("models/a/overlays/dev", "models/b/overlays/prod"):
        (tmp_path / folder).mkdir(parents=True)
    gen = {
        "git": {
            "repoURL": "u",
            "revision": "HEAD",
            "directories": [{"path": "models/*/overlays/*"}],
        }
    }
    name = "{{ index .path.segments 1 }}-{{ .path.basename }}"
    found, notes = _sources(_appset([gen], "{{ .path.path }}", go=True, name=name), tmp_path)
    assert [f[:2] for f in found] == [
        ("a-dev", "models/a/overlays/dev"),
        ("b-prod", "models/b/overlays/prod"),
    ]
    assert notes == []
    found, notes = _sources(
        _appset([gen], "{{ .path.path }}", go=True, name="{{ .x | lower }}"), tmp_path
    )
    assert [f[1] for f in found] == ["models/a/overlays/dev", "models/b/overlays/prod"]
    found, notes = _sources(_appset([gen], "{{ index .path.segments 9 }}", go=True), tmp_path)
    assert found == [] and "still holds a template" in notes[0]


def _rules(text: str, root: Path) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for record in _records(text):
        out.extend((f.rule, f.line) for f in sources_of(record, "apps.yaml", Repo(root))[1])
    return out


def test_unresolved_generators_with_tool_settings_are_errors(tmp_path: Path) -> None:
    """Argo CD renders every generated folder with the template's settings (patches, values,
    directory rules); servegate checks the folders as they are, so it cannot vouch for them."""
    plain = yaml.safe_load(_appset([{"clusters": {}}], "overlays/{{name}}"))
    assert [r for r, _ in _rules(yaml.safe_dump(plain), tmp_path)] == ["argocd.source-unresolved"]
    for settings in (
        {"kustomize": {"patches": [{"patch": "[]", "target": {"kind": "Pod"}}]}},
        {"helm": {"valueFiles": ["prod.yaml"]}},
        {"directory": {"recurse": True}},
    ):
        body = yaml.safe_load(_appset([{"clusters": {}}], "{{name}}"))
        body["spec"]["template"]["spec"]["source"].update(settings)
        ((rule, _),) = _rules(yaml.safe_dump(body), tmp_path)
        assert rule == "argocd.source-unchecked", settings


def test_a_template_patch_that_can_change_sources_is_an_error(tmp_path: Path) -> None:
    body = yaml.safe_load(_appset([{"list": {"elements": [{"env": "prod"}]}}], "o/{{env}}"))

    def rules(patch: str) -> list[str]:
        body["spec"]["templatePatch"] = patch
        return [r for r, _ in _rules(yaml.safe_dump(body), tmp_path)]

    harmless = "metadata:\n  labels: {a: '{{ .env }}'}\nspec:\n  syncPolicy: {automated: {}}\n"
    assert rules(harmless) == ["argocd.source-unresolved"]
    for patch in (
        "spec:\n  source:\n    kustomize: {namePrefix: x-}\n",
        "spec:\n  {{ .key }}: {}\n",
        "{{ toYaml .patch }}\n",
        "spec: {{ .spec }}\n",
    ):
        assert rules(patch) == ["argocd.source-unchecked"], patch


def test_git_files_generator(tmp_path: Path) -> None:
    """argo-cd ``generateParamsForGitFiles``: each matching file's object (or each object of
    its list), flattened for fasttemplate, with the file's path parameters; ``*`` crosses
    ``/`` as in ``git ls-files`` pathspecs; ``exclude: true`` drops files."""
    for rel, text in {
        "config/dev/config.json": '{"env": "dev", "deploy": {"overlay": "dev"}}',
        "config/prod/config.yaml": "- {env: prod, deploy: {overlay: prod}}\n- {env: canary}\n",
        "config/deep/x/config.json": '{"env": "deep", "deploy": {"overlay": "deep"}}',
        "config/skip/config.json": '{"env": "skip"}',
    }.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    files = [{"path": "config/*/config.*"}, {"path": "config/skip/*", "exclude": True}]
    text = _appset(
        [{"git": {"repoURL": "https://git.example.com/x.git", "files": files}}],
        "o/{{deploy.overlay}}/{{path.basename}}/{{path.filename}}",
        name="m-{{env}}",
    )
    found, notes = _sources(text, tmp_path)
    assert [(n, p) for n, p, _ in found] == [
        ("m-deep", "o/deep/x/config.json"),
        ("m-dev", "o/dev/dev/config.json"),
        ("m-prod", "o/prod/prod/config.yaml"),
    ]
    (note,) = notes  # the canary object names no overlay: fasttemplate leaves the tag
    assert "still holds a template" in note
    go = _appset(
        [{"git": {"files": [{"path": "config/dev/*.json"}]}}],
        "o/{{ .deploy.overlay }}/{{ .path.path }}",
        go=True,
        name="m-{{ .env }}",
    )
    found, _ = _sources(go, tmp_path)
    assert [(n, p) for n, p, _ in found] == [("m-dev", "o/dev/config/dev")]

"""A synthetic model monorepo: M models x 3 environments, with known seeded defects.

One model repo is scaffolded with ``servegate new --no-input`` (so the object mix is exactly
what a generated repo holds: namespace, service account, RBAC, PeerAuthentication,
AuthorizationPolicy, InferenceService, AnalysisTemplates, PrometheusRule, Argo CD
Application/AppProject) and copied M times under ``models/<name>/`` with the model renamed.
A few copies then get one defect each, and ``Defect`` says which rule must flag which file.

    python -m bench.synth OUT_DIR --models 100
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

TEMPLATE_NAME = "sklearn-iris"
ENVS = ("dev", "staging", "prod")
_COPIED = ("base", "overlays", "argocd")


@dataclass(frozen=True, slots=True)
class Defect:
    """A seeded defect: ``rule`` must report on ``file`` (repo-relative)."""

    rule: str
    file: str
    what: str


def model_name(i: int) -> str:
    return f"model-{i:04d}"


def scaffold_template(into: Path) -> Path:
    """One model repo from ``servegate new`` (the object mix every copy holds)."""
    target = into / "template"
    subprocess.run(
        [sys.executable, "-m", "servegate", "new", str(target), "--no-input"],
        check=True,
        capture_output=True,
    )
    return target


def _copy_model(template: Path, repo: Path, name: str) -> None:
    dest = repo / "models" / name
    for part in _COPIED:
        for src in sorted((template / part).rglob("*")):
            if not src.is_file():
                continue
            out = dest / part / src.relative_to(template / part)
            out.parent.mkdir(parents=True, exist_ok=True)
            text = src.read_text(encoding="utf-8").replace(TEMPLATE_NAME, name)
            if part == "argocd":
                text = text.replace("path: overlays/", f"path: models/{name}/overlays/")
            out.write_text(text, encoding="utf-8")


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    if old not in text:
        raise RuntimeError(f"synth: {old!r} not found in {path}")
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


_ALLOW_ALL = """apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: {name}-allow-callers
spec:
  selector:
    matchLabels:
      serving.kserve.io/inferenceservice: {name}
  action: ALLOW
  rules:
    - {{}}
"""


def _seed(repo: Path, models: int) -> list[Defect]:
    """One defect in each of six models spread over the repo."""
    picks = [1 + (k * models) // 6 for k in range(6)]
    names = [model_name(min(p, models)) for p in picks]
    defects: list[Defect] = []

    def rel(name: str, part: str) -> str:
        return f"models/{name}/{part}"

    f = rel(names[0], "base/inferenceservice.yaml")
    _edit(repo / f, "privileged: false", "privileged: true")
    defects.append(Defect("pss.privileged", f, "privileged InferenceService"))

    f = rel(names[1], "base/inferenceservice.yaml")
    _edit(
        repo / f,
        "    model:\n",
        "    model:\n      image: docker.io/library/python:latest\n",
    )
    defects.append(Defect("image.latest-tag", f, ":latest image"))

    f = rel(names[2], "base/peerauthentication.yaml")
    _edit(repo / f, "mode: STRICT", "mode: PERMISSIVE")
    defects.append(Defect("istio.peer-authentication-strict", f, "PERMISSIVE PeerAuthentication"))

    f = rel(names[3], "base/authorizationpolicy.yaml")
    (repo / f).write_text(_ALLOW_ALL.format(name=names[3]), encoding="utf-8")
    defects.append(Defect("istio.authz-allow-all", f, "allow-all AuthorizationPolicy"))

    f = rel(names[4], "base/rbac.yaml")
    _edit(repo / f, "    verbs:\n      - get\n", '    verbs:\n      - "*"\n')
    defects.append(Defect("rbac.wildcard", f, "wildcard Role"))

    f = rel(names[5], "overlays/prod/inferenceservice-patch.yaml")
    _edit(repo / f, "  predictor:\n", "  predictor:\n    hostNetwork: true\n")
    defects.append(Defect("pss.host-namespaces", f, "hostNetwork in a prod overlay patch"))
    return defects


def _config(template: Path, models: int) -> str:
    """The monorepo's servegate.yaml: the template's, with every overlay and every
    environment's Argo CD Application mapped (as ``servegate new`` maps its own)."""
    text = (template / "servegate.yaml").read_text(encoding="utf-8")
    head, _, rest = text.partition("environments:\n")
    _, _, tail = rest.partition("policy:\n")
    lines = [
        line
        for i in range(1, models + 1)
        for env in ENVS
        for line in (
            f"  models/{model_name(i)}/overlays/{env}: {env}",
            f"  models/{model_name(i)}/argocd/applications/{env}.yaml: {env}",
        )
    ]
    return head + "environments:\n" + "\n".join(lines) + "\npolicy:\n" + tail


def synth(out: Path, models: int, *, template: Path | None = None) -> list[Defect]:
    """Write a monorepo of ``models`` models (>= 6) into ``out`` (replaced); its defects."""
    if models < 6:
        raise ValueError("synth needs at least 6 models (one per seeded defect)")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="synth-") as tmp:
        tpl = template or scaffold_template(Path(tmp))
        for i in range(1, models + 1):
            _copy_model(tpl, out, model_name(i))
        (out / "servegate.yaml").write_text(_config(tpl, models), encoding="utf-8")
    # its own git top level, so servegate takes it as the repo root wherever it lies
    subprocess.run(["git", "init", "-q", str(out)], check=True, capture_output=True)
    return _seed(out, models)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--models", type=int, default=10)
    args = parser.parse_args(argv)
    for d in synth(args.out, args.models):
        print(f"{d.rule}\t{d.file}\t{d.what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``servegate ct``: the continuous-training pipeline (an Argo Workflows WorkflowTemplate)."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def ct() -> None:
    """Continuous-training pipeline (Argo Workflows) commands."""


@ct.command("render")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=str), help="Write to FILE.")
@click.option("--name", default="servegate-ct", show_default=True, help="WorkflowTemplate name.")
@click.option("--model", default="fraud", show_default=True, help="Model name.")
@click.option("--data-uri", default="s3://datasets/fraud/latest/", show_default=True)
@click.option("--model-bucket", default="s3://models/fraud", show_default=True)
@click.option(
    "--gitops-repo", default="acme/fraud-gitops", show_default=True, help="GitHub OWNER/REPO."
)
@click.option(
    "--gitops-repo-url",
    default="",
    help="Clone URL of the GitOps repo (default: https://github.com/OWNER/REPO.git).",
)
@click.option("--staging-overlay", default="overlays/staging", show_default=True)
@click.option(
    "--base",
    default="base",
    show_default=True,
    help="Where storageUri lives when the staging overlay does not pin it.",
)
@click.option(
    "--train-image",
    default="ghcr.io/acme/fraud-trainer:1.0.0",
    show_default=True,
    help="Training image (pinned tag or digest).",
)
@click.option("--metric", default="auc", show_default=True, help="Quality-gate metric.")
@click.option("--threshold", default="0.90", show_default=True, help="Minimum metric value.")
def render(
    out: str | None,
    name: str,
    model: str,
    data_uri: str,
    model_bucket: str,
    gitops_repo: str,
    gitops_repo_url: str,
    staging_overlay: str,
    base: str,
    train_image: str,
    metric: str,
    threshold: str,
) -> int:
    """Print the CT WorkflowTemplate and its RBAC: fetch data, train, evaluate against a
    quality gate, push the model, commit the new storageUri where staging takes it from (the
    overlay if it pins one, else base/) and open a pull request."""
    from servegate.ct import CTSettings, render_yaml

    try:
        float(threshold)
    except ValueError:
        click.echo(f"servegate: error: --threshold {threshold!r} is not a number", err=True)
        return 2
    if train_image.endswith(":latest") or ":" not in train_image.rpartition("/")[2]:
        click.echo(
            f"servegate: error: --train-image {train_image!r}: pin a version tag or digest",
            err=True,
        )
        return 2
    settings = CTSettings(
        name=name,
        model=model,
        data_uri=data_uri,
        model_bucket=model_bucket.rstrip("/"),
        gitops_repo=gitops_repo,
        gitops_repo_url=gitops_repo_url,
        staging_overlay=staging_overlay.strip("/"),
        base=base.strip("/"),
        train_image=train_image,
        metric=metric,
        threshold=threshold,
    )
    text = render_yaml(settings)
    if out:
        try:
            Path(out).write_text(text, encoding="utf-8")
        except OSError as err:
            click.echo(f"servegate: error: cannot write {out}: {err.strerror}", err=True)
            return 2
    else:
        click.echo(text, nl=False)
    return 0

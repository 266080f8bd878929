"""## What it does
A YAML file is larger than servegate reads (8 MiB, or about 600,000 nodes: its line breaks,
commas, colons and opening brackets, counted before parsing), or the YAML files of one run add
up to more than 256 MiB or about 16 million nodes.

## Why is this bad?
Manifests of that size are generated data or an accident, and slow every tool in the chain.

## Example
A 20 MB ConfigMap committed to the repo.

## Use instead
Keep large data out of the GitOps repo (object storage, an OCI artifact).

## References
- etcd's default request limit (`--max-request-bytes`, 1.5 MiB) bounds every Kubernetes object
"""

from __future__ import annotations

from servegate.model import Severity
from servegate.rules.base import reported
from servegate.yamlsafe import Problem

RULE = reported(
    "yaml.too-large",
    "File is too large",
    Severity.ERROR,
    doc=__doc__,
    problem=Problem.TOO_LARGE,
    input_problem=True,
)

"""Rules the engine reports while loading: the yaml family."""

from __future__ import annotations

from servegate.findings import Severity
from servegate.rules._reported import reported

_SYNTAX = """\
## What it does
A YAML file (manifest, patch or kustomization) does not parse.

## Why is this bad?
kustomize and Argo CD would fail on it, or worse, read something else than you meant.

## Example
```yaml
spec: [unclosed
```

## Use instead
```yaml
spec: [closed]
```
"""

_DUPLICATE_KEY = """\
## What it does
A mapping repeats a key.

## Why is this bad?
Kubernetes keeps only the last value, so an earlier setting (a securityContext, an image) silently
disappears.

## Example
```yaml
securityContext:
  runAsNonRoot: true
securityContext: {}
```

## Use instead
```yaml
securityContext:
  runAsNonRoot: true
```
"""

_UNSAFE_TAG = """\
## What it does
A node carries a tag other than YAML's plain data types (for example `!!python/object`).

## Why is this bad?
Such tags make unsafe loaders run code; Kubernetes manifests never need them.

## Example
```yaml
image: !!python/object/apply:os.system [id]
```

## Use instead
```yaml
image: ghcr.io/acme/model:1.2.0
```
"""

_ALIAS_BOMB = """\
## What it does
Aliases expand a document beyond servegate's bound (a 'billion laughs' file), or an alias refers
to itself.

## Why is this bad?
Expanding it exhausts memory in every tool that reads it, Argo CD's repo server included.

## Example
```yaml
a: &a [x, x]
b: &b [*a, *a]
# ... nine levels deep
```

## Use instead
Write the data out; manifests need no aliases.
"""

_TOO_LARGE = """\
## What it does
A YAML file is larger than servegate reads (8 MiB).

## Why is this bad?
Manifests of that size are generated data or an accident, and slow every tool in the chain.

## Example
A 20 MB ConfigMap committed to the repo.

## Use instead
Keep large data out of the GitOps repo (object storage, an OCI artifact).
"""

_TOO_MANY_DOCUMENTS = """\
## What it does
A YAML file holds more than 2,000 documents.

## Why is this bad?
Almost always generated output committed by mistake.

## Example
A file with thousands of `---` separators.

## Use instead
Split it, or generate it in CI instead of committing it.
"""

_ENCODING = """\
## What it does
A file ending in .yaml is binary or not UTF-8.

## Why is this bad?
YAML must be UTF-8; other bytes are read differently by different tools.

## Example
A Latin-1 encoded file with `é` in a label.

## Use instead
Save the file as UTF-8.
"""

_UNREADABLE = """\
## What it does
A file cannot be opened (permissions, a directory named like a file).

## Why is this bad?
servegate cannot vouch for what it cannot read.

## Example
`chmod 000 overlays/prod/patch.yaml`

## Use instead
Make the file readable.
"""

RULES = [
    reported("yaml.syntax", "File is not valid YAML", _SYNTAX, Severity.ERROR),
    reported("yaml.duplicate-key", "Mapping has a duplicate key", _DUPLICATE_KEY, Severity.ERROR),
    reported("yaml.unsafe-tag", "YAML uses a non-data tag", _UNSAFE_TAG, Severity.ERROR),
    reported("yaml.alias-bomb", "YAML aliases expand too far", _ALIAS_BOMB, Severity.ERROR),
    reported("yaml.too-large", "File is too large", _TOO_LARGE, Severity.ERROR),
    reported(
        "yaml.too-many-documents",
        "File has too many documents",
        _TOO_MANY_DOCUMENTS,
        Severity.ERROR,
    ),
    reported("yaml.encoding", "File is not UTF-8 text", _ENCODING, Severity.ERROR),
    reported("yaml.unreadable", "File cannot be read", _UNREADABLE, Severity.ERROR),
]

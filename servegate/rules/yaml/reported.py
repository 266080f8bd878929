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
Aliases expand a file beyond servegate's bound (100,000 added nodes per file, 500,000 over all
the files of a run: a 'billion laughs' file, whole or split over many documents), or an alias
refers to itself.

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
A YAML file is larger than servegate reads (8 MiB), or the YAML files of one run add up to more
than 256 MiB.

## Why is this bad?
Manifests of that size are generated data or an accident, and slow every tool in the chain.

## Example
A 20 MB ConfigMap committed to the repo.

## Use instead
Keep large data out of the GitOps repo (object storage, an OCI artifact).
"""

_TOO_MANY_DOCUMENTS = """\
## What it does
A YAML file holds more than 2,000 documents, or the files of one run more than 100,000.

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

_TAG_MISMATCH = """\
## What it does
A scalar carries an explicit YAML tag (`!!int`, `!!bool`, `!!float`, `!!null`, `!!timestamp`,
`!!binary`) that its value does not fit, read as the consumer reads it: sigs.k8s.io/yaml for a
file applied as it is or a kustomization, kustomize's kyaml for a kustomize resource.

## Why is this bad?
kubectl, Argo CD and kustomize refuse the file ("cannot decode !!null `` as a !!int"), or, for
`!!bool y`, read a value that another tool in the chain reads differently.

## Example
```yaml
data:
  replicas: !!int ""
```

## Use instead
```yaml
data:
  replicas: "3"
```

## References
- go-yaml v2 `resolve.go` (`resolve`: "cannot decode %s `%s` as a %s"), vendored in
  sigs.k8s.io/yaml `goyaml.v2/`
"""

_MERGE_KEY = """\
## What it does
A YAML merge key (`<<`) its consumer refuses: a value that is not a mapping or a list of
mappings, or, in a file kustomize reads, a second `<<` in one mapping.

## Why is this bad?
kubectl and Argo CD fail on a merge of anything but mappings ("map merge requires map or
sequence of maps as the value"); kustomize fails on a second merge key ("duplicate merge key"),
where kubectl would apply both in order, the later overriding the earlier.

## Example
```yaml
spec:
  <<: *defaults
  <<: *hardened
```

## Use instead
```yaml
spec:
  <<: [*hardened, *defaults]
```

## References
- go-yaml v2 `decode.go` (`d.merge`), vendored in sigs.k8s.io/yaml `goyaml.v2/`
- kustomize `kyaml/yaml/rnode.go` (`getMergeTagValue`: "duplicate merge key")
"""

_JSON_INCOMPATIBLE = """\
## What it does
A value or key that sigs.k8s.io/yaml cannot turn into JSON: `.nan` or `.inf`, a null key, a key
that is an unsigned 64-bit integer.

## Why is this bad?
kubectl and Argo CD convert every manifest to JSON before sending it; the conversion fails
("json: unsupported value: NaN", "unsupported map key of type"), so the sync fails.

## Example
```yaml
data:
  ratio: .nan
```

## Use instead
```yaml
data:
  ratio: "NaN"
```

## References
- sigs.k8s.io/yaml `yaml.go` (`convertToJSONableObject`)
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
    reported("yaml.tag-mismatch", "Tagged scalar does not fit its tag", _TAG_MISMATCH),
    reported("yaml.merge-key", "Merge key its consumer refuses", _MERGE_KEY),
    reported("yaml.json-incompatible", "Value Kubernetes cannot send as JSON", _JSON_INCOMPATIBLE),
]

"""## What it does
Flags a credential written as a literal `value` in a container's `env`, in every pod spec
servegate knows (Deployments, Jobs, Argo Workflows, InferenceService components and their
workers, ServingRuntimes, ClusterStorageContainers...):

- a variable whose name says it holds a credential: a word `PASSWORD`, `PASSWD`, `PASS`,
  `PWD` (not the shell's own `PWD`), `PASSPHRASE`, `SECRET`, `TOKEN`, `CREDENTIAL(S)`, or a
  key such as `API_KEY`,
  `ACCESS_KEY`, `SECRET_KEY`, `PRIVATE_KEY`, `AUTH_KEY`, `SIGNING_KEY`, `ENCRYPTION_KEY`
  (also written `apiKey`, `APIKEY`...), unless the name ends in a word that makes it a
  reference or a setting (`_FILE`, `_PATH`, `_NAME`, `_REF`, `_URL`, `_ENABLED`...);
- any variable whose value is a URL with a password (`scheme://user:password@host`).

Empty values, references to other variables (`$(VAR)`), unrendered template variables
(`${VAR}`, `{{ var }}`), booleans and numbers are not credentials.

## Why is this bad?
Anything in a manifest is in Git, in every fork and CI log, and readable by everyone who can
`get` the Deployment or InferenceService (far more people than can read Secrets). A token in
`env` cannot be rotated without a commit, and leaks with the repository.

## Example
```yaml
env:
- name: HF_TOKEN
  value: hf_xxxxxxxxxxxxxxxxxxxxxxxxx
```

## Use instead
```yaml
env:
- name: HF_TOKEN
  valueFrom:
    secretKeyRef: {name: hf-token, key: token}
```

## References
- https://kubernetes.io/docs/concepts/security/secrets-good-practices/
- https://kubernetes.io/docs/tasks/inject-data-application/distribute-credentials-secure/#define-container-environment-variables-using-secret-data
- https://cwe.mitre.org/data/definitions/798.html (use of hard-coded credentials)
- kserve/kserve `pkg/credentials/gcs/gcs_secret.go` (`GCSCredentialEnvKey`:
  `GOOGLE_APPLICATION_CREDENTIALS` is the path of the mounted key file)
- https://learn.microsoft.com/en-us/azure/storage/common/storage-configure-connection-string
  (`AccountKey=` in a connection string)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import pairwise

from servegate.model import Severity
from servegate.podspecs import PodSpecView
from servegate.resource import as_dict, as_list
from servegate.rules.base import Context, Scope, Violation, rule

_SECRET_WORDS = frozenset(
    {"PASSWORD", "PASSWD", "PASS", "PWD", "PASSPHRASE", "SECRET", "TOKEN", "CREDENTIAL"}
    | {"CREDENTIALS"}
)
_SHELL = frozenset({"PWD", "OLDPWD"})
"""The shell's working-directory variables, whose names merely contain ``PWD``."""
_SECRET_SUFFIXES = ("PASSWORD", "PASSWD", "SECRET", "TOKEN")
"""Run-together names such as ``DBPASSWORD`` or ``AUTHTOKEN``."""
_KEY_QUALIFIERS = frozenset(
    {"API", "ACCESS", "SECRET", "PRIVATE", "AUTH", "SIGNING", "ENCRYPTION", "MASTER", "ADMIN"}
)
_NOT_A_VALUE = frozenset(
    {
        "FILE", "PATH", "DIR", "NAME", "REF", "URL", "URI", "ENDPOINT", "HOST", "PORT", "TYPE",
        "LENGTH", "LEN", "TTL", "EXPIRY", "EXPIRATION", "HEADER", "ENABLED", "DISABLED",
        "ENABLE", "MODE", "FORMAT", "LIMIT", "ALGORITHM", "MOUNT", "LOCATION", "VERSION",
    }
)  # fmt: skip
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
_REFERENCE = re.compile(r"^(\$\([^)]*\)|\$\{[^}]*\}|\{\{[^}]*\}\}|\s)+$")
_URL_PASSWORD = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@")
_CONNECTION_SECRET = re.compile(
    r"(?:^|;)\s*(?:password|pwd|accountkey|sharedaccesskey|sharedaccesssignature)\s*=\s*[^;\s]",
    re.I,
)
_FILE_PATH = re.compile(r"^(?:/[\w.@+-]+){2,}/?$")
"""An absolute path of two or more parts: where a credential is, not the credential."""
_SETTING = re.compile(r"^(true|false|yes|no|on|off|enabled|disabled|[-+]?[0-9]+(\.[0-9]+)?)$", re.I)


def words(name: str) -> list[str]:
    """``HF_TOKEN`` -> [HF, TOKEN]; ``dbPassword`` -> [DB, PASSWORD]; ``APIKey`` -> [API, KEY]."""
    return [w.upper() for w in _WORD.findall(name)]


def credential_name(name: str) -> bool:
    """True when an env var called ``name`` reads as holding a credential itself."""
    parts = words(name)
    if not parts or parts[-1] in _NOT_A_VALUE or name.upper() in _SHELL:
        return False
    if any(p in _SECRET_WORDS or p.endswith(_SECRET_SUFFIXES) for p in parts):
        return True
    pairs = pairwise(parts)
    return any(a in _KEY_QUALIFIERS and b == "KEY" for a, b in pairs) or any(
        p.endswith("KEY") and p[:-3] in _KEY_QUALIFIERS for p in parts
    )


def literal_credential(name: str, value: str) -> str | None:
    """Why ``name: value`` is a committed credential, or None."""
    if not value or _REFERENCE.match(value):
        return None
    if _URL_PASSWORD.match(value):
        return "its value is a URL with a password"
    if _CONNECTION_SECRET.search(value):
        return "its value is a connection string with a password or key"
    text = value.strip()
    if credential_name(name) and not _SETTING.match(text) and not _FILE_PATH.match(text):
        return "its name says it holds a credential"
    return None


def check(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    for container in pod.containers:
        for i, env in enumerate(as_list(container.body.get("env"))):
            env = as_dict(env)
            name, value = env.get("name"), env.get("value")
            if not isinstance(name, str) or not isinstance(value, str):
                continue
            why = literal_credential(name, value)
            if why is not None:
                yield Violation(
                    container.at("env", i, "value"),
                    f"env {name} is a literal credential ({why}): use valueFrom.secretKeyRef",
                    f"{pod.label} container {container.name!r}",
                )


RULE = rule(
    "repo.env-credential",
    "No credentials as literal env values",
    Severity.ERROR,
    Scope.POD,
    check,
    doc=__doc__,
)

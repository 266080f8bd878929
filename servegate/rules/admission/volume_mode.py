"""## What it does
Checks the file modes of secret, configMap, downwardAPI and projected volumes (`defaultMode`
and each item's `mode`): an integer from 0 to 0777 (511). YAML reads `0644` as octal (420) but
`644` as decimal 644, which is out of range.

## Why is this bad?
The API server refuses the pod, or the Deployment, Job or KServe predictor that creates it.

## Example
```yaml
volumes:
- name: creds
  secret:
    secretName: s3-creds
    defaultMode: 644
```

## Use instead
```yaml
volumes:
- name: creds
  secret:
    secretName: s3-creds
    defaultMode: 0440
```

## References
- kubernetes/kubernetes `pkg/apis/core/validation/validation.go` (`validateSecretVolumeSource`,
  `validateConfigMapVolumeSource`, `validateDownwardAPIVolumeSource`,
  `validateProjectedVolumeSource`, `validateKeyToPath`: "must be a number between 0 and 0777
  (octal), both inclusive")
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from servegate.model import Severity
from servegate.podspecs import PodSpecView
from servegate.resource import FieldPath, as_dict, as_list
from servegate.rules.admission._k8s import is_int
from servegate.rules.base import Context, Scope, Violation, rule

MAX_MODE = 0o777
_SOURCES = ("secret", "configMap", "downwardAPI")


def _modes(volume: dict[str, Any]) -> Iterator[tuple[FieldPath, Any]]:
    for source in (*_SOURCES, "projected"):
        body = as_dict(volume.get(source))
        if "defaultMode" in body:
            yield (source, "defaultMode"), body["defaultMode"]
        if source != "projected":
            for i, item in enumerate(as_list(body.get("items"))):
                if isinstance(item, dict) and "mode" in item:
                    yield (source, "items", i, "mode"), item["mode"]
    for n, projection in enumerate(as_list(as_dict(volume.get("projected")).get("sources"))):
        for source in _SOURCES:
            items = as_list(as_dict(as_dict(projection).get(source)).get("items"))
            for i, item in enumerate(items):
                if isinstance(item, dict) and "mode" in item:
                    yield ("projected", "sources", n, source, "items", i, "mode"), item["mode"]


def check(pod: PodSpecView, ctx: Context) -> Iterator[Violation]:
    for v, volume in enumerate(as_list(pod.spec.get("volumes"))):
        if not isinstance(volume, dict):
            continue
        for path, mode in _modes(volume):
            if mode is None or not is_int(mode):
                continue  # the schema reports a wrong type
            if not 0 <= mode <= MAX_MODE:
                yield Violation(
                    pod.at("volumes", v, *path),
                    f"{mode} is not a file mode between 0 and 0777 (511); write octal as 0644",
                    f"volume {volume.get('name')!r}",
                )


RULE = rule(
    "admission.volume-mode",
    "Volume file modes are between 0 and 0777",
    Severity.ERROR,
    Scope.POD,
    check,
    doc=__doc__,
)

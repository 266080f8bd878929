"""## What it does
Reports configuration in the checked repo that would relax the operator's policy: a
`policies/<name>.yaml` or `environments/<name>.yaml` in the repo that ignores rules, lowers a
severity or the Pod Security level, or widens an allow-list of the set servegate (or the
operator's `--policies`) defines; a `servegate.yaml` below the repo root that records
exemptions, or maps its folders to an environment weaker than the root file gives them. What
it reports is **not applied**; the rest of the file (what adds rules or tightens) is.

## Why is this bad?
servegate is a gate, and the checked repo is what it judges: whoever can commit to it must not
be able to switch the gate off. The operator sets the policy (command line, operator
configuration, `--policies`); the repo may only tighten it and record exemptions with a reason
in its root `servegate.yaml`, where each one is listed as suppressed. An operator who trusts the
repo's own policy says so with `--allow-repo-weakening` (operator configuration
`allowRepoWeakening: true`).

## Example
```yaml
# policies/restricted.yaml in the checked repo
name: restricted
podSecurity: baseline
rules:
  ignore: [pss]
```

## Use instead
```yaml
# servegate.yaml at the repo root: one exemption, with a reason, listed as suppressed
version: 1
exemptions:
  - rule: pss.host-namespaces
    resource: {kind: Pod, name: node-exporter}
    reason: reads host metrics; namespace is isolated
```

## References
- `docs/security.md` (who controls what)
- argo-cd docs `operator-manual/config-management-plugins.md` (the plugin runs on whatever
  the repo holds)
"""

from __future__ import annotations

from servegate.model import Severity
from servegate.rules.base import reported

RULE = reported(
    "repo.policy-weakening",
    "Repo configuration does not relax the operator's policy",
    Severity.ERROR,
    doc=__doc__,
    input_problem=True,
)

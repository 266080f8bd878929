"""## What it does
Where the environment requires mutual TLS (`mtls: STRICT` in the profile, the default), flags a
Namespace that joins the mesh (`istio-injection: enabled`, an `istio.io/rev` revision, or
`istio.io/dataplane-mode: ambient`) while the checked set holds no PeerAuthentication that
covers it as a whole: none namespace-wide (no selector) in that namespace and none mesh-wide
(no selector, in Istio's root namespace, policy parameter `istioRootNamespace`, default
`istio-system`), in the same unit or in any other folder or overlay the check covers that
deploys to the same environment (STRICT policies there cover the namespace; one among weaker
policies of the same level does not). Policies that exist but are weak or `UNSET` are
reported on the policy itself by `istio.peer-authentication-strict`.

## Why is this bad?
With no PeerAuthentication, Istio runs PERMISSIVE: sidecars accept plaintext as well as mTLS,
so any pod in the cluster can call the model without an identity. Deleting the policy file, or
dropping it from a kustomization, silently turns STRICT into PERMISSIVE; nothing fails.

## Example
```yaml
apiVersion: v1
kind: Namespace
metadata:
  name: ml-prod
  labels:
    istio-injection: enabled
# ...and no PeerAuthentication for ml-prod
```

## Use instead
```yaml
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: ml-prod}
spec:
  mtls: {mode: STRICT}
```

## References
- https://istio.io/latest/docs/reference/config/security/peer_authentication/
- istio/istio `pilot/pkg/security/authn/policy_applier.go` (`ComposePeerAuthentication`: the
  output starts PERMISSIVE)
- https://istio.io/latest/docs/tasks/security/authentication/mtls-migration/
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from servegate.clusterfacts import namespace_strict
from servegate.model import Severity
from servegate.resource import FieldPath, Resource
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.istio._mesh import DATAPLANE, INJECTION, REVISION, requires_mtls
from servegate.rules.istio._peerauth import DEFAULT_ROOT, ROOT_PARAM, Level, MeshPolicies


def mesh_label(ns: Resource) -> FieldPath | None:
    """The label that puts ``ns`` in the mesh, or None."""
    labels = ns.labels
    if labels.get(INJECTION) == "enabled":
        return ("metadata", "labels", INJECTION)
    if labels.get(REVISION):
        return ("metadata", "labels", REVISION)
    if labels.get(DATAPLANE) == "ambient":
        return ("metadata", "labels", DATAPLANE)
    return None


def check(resources: Sequence[Resource], ctx: Context) -> Iterator[Violation]:
    if not requires_mtls(ctx):
        return
    mesh = MeshPolicies.of(resources, ctx)
    if mesh.at(Level.MESH):
        return
    for ns in resources:
        if ns.kind != "Namespace" or ns.api_version != "v1":
            continue
        label = mesh_label(ns)
        if label is None or mesh.at(Level.NAMESPACE, ns.name):
            continue
        yield Violation(
            label,
            f"in the mesh but no STRICT PeerAuthentication covers it (none namespace-wide in "
            f"{ns.name!r}, none mesh-wide in {mesh.root!r} in this environment): Istio's "
            "default is PERMISSIVE and accepts plaintext",
            f"namespace {ns.name!r}",
            ns,
            unless=namespace_strict(ns.name, mesh.root),
        )


RULE = rule(
    "istio.namespace-mtls",
    "Mesh namespaces have a STRICT PeerAuthentication",
    Severity.ERROR,
    Scope.UNIT,
    check,
    params={ROOT_PARAM: DEFAULT_ROOT},
    doc=__doc__,
)

"""## What it does
Checks the names KServe derives from an InferenceService against the limits of the objects it
creates with them: each component's Service (Standard mode) or Knative Service (Knative mode)
is named `<isvc>-predictor` (`<isvc>-<predictor.name>-predictor` with a predictor name, the
same for each `spec.canary` predictor; `<isvc>-predictor-worker` for a multi-node predictor;
`<isvc>-transformer`, `<isvc>-explainer`) and must be a DNS-1035 label of at most 63
characters. With KServe's default `domainTemplate` (`{{ .Name }}-{{ .Namespace }}`), the host
of each Standard-mode component, `<service>-<namespace>`, and of the InferenceService,
`<isvc>-<namespace>`, is one DNS label too: at most 63 characters.

## Why is this bad?
The API server and KServe's webhook admit the InferenceService: the name is valid. Then KServe
fails to reconcile it ("failed creating host name: invalid domain name ...: must be no more
than 63 characters", or the Service is refused), the model never becomes Ready and the error is
only in the controller's log. A long model name in a long namespace is enough.

## Example
```yaml
kind: InferenceService
metadata:
  name: ibm-granite-granite-3b-code-instruct-accelerator
  namespace: data-science-project-demo
```

## Use instead
```yaml
kind: InferenceService
metadata:
  name: granite-3b-code
  namespace: data-science-project-demo
```

## References
- kserve/kserve `pkg/constants/constants.go` (`PredictorServiceName`,
  `PredictorWorkerServiceName`, `TransformerServiceName`, `ExplainerServiceName`)
- kserve/kserve `pkg/controller/v1beta1/inferenceservice/reconcilers/ingress/domain.go`
  (`GenerateDomainName`: `IsFullyQualifiedDomainName`), `config/configmap/inferenceservice.yaml`
  (`domainTemplate: "{{ .Name }}-{{ .Namespace }}.{{ .IngressDomain }}"`)
- https://github.com/kserve/kserve/issues/4807, https://github.com/opendatahub-io/odh-dashboard/issues/3062
- kubernetes/apimachinery `pkg/util/validation/validation.go` (`DNS1035LabelMaxLength`: 63)
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import FieldPath, Resource, as_dict, as_list
from servegate.rules.base import Context, Scope, Violation, rule
from servegate.rules.kserve._isvc import effective_mode

MAX_LABEL = 63


def _services(r: Resource, name: str) -> Iterator[tuple[str, FieldPath]]:
    """(service name, where its name part is written) of each component KServe creates."""
    spec = r.spec
    predictor = as_dict(spec.get("predictor"))
    if predictor:
        own = predictor.get("name")
        if isinstance(own, str) and own:
            yield f"{name}-{own}-predictor", ("spec", "predictor", "name")
        else:
            yield f"{name}-predictor", ("metadata", "name")
        if isinstance(predictor.get("workerSpec"), dict):
            yield f"{name}-predictor-worker", ("metadata", "name")
    for i, entry in enumerate(as_list(spec.get("canary"))):
        canary = as_dict(as_dict(entry).get("predictor"))
        own = canary.get("name")
        if isinstance(own, str) and own:
            yield f"{name}-{own}-predictor", ("spec", "canary", i, "predictor", "name")
    for component in ("transformer", "explainer"):
        if isinstance(spec.get(component), dict):
            yield f"{name}-{component}", ("metadata", "name")


def check(r: Resource, ctx: Context) -> Iterator[Violation]:
    name = r.metadata.get("name")
    if not isinstance(name, str) or not name:
        return
    who = f"InferenceService {name!r}"
    namespace = r.namespace
    standard = effective_mode(r, ctx) == "Standard"
    seen: set[str] = set()
    for service, at in _services(r, name):
        if service in seen:
            continue
        seen.add(service)
        if len(service) > MAX_LABEL:
            yield Violation(
                at,
                f"KServe names a {'Service' if standard else 'Knative Service'} {service!r}: "
                f"{len(service)} characters, more than the {MAX_LABEL} a DNS label allows; "
                "KServe cannot create it and the model never becomes Ready",
                who,
            )
        elif standard and namespace and len(f"{service}-{namespace}") > MAX_LABEL:
            host = f"{service}-{namespace}"
            yield Violation(
                at,
                f"KServe's default domainTemplate makes the host label {host!r} "
                f"({len(host)} characters, more than {MAX_LABEL}): KServe fails to reconcile "
                'it ("failed creating host name: invalid domain name"); shorten the name or '
                "the namespace",
                who,
            )
    top = f"{name}-{namespace}" if namespace else name
    # Standard mode: reported above, with a longer label; a too long Service name, too
    if (
        not standard
        and namespace
        and len(top) > MAX_LABEL
        and len(f"{name}-predictor") <= MAX_LABEL
    ):
        yield Violation(
            ("metadata", "name"),
            f"KServe's default domainTemplate makes the host label {top!r} ({len(top)} "
            f"characters, more than {MAX_LABEL}): KServe fails to reconcile it",
            who,
        )


RULE = rule(
    "kserve.generated-names",
    "The names KServe derives from an InferenceService fit a DNS label",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={"InferenceService"},
    doc=__doc__,
)

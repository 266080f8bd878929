"""The KServe versions servegate knows, and what differs between them for a model repo.

One table, read by the generator (``servegate new --kserve-version``) and by rules:

- the deployment-mode names the version's controller understands: ``Serverless`` and
  ``RawDeployment`` up to v0.15; ``Knative`` and ``Standard`` from v0.16
  (kserve/kserve#4608, commit 92899a1f, first in v0.16.0-rc0), where the old names remain
  deprecated aliases that the defaulting webhook rewrites
  (``pkg/apis/serving/v1beta1/inference_service_defaults.go``);
- whether ``spec.canary`` (Standard-mode canaries) exists: from v0.20 (kserve/kserve#5672);
- whether it receives traffic: only after v0.20.0, through Gateway API HTTPRoute weights
  (kserve/kserve#5912, merged 2026-07-30 after the v0.20.0 tag; ``enableGatewayApi: true`` in
  the ``inferenceservice-config`` ConfigMap, off by default);
- whether the webhook writes the ``modelFormat`` annotation (kserve/kserve#4953, v0.17).

Versions are ``MAJOR.MINOR`` strings. ``0.21`` stands for KServe after v0.20.0: the main branch
at kserve/kserve@aaac4e29, whose CRDs servegate ships (``../shared/upstream/MANIFEST.md``,
"KServe versions"), and the next release line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SUPPORTED: tuple[str, ...] = ("0.15", "0.16", "0.17", "0.18", "0.19", "0.20", "0.21")
DEFAULT = "0.21"
"""The newest version whose CRDs servegate ships: KServe main after v0.20.0."""

_ALIASES = {"main": DEFAULT, "master": DEFAULT, "head": DEFAULT}
_VERSION = re.compile(r"^v?(?P<major>0)\.(?P<minor>[0-9]{1,3})(\.[0-9]{1,3})?$")


class UnsupportedVersion(ValueError):
    """A KServe version servegate does not know (one line, naming the supported range)."""


@dataclass(frozen=True, slots=True)
class KServeVersion:
    """One supported KServe minor version."""

    minor: int

    @property
    def label(self) -> str:
        return f"0.{self.minor}"

    @property
    def new_mode_names(self) -> bool:
        """``Knative``/``Standard`` (True) or ``Serverless``/``RawDeployment`` (False)."""
        return self.minor >= 16

    def mode_name(self, mode: str) -> str:
        """The annotation value for ``knative`` or ``standard`` in this version."""
        if mode not in ("knative", "standard"):
            raise ValueError(f"unknown deployment mode {mode!r}")
        if self.new_mode_names:
            return "Knative" if mode == "knative" else "Standard"
        return "Serverless" if mode == "knative" else "RawDeployment"

    @property
    def has_canary_api(self) -> bool:
        """``spec.canary`` exists in the CRD (kserve/kserve#5672, v0.20)."""
        return self.minor >= 20

    @property
    def routes_canary(self) -> bool:
        """``spec.canary`` gets traffic, with Gateway API on (kserve/kserve#5912, after v0.20.0)."""
        return self.minor >= 21

    @property
    def writes_model_format_annotation(self) -> bool:
        """The webhook adds ``metadata.annotations.modelFormat`` (kserve/kserve#4953, v0.17)."""
        return self.minor >= 17


def parse(value: str) -> KServeVersion:
    """``"0.20"``, ``"v0.20.1"``, ``"main"`` -> KServeVersion; UnsupportedVersion otherwise."""
    text = str(value).strip().lower()
    text = _ALIASES.get(text, text)
    match = _VERSION.match(text)
    label = f"0.{int(match['minor'])}" if match else None
    if label not in SUPPORTED:
        raise UnsupportedVersion(
            f"unsupported KServe version {value!r}: servegate supports {SUPPORTED[0]} to "
            f"{SUPPORTED[-1]} ({DEFAULT} is KServe main after v0.20.0)"
        )
    assert match is not None
    return KServeVersion(int(match["minor"]))

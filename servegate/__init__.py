"""servegate: scaffold and gate KServe model GitOps repos before Argo CD syncs them."""

__version__ = "0.1.0"

#: The servegate container image (``Dockerfile``, ``make image``): the Argo CD Config Management
#: Plugin sidecar (``argo/cmp``) and the sharded-check WorkflowTemplate (``argo/workflows``) run
#: it. Its tag is always the package version; every reference in the repo names exactly this.
IMAGE_REPOSITORY = "ghcr.io/servegate/servegate"
IMAGE = f"{IMAGE_REPOSITORY}:{__version__}"

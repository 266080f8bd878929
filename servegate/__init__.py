"""servegate: scaffold and gate KServe model GitOps repos before Argo CD syncs them."""

__version__ = "0.1.0"

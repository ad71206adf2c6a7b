"""patchlevel: prove whether a Kubernetes cluster is patched (PCI SSC container guidance 10.1-10.3)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("patchlevel")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

"""One root error and one subclass per stage.  The library raises; only the CLI exits.

Every message is one line a user can act on; ``hint`` adds what to do about it.
"""

from __future__ import annotations

from patchlevel.model import ExitCode


class PatchlevelError(Exception):
    """Root of every error patchlevel raises on purpose."""

    exit_code: int = ExitCode.INCOMPLETE

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UsageError(PatchlevelError):
    """The command line or a path the user named is wrong (exit 2)."""

    exit_code = ExitCode.USAGE


class InputError(PatchlevelError):
    """A snapshot, bundle or report file could not be read or understood (exit 3)."""


class CollectError(PatchlevelError):
    """Collecting from a live cluster failed (exit 3)."""


class KubeconfigError(PatchlevelError):
    """A kubeconfig (or the in-cluster service account) cannot be used as written (exit 2)."""

    exit_code = ExitCode.USAGE


class LifecycleError(PatchlevelError):
    """Lifecycle data is missing, invalid, or could not be updated (exit 3)."""


class PolicyError(PatchlevelError):
    """A policy file is invalid (exit 2: the user's configuration is wrong)."""

    exit_code = ExitCode.USAGE


class ImporterError(PatchlevelError):
    """A scanner report could not be read (exit 3)."""


class RegistryError(PatchlevelError):
    """A container registry could not be queried."""


class BundleError(PatchlevelError):
    """An evidence bundle is malformed, tampered with, or would overwrite something (exit 3)."""


class OutputError(PatchlevelError):
    """A report could not be written where asked (exit 3)."""

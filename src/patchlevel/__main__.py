"""``python -m patchlevel``: the same command line as the ``patchlevel`` script."""

from patchlevel.cli import entry_point

entry_point()

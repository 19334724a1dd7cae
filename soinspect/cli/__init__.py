"""The command line: arguments and config, directory scans, the worker pool. The only layer that prints or
exits. :func:`main` is the ``soinspect`` entry point."""

from soinspect.cli.command import main

__all__ = ["main"]

"""The command line: arguments and config, directory scans, the worker pool. The only layer that prints or
exits. :func:`main` runs the command and returns its exit code; :func:`entry` is the ``soinspect`` program."""

from soinspect.cli.command import entry, main

__all__ = ["entry", "main"]

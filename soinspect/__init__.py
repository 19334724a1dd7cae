"""soinspect: decide, without loading or running anything, whether an ELF ``.so`` is a loadable Go plugin
and whether a given host program's ``plugin.Open`` will accept it.

Library entry points: :func:`audit` (one file, a host built like it), :func:`check_host` (a real host and
the files it loads in order). Facts, checks and verdicts are frozen dataclasses; nothing here prints or
exits, and nothing from an inspected file is ever loaded or run.
"""

from __future__ import annotations

from soinspect._version import __version__
from soinspect.elf.targets import DEFAULT_TARGET, TARGETS, Target, parse_target
from soinspect.errors import (
    FileAccessError,
    FileTooLargeError,
    HostError,
    InvalidFileError,
    MalformedError,
    NotELFError,
    PluginOpenError,
    SoinspectError,
    SymbolNotFound,
    TruncatedError,
)
from soinspect.loader.host import host_model
from soinspect.verdict.audit import audit, check_host
from soinspect.verdict.plugin import Plugin, Symbol, open
from soinspect.verdict.report import Check, Mismatch, Report, Verdict

__all__ = [
    "DEFAULT_TARGET",
    "TARGETS",
    "Check",
    "FileAccessError",
    "FileTooLargeError",
    "HostError",
    "InvalidFileError",
    "MalformedError",
    "Mismatch",
    "NotELFError",
    "Plugin",
    "PluginOpenError",
    "Report",
    "SoinspectError",
    "Symbol",
    "SymbolNotFound",
    "Target",
    "TruncatedError",
    "Verdict",
    "__version__",
    "audit",
    "check_host",
    "host_model",
    "open",
    "parse_target",
]

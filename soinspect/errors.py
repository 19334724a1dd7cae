"""The project's own exceptions.

Two families, kept apart on purpose (as Go's ``debug/buildinfo`` keeps "cannot parse" apart from
"not a Go binary"):

* :class:`FileAccessError`: soinspect could not read the file at all (missing, a directory, no
  permission, a FIFO or device). The CLI exits 2 for these: it could not do its job.
* :class:`InvalidFileError`: the bytes were read but are not an ELF file soinspect can analyse (not ELF,
  truncated, malformed). The real loader also has an answer for such a file, so :func:`soinspect.audit`
  turns these into a rejected report (exit 1); the low-level readers raise them.

Every message names the file and, where known, the offset and the bad value. Context is added once, at
the edge that knows the path.
"""

from __future__ import annotations


class SoinspectError(Exception):
    """Base class of every error soinspect raises on purpose."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem

    def __reduce__(self) -> tuple[object, ...]:
        # Subclasses format their message in __init__, so rebuild from the finished state instead of
        # calling __init__ again: an error keeps its exact text when it crosses a process boundary
        # (soinspect.cli.pool sends errors from worker processes to the parent).
        return (_restore, (type(self), self.args, self.__dict__))


def _restore(cls: type[SoinspectError], args: tuple[object, ...], state: dict[str, object]) -> SoinspectError:
    exc = cls.__new__(cls)
    Exception.__init__(exc, *args)
    exc.__dict__.update(state)
    return exc


class FileAccessError(SoinspectError):
    """The file could not be read: missing, a directory, unreadable, not a regular file.

    ``kind`` is ``"missing"`` (no such file) or ``"unreadable"`` (everything else): the run-level error
    kinds of the JSON ``errors`` list.
    """

    def __init__(self, path: str, problem: str, *, kind: str = "unreadable") -> None:
        super().__init__(path, problem)
        self.kind = kind


class InvalidFileError(SoinspectError):
    """The file was read, but it is not an ELF file that can be analysed."""

    #: short machine-readable kind, used as the check id suffix and in JSON: ``not-elf``, ``truncated``,
    #: ``malformed``, ``too-large``.
    kind: str = "malformed"

    def __init__(self, path: str, problem: str, *, offset: int | None = None) -> None:
        if offset is not None:
            problem = f"{problem} (at offset {offset:#x})"
        super().__init__(path, problem)
        self.offset = offset


class NotELFError(InvalidFileError):
    """The file does not start with the ELF magic; the message says what it looks like instead."""

    kind = "not-elf"


class TruncatedError(InvalidFileError):
    """The ELF headers claim more bytes than the file has."""

    kind = "truncated"


class MalformedError(InvalidFileError):
    """A header, table or length in the file is inconsistent."""

    kind = "malformed"


class FileTooLargeError(InvalidFileError):
    """The file is larger than the configured limit."""

    kind = "too-large"


class ParserCrashError(InvalidFileError):
    """The ELF parser itself died (a signal in native code) while reading this file."""

    kind = "parser-crash"


class HostError(SoinspectError):
    """The host program named with ``--host`` could not be analysed as a Go host."""


class ManifestError(HostError):
    """A host manifest that cannot be trusted: damaged, of an unknown version, or not a manifest at all."""


class PluginOpenError(Exception):
    """What Go's ``plugin.Open`` would return (or die with) for this file.

    Raised by :func:`soinspect.open`. ``outcome`` is ``"error"`` when ``plugin.Open`` returns an error and
    ``"crash"`` when the host process would die; ``str(exc)`` is the first line Go prints.
    """

    def __init__(self, message: str, *, outcome: str, path: str) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.path = path


class SymbolNotFound(LookupError):
    """``Lookup`` of a name the plugin does not export, with Go's wording."""

"""The report data model: what soinspect says about one file, as typed frozen dataclasses.

A :class:`Report` holds the verdict (``loadable``, ``outcome``, ``open_error``, ``reason``, ``mismatches``),
the checks that were run, and the typed facts behind them (:class:`ElfInfo`, the Go
:class:`~soinspect.go.buildinfo.BuildInfo`, :class:`PluginInfo`, :class:`HostInfo`, :class:`FileError`).
Nothing here knows about JSON, tables or SARIF: the output layer renders these (``soinspect.output``).
"""

from __future__ import annotations

from dataclasses import field
from typing import Any, Literal

from soinspect._frozen import frozen
from soinspect.go.buildinfo import BuildInfo
from soinspect.go.gotypes import Symbol
from soinspect.loader.differences import Difference, differences, loading_settings
from soinspect.loader.prediction import OUTCOMES, Mismatch, Outcome, Verdict
from soinspect.verdict.fix import Fix

__all__ = [
    "OUTCOMES",
    "STATUSES",
    "CauseGroup",
    "Check",
    "Difference",
    "ElfInfo",
    "FileError",
    "Fix",
    "HostInfo",
    "Mismatch",
    "ModuleDataInfo",
    "Outcome",
    "PackageHash",
    "PluginInfo",
    "Report",
    "RunError",
    "Skipped",
    "Status",
    "Verdict",
    "cause_groups",
    "mismatch_fields",
]

Status = Literal["pass", "fail", "warn", "info", "unknown"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "warn", "info", "unknown")


@frozen
class Check:
    """One check: a stable dotted id, a status, one line of message, and evidence (JSON-ready values)."""

    id: str
    status: Status
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)


@frozen
class ElfInfo:
    """The ELF identity and linkage of the file."""

    elf_class: Literal[32, 64]
    byteorder: Literal["little", "big"]
    os_abi: int
    type: int  # e_type: 3 is ET_DYN
    machine: int  # e_machine
    platform: str | None  # the Go GOOS/GOARCH these bytes are for, if any
    size: int
    sha256: str | None  # None where the output does not need it (``audit(digest=False)``)
    interp: str | None
    pie: bool
    needed: tuple[str, ...]
    soname: str | None
    rpath: tuple[str, ...]
    runpath: tuple[str, ...]
    dynsym_count: int
    stripped: bool  # no .symtab


@frozen
class ModuleDataInfo:
    """Where the plugin's ``runtime.moduledata`` is, and how its layout was found."""

    addr: int
    source: str
    next_offset: int | None
    layout_source: str | None


@frozen
class PackageHash:
    """One package fingerprint the plugin was linked against (hex)."""

    package: str
    hash: str


@frozen
class PluginInfo:
    """What Go's ``plugin`` package sees: the plugin path, the exported symbols and the fingerprints."""

    is_plugin: bool
    pluginpath: str | None
    pluginpath_source: str | None
    exports: tuple[str, ...]
    #: the symbols ``Lookup`` finds, with their Go types; None if the file is not a Go plugin
    symbols: tuple[Symbol, ...] | None
    moduledata: ModuleDataInfo | None
    #: in the plugin's table order; None if the file is not Go
    pkghashes: tuple[PackageHash, ...] | None


@frozen
class LoaderInfo:
    """The dynamic loader that runs ``dlopen`` for this file: glibc's or musl's, and how soinspect knows."""

    flavor: str  # "glibc" or "musl"
    interp: str | None  # its path (the host's PT_INTERP, or musl's for the plugin's platform)
    why: str  # the host's PT_INTERP, or the C library the plugin needs (no host)


@frozen
class HostInfo:
    """The host a file was judged against (``check_host``)."""

    path: str
    go_version: str | None
    can_load_plugins: bool
    refusal: str | None
    platform: str | None
    next_offset: int | None
    pkghash_count: int
    #: the host's Go build info (None if it has none)
    buildinfo: BuildInfo | None = None
    #: where the host was named: ``--host``, or the config file it came from (set by the command line)
    origin: str | None = None
    #: the host executable's file name when the host was given as a manifest (``path`` is the manifest's)
    manifest_of: str | None = None
    #: the host executable's sha256 (from its manifest, or read from it for JSON and SARIF reports)
    sha256: str | None = None

    @property
    def settings(self) -> tuple[tuple[str, str], ...]:
        """The host's build settings that matter for loading plugins (``-race``, ``-trimpath``, ...)."""
        return loading_settings(self.buildinfo) if self.buildinfo is not None else ()


@frozen
class FileError:
    """Why a file that was read could not be analysed (not ELF, truncated, malformed, ...)."""

    kind: str
    message: str
    offset: int | None


@frozen
class Report:
    """Everything soinspect says about one file."""

    path: str
    verdict: Verdict
    checks: tuple[Check, ...]
    kind: str  # what the file is: go-plugin, go-exe, go-pie, go-c-shared, c-shared, not-elf, ...
    elf: ElfInfo | None
    buildinfo: BuildInfo | None
    plugin: PluginInfo | None
    host: HostInfo | None = None
    error: FileError | None = None
    #: what makes the real loader accept the file; None when it is loadable (see soinspect.verdict.fix)
    fix: Fix | None = None
    #: the dynamic loader judged (None for a file that is no ELF object soinspect could read)
    loader: LoaderInfo | None = None

    @property
    def loadable(self) -> bool:
        return self.verdict.loadable

    @property
    def outcome(self) -> Outcome:
        return self.verdict.outcome

    @property
    def open_error(self) -> str | None:
        return self.verdict.open_error

    @property
    def reason(self) -> str:
        return self.verdict.reason

    @property
    def mismatches(self) -> tuple[Mismatch, ...]:
        return self.verdict.mismatches

    def check(self, check_id: str) -> Check | None:
        for c in self.checks:
            if c.id == check_id:
                return c
        return None

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail"]

    @property
    def causes(self) -> tuple[CauseGroup, ...]:
        """The fingerprint mismatches grouped by their likely cause, each cause once."""
        return cause_groups(self.verdict.mismatches)

    @property
    def differences(self) -> tuple[Difference, ...]:
        """The build-info fields that differ between this file and the host (empty without a host)."""
        hb = self.host.buildinfo if self.host is not None else None
        if self.buildinfo is None or hb is None:
            return ()
        return differences(self.buildinfo, hb)


@frozen
class CauseGroup:
    """Packages whose fingerprints differ for the same likely cause; ``go_names`` is the one of them that
    Go's error names, if it is in this group."""

    cause: str
    packages: tuple[str, ...]
    go_names: str | None


def cause_groups(mismatches: tuple[Mismatch, ...]) -> tuple[CauseGroup, ...]:
    """*mismatches* grouped by cause, in the order each cause first appears (the plugin's table order)."""
    groups: dict[str, list[Mismatch]] = {}
    for m in mismatches:
        groups.setdefault(m.cause, []).append(m)
    return tuple(
        CauseGroup(cause, tuple(m.package for m in ms), next((m.package for m in ms if m.first), None))
        for cause, ms in groups.items()
    )


@frozen
class Skipped:
    """A path a directory scan did not judge, and why (not ELF, symlink loop, a FIFO, ...)."""

    path: str
    reason: str


@frozen
class RunError:
    """A path the run could not judge, and why: it is in no result and in no skip.

    ``kind`` is ``missing`` (no such file), ``unreadable`` (a file or directory that cannot be read: no
    permission, a FIFO, a device) or ``nothing-to-judge`` (a path that gave no file to judge, in a run that
    judged none). ``message`` is the problem, without the path. Any run error makes the run exit 2.
    """

    path: str
    kind: str
    message: str


def mismatch_fields(m: Mismatch) -> dict[str, Any]:
    """A mismatch as plain values: the report's ``mismatches`` entries and the ``host.pkghash`` evidence."""
    return {
        "package": m.package,
        "plugin_hash": m.plugin_hash,
        "process_hash": m.process_hash,
        "provider": m.provider,
        "cause": m.cause,
        "go_names_it": m.first,
    }

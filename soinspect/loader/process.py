"""A static model of Go's ``plugin.Open``: what a host process does with a sequence of files.

It mirrors, step by step, ``go/src/plugin/plugin_dlopen.go`` (``open``) and
``go/src/runtime/plugin.go`` (``plugin_lastmoduleinit``):

1. ``realpath(name)``; a path opened before returns the cached plugin, or the cached error with
   `` (previous failure)``. Only errors from step 3 are cached; ``dlopen`` failures are not.
2. ``dlopen(path, RTLD_NOW|RTLD_GLOBAL)`` (glibc): header checks, then mapping; its failures come back as
   ``plugin.Open("NAME"): REALPATH: <glibc text>``. A PT_LOAD that runs past the end of the file is
   mapped anyway and the process dies with SIGBUS when the loader touches it.
   While mapping, the library's init array runs: a Go plugin's ``go:link.addmoduledata`` calls
   ``runtime.addmoduledata``, which stores the plugin's module data into ``lastmoduledatap.next`` using
   the *plugin's* idea of where ``next`` lives in ``runtime.moduledata``. Through symbol interposition
   ``lastmoduledatap`` is the *host's* variable, so a host whose ``moduledata`` puts ``next`` elsewhere
   (another Go minor release) never sees the new module.
3. ``lastmoduleinit``: the last module in the chain that is not marked bad is "the plugin"; none:
   ``fatal error: runtime: no plugin module data``. Already initialised: ``plugin already loaded``. Empty
   plugin path: ``fatal error: runtime: plugin has empty pluginpath``. Same plugin path as a loaded
   module: ``plugin already loaded``. Then the package fingerprints, in the plugin's own table order: each
   entry's runtime hash pointer was relocated against ``go:link.pkghash.<pkg>``, which the dynamic loader
   resolves in the global scope (the host first, then earlier ``RTLD_GLOBAL`` libraries, then the plugin
   itself); the first difference is ``plugin was built with a different version of package <pkg>``.
   Errors from this step name the plugin without its ``.so`` suffix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from soinspect._frozen import frozen
from soinspect.elf.structs import ELFCLASS64, ELFDATA2LSB, ELFDATA2MSB, ET_DYN, ET_EXEC, PT_LOAD
from soinspect.elf.targets import LINUX_OSABIS, Target, machine_file, machine_process
from soinspect.go.buildinfo import BuildInfo
from soinspect.go.facts import FileFacts
from soinspect.go.gotypes import NamedType
from soinspect.loader.dynamic import Binding, loader_of_plugin
from soinspect.loader.prediction import Mismatch, Outcome, Verdict

NO_MODULE_DATA = "fatal error: runtime: no plugin module data"
EMPTY_PLUGINPATH = "fatal error: runtime: plugin has empty pluginpath"
ALREADY_LOADED = "plugin already loaded"
DIFFERENT_VERSION = "plugin was built with a different version of package "
NOT_IMPLEMENTED = "plugin: not implemented"
#: a crash on memory read through the wrong layout; the exact first line depends on the garbage read
MISREAD = "[signal SIGSEGV: segmentation violation] (the host reads the plugin's module data with another layout)"
SIGBUS = "SIGBUS: bus error"  # the first line a Go host prints for a SIGBUS inside dlopen
_DUPLICATE = "is already loaded in this process"


def duplicate_pluginpath(v: Verdict) -> bool:
    """The verdict is Go's ``plugin already loaded`` for a second plugin with a loaded plugin path (and not
    for a library whose module data the host cannot see, which Go answers with the same words)."""
    return v.open_error is not None and v.open_error.endswith(ALREADY_LOADED) and _DUPLICATE in v.reason


@frozen
class HostModel:
    """What the host process brings to ``plugin.Open``."""

    name: str
    implicit: bool  # True: "a host built by the same toolchain with the same flags as the plugin"
    target: Target | None
    #: None when the host can call plugin.Open; else what happens for every file (outcome, message)
    #: (outcome, the message Go prints or None if Go never gets to say anything, why)
    refusal: tuple[Outcome, str | None, str] | None = None
    next_offset: int | None = None
    #: the host runtime's whole moduledata layout ((field, offset), ...) and size, when known
    layout: tuple[int, tuple[tuple[str, int], ...]] | None = None
    exports_lastmoduledatap: bool = True
    #: package -> fingerprint hex, for every go:link.pkghash.<pkg> the host exports dynamically
    pkghashes: dict[str, str] = field(default_factory=dict)
    #: the host's Go build info (the causes and fixes of a mismatch, the report's host header)
    buildinfo: BuildInfo | None = None
    #: hex SHA-256 of the host executable (read from the binary, or recorded in its manifest)
    sha256: str | None = None
    #: the host's contract: (exported name, Go type) pairs it looks up and asserts (a manifest's ``expect``)
    expects: tuple[tuple[str, str], ...] = ()
    #: the named types the host carries descriptors for, by identity (``import/path.Name``): what a
    #: contract's package names resolve against (empty when unknown: no ``.symtab``, a version-1 manifest)
    named_types: dict[str, NamedType] = field(default_factory=dict)
    #: the host executable's file name when this model was read from a host manifest (``name`` is then
    #: the manifest's path); None when it was read from the executable itself
    manifest_of: str | None = None
    #: the host's program interpreter (PT_INTERP): the dynamic loader that runs dlopen (glibc's, musl's)
    interp: str | None = None
    #: the C-identifier symbols the host and its libraries (not the C library) export to the global scope
    #: (:func:`soinspect.loader.dynamic.exported_names`); None when not known (a version-1 manifest)
    exports: frozenset[str] | None = None
    #: why *exports* may lack a name the host has (None: it holds every one)
    exports_note: str | None = None

    @property
    def go_version(self) -> str | None:
        return self.buildinfo.go_version if self.buildinfo is not None else None


@dataclass
class _Module:
    path: str
    pluginpath: str
    bad: bool = False
    initialized: bool = False
    #: linked where the host looks, but laid out differently from the host's moduledata
    misread: bool = False


@dataclass
class _Cached:
    ok: bool
    errstr: str
    pluginpath: str | None


class Process:
    """One host process loading files in order. Call :meth:`open` for each file."""

    def __init__(
        self,
        host: HostModel,
        dependencies: Callable[[FileFacts], str | None] | None = None,
        symbols: Callable[[FileFacts, list[FileFacts]], Binding | None] | None = None,
    ) -> None:
        self.host = host
        #: what dlopen says when mapping the file's DT_NEEDED libraries fails (see soinspect.loader.dynamic)
        self.dependencies = dependencies
        #: RTLD_NOW's binding of the file's undefined symbols, given the RTLD_GLOBAL files loaded before it
        self.symbols = symbols
        self.dead_by: str | None = None
        self.cache: dict[str, _Cached] = {}
        self.scope: list[FileFacts] = []  # RTLD_GLOBAL libraries in load order (the host is implicit)
        self.chain: list[_Module] = []  # modules reachable from firstmoduledata.next
        self.tail_reachable = True  # lastmoduledatap still points at the end of the reachable chain
        self.active: set[str] = set()

    def open(self, f: FileFacts, name: str | None = None) -> Verdict:
        name = f.path if name is None else name
        if self.dead_by is not None:
            return Verdict(False, "not_reached", None, f"the host process already died loading {self.dead_by}")
        if self.host.refusal is not None:
            outcome, msg, why = self.host.refusal
            return Verdict(False, outcome, msg, f"host {self.host.name}: {why}")
        cached = self.cache.get(f.realpath)
        if cached is not None:
            if cached.ok:
                return Verdict(True, "ok", None, "the same file was opened before: Go returns the cached plugin")
            return Verdict(
                False,
                "error",
                f'plugin.Open("{name}"): {cached.errstr} (previous failure)',
                "the same file failed before; Go returns the cached error",
            )
        short = name[:-3] if len(name) > 3 and name.endswith(".so") else name
        if f.file_id is not None and any(lib.file_id == f.file_id for lib in self.scope):
            # Another name (a hard link) of a file already mapped: glibc's dlopen returns that object,
            # runs no init and registers nothing, so lastmoduleinit sees the module chain as it was.
            return self._lastmoduleinit(f, short, ["the file is already mapped under another name"])
        dl = dlopen_failure(f, self.host.target)
        if dl is not None:
            outcome, text, why = dl
            if outcome == "crash":
                self.dead_by = f.path
                return Verdict(False, "crash", text, why)
            return Verdict(False, "error", f'plugin.Open("{name}"): {f.realpath}: {text}', why)
        dep_error = self.dependencies(f) if self.dependencies is not None else None
        if dep_error is not None:
            # A missing library or version node fails dlopen before any init runs: not cached.
            return Verdict(False, "error", f'plugin.Open("{name}"): {dep_error}', f"dlopen: {dep_error}")
        binding = self.symbols(f, list(self.scope)) if self.symbols is not None else None
        if binding is not None and binding.error is not None:
            # RTLD_NOW binds every symbol before dlopen returns: no init has run, nothing is cached
            why = f"dlopen: {binding.error}: no object in the global scope defines it"
            return Verdict(False, "error", f'plugin.Open("{name}"): {binding.error}', why)
        if binding is not None and binding.unknown is not None:
            return Verdict(False, "unknown", None, f"dlopen: {binding.unknown}")
        self.scope.append(f)
        notes: list[str] = []
        unknown = self._register(f, notes)
        if unknown is not None:
            return Verdict(False, "unknown", None, unknown)
        return self._lastmoduleinit(f, short, notes)

    # -- step 2: module data registration ---------------------------------------------------------------
    def _register(self, f: FileFacts, notes: list[str]) -> str | None:
        """Step 2; returns why the outcome cannot be told, or None."""
        go = f.go
        if go is None or not go.has_addmoduledata_init or go.moduledata is None:
            notes.append("it registers no Go module data with the host (no go:link.addmoduledata init)")
            return None
        if not go.dynamic_lastmoduledatap or not self.host.exports_lastmoduledatap:
            notes.append("runtime.lastmoduledatap is not shared with the host, so registration is invisible")
            return None
        host_next = self.host.next_offset if not self.host.implicit else go.next_offset
        if host_next is None or go.next_offset is None:
            return (
                "the offset of moduledata.next is unknown on one side, so whether the host sees the module is unknown"
            )
        if host_next != go.next_offset:
            notes.append(
                f"its runtime stores the module link at moduledata+{go.next_offset:#x}, the host's runtime "
                f"reads it at +{host_next:#x} (different runtime.moduledata layouts)"
            )
            self.tail_reachable = False
            return None
        if not self.tail_reachable:
            notes.append("an earlier library broke the host's module chain")
            return None
        misread = False
        if not self.host.implicit and self.host.layout is not None and go.layout is not None and go.layout.size:
            misread = self.host.layout != (go.layout.size, go.layout.offsets)
        self.chain.append(_Module(f.realpath, go.moduledata.pluginpath or "", misread=misread))
        return None

    # -- step 3: lastmoduleinit ------------------------------------------------------------------------
    def _lastmoduleinit(self, f: FileFacts, short: str, notes: list[str]) -> Verdict:
        md: _Module | None = None
        for m in self.chain:
            md = None if m.bad else m
        if md is None:
            self.dead_by = f.path
            return Verdict(False, "crash", NO_MODULE_DATA, "; ".join(notes) or "no module data")
        if md.initialized:
            # The chain's last good module is an earlier plugin: its typemap is set.
            return self._fail(
                f,
                short,
                ALREADY_LOADED,
                "the library added no module data, so Go sees the previous plugin again; " + "; ".join(notes),
            )
        if md.path != f.realpath:
            return Verdict(False, "unknown", None, "module chain state not modelled")
        if md.misread:
            # Same offset of next, other fields elsewhere: the host reads the plugin's pluginpath,
            # pkghashes and tables at its own offsets, i.e. garbage (seen: SIGSEGV, 1.21/1.22 vs 1.26).
            self.dead_by = f.path
            return Verdict(
                False,
                "crash",
                MISREAD,
                "the host links the plugin's module data but its runtime "
                "lays moduledata out differently (another Go release): it reads garbage",
            )
        if not md.pluginpath:
            self.dead_by = f.path
            return Verdict(False, "crash", EMPTY_PLUGINPATH, "the plugin's module data has an empty plugin path")
        if md.pluginpath in self.active:
            md.bad = True
            return self._fail(
                f,
                short,
                ALREADY_LOADED,
                f"a plugin with plugin path {md.pluginpath} {_DUPLICATE}",
            )
        mismatches, order_known = self._compare_hashes(f)
        if mismatches:
            md.bad = True
            first = mismatches[0]
            why = f"{len(mismatches)} package(s) differ; Go names only the first in the plugin's table"
            if not order_known:
                why += " (table order not readable: the first listed is a guess)"
            v = self._fail(f, short, DIFFERENT_VERSION + first.package, why)
            return Verdict(
                v.loadable,
                v.outcome if order_known or len(mismatches) == 1 else "error",
                v.open_error,
                v.reason,
                tuple(mismatches),
            )
        md.initialized = True
        self.active.add(md.pluginpath)
        self.cache[f.realpath] = _Cached(True, "", md.pluginpath)
        return Verdict(True, "ok", None, "plugin.Open succeeds")

    def _fail(self, f: FileFacts, short: str, errstr: str, why: str) -> Verdict:
        self.cache[f.realpath] = _Cached(False, errstr, None)
        return Verdict(False, "error", f'plugin.Open("{short}"): {errstr}', why)

    def _compare_hashes(self, f: FileFacts) -> tuple[list[Mismatch], bool]:
        go = f.go
        assert go is not None and go.moduledata is not None
        table = go.moduledata.pkghashes
        order_known = table is not None
        entries: list[tuple[str, str]]
        entries = [(e.package, e.linktime_hash) for e in table] if table is not None else list(go.pkghash_bytes.items())
        out: list[Mismatch] = []
        for pkg, linktime in entries:
            provider, runtime = self._resolve(pkg, f)
            if runtime is not None and runtime != linktime:
                out.append(Mismatch(pkg, linktime, runtime, provider, "", first=not out))
        return out, order_known

    def _resolve(self, pkg: str, f: FileFacts) -> tuple[str, str | None]:
        """Who defines go:link.pkghash.<pkg> first in the global scope, and the hash it points at."""
        if self.host.implicit:
            return "host", None  # the same toolchain and flags: every shared package matches
        if pkg in self.host.pkghashes:
            return "host", self.host.pkghashes[pkg]
        for lib in self.scope:
            if lib is f:
                break
            if lib.go is not None and pkg in lib.go.pkghash_bytes:
                return lib.path, lib.go.pkghash_bytes[pkg]
        return "plugin", None


def dlopen_failure(f: FileFacts, target: Target | None) -> tuple[Outcome, str, str] | None:
    """What glibc's ``dlopen`` does with *f* in a process of *target*, or None if it maps the file.

    Mirrors, in glibc's order, ``open_verify`` (the raw ELF header, before any table is read) and
    ``_dl_map_object_from_fd`` in ``elf/dl-load.c``. Each message was seen from a real host
    (corpus ``hdr-*`` files) unless marked (source).
    """
    head = f.head
    is64 = target.elf_class == ELFCLASS64 if target is not None else (len(head) > 4 and head[4] == ELFCLASS64)
    ehsize = 64 if is64 else 52
    if len(head) < ehsize:
        short = f"the file is {f.size} bytes, less than an ELF header"
        if f.invalid is not None and f.invalid.kind == "not-elf":  # say what it is: an HTML page, a gzip, ...
            short = f.invalid.problem + (f" ({f.size} bytes, less than an ELF header)" if f.size else "")
        return "error", "file too short", f"dlopen: {short}"
    if head[:4] != b"\x7fELF":
        what = f.invalid.problem if f.invalid is not None else "no ELF magic"
        return "error", "invalid ELF header", f"dlopen: {what}"
    want_class = target.elf_class if target is not None else head[4]
    if head[4] != want_class:
        # glibc names the class the process does not have, whatever the byte says (0, 3, ...).
        name = "ELFCLASS32" if want_class == ELFCLASS64 else "ELFCLASS64"
        # glibc skips a file of the other class; for an explicit path it reports the class it found.
        bits = 64 if want_class == ELFCLASS64 else 32  # the process's
        return (
            "error",
            f"wrong ELF class: {name}",
            f"dlopen: a {96 - bits}-bit ({name}) file cannot load in a {bits}-bit process",
        )
    if target is not None:
        # The machine before the byte order: glibc reads e_machine in the process's own byte order
        # (elf_machine_matches_host), so another platform's file is skipped whatever its EI_DATA says
        # (seen: an s390x plugin in amd64, arm64, riscv64 and ppc64le hosts, corpus/platforms), while a
        # file whose EI_DATA alone is wrong gets the byte-order message (corpus hdr-msb.so).
        native: Literal["little", "big"] = "little" if target.data_encoding == ELFDATA2LSB else "big"
        if int.from_bytes(head[18:20], native) != target.machine:
            own = int.from_bytes(head[18:20], "big" if head[5] == ELFDATA2MSB else "little")  # as the file means it
            return (
                "error",
                "cannot open shared object file: No such file or directory",
                f"dlopen: {machine_file(head[4], head[5], own)} cannot load in {machine_process(target.machine)}; "
                "glibc skips it as if it did not exist",
            )
    want_data = target.data_encoding if target is not None else head[5]
    if head[5] != want_data:
        end = "little" if want_data == ELFDATA2LSB else "big"
        return "error", f"ELF file data encoding not {end}-endian", "dlopen: wrong byte order"
    if head[6] != 1:
        return "error", "ELF file version ident does not match current one", "dlopen: EI_VERSION (source)"
    if head[7] not in LINUX_OSABIS:
        return "error", "ELF file OS ABI invalid", f"dlopen: OS/ABI byte {head[7]} is not SYSV or GNU/Linux"
    if (head[7] == 0 and head[8] != 0) or head[8] > _GNU_ABI_VERSION_MAX:
        return "error", "ELF file ABI version invalid", f"dlopen: EI_ABIVERSION {head[8]} (source)"
    if any(head[9:16]):
        return "error", "nonzero padding in e_ident", "dlopen: e_ident padding (source)"
    order: Literal["little", "big"] = "little" if head[5] == ELFDATA2LSB else "big"
    e_type = int.from_bytes(head[16:18], order)
    e_version = int.from_bytes(head[20:24], order)
    phentsize = int.from_bytes(head[54:56] if is64 else head[42:44], order)
    if e_version != 1:
        return "error", "ELF file version does not match current one", "dlopen: e_version (source)"
    if e_type not in (ET_DYN, ET_EXEC):
        return "error", "only ET_DYN and ET_EXEC can be loaded", f"dlopen: e_type is {e_type}"
    if phentsize != (56 if is64 else 32):
        return "error", "ELF file's phentsize not the expected size", f"dlopen: e_phentsize {phentsize} (source)"
    if f.invalid is not None or f.header is None:
        problem = f.invalid.problem if f.invalid is not None else "unreadable headers"
        return "error", "cannot read file data", f"dlopen: {problem} (source)"
    if e_type == ET_EXEC:
        return "error", "cannot dynamically load executable", "dlopen: an ET_EXEC executable"
    if f.truncation is not None and f.truncation.loaded:
        t = f.truncation
        return (
            "crash",
            SIGBUS,
            (
                f"{t.what} ends at {t.needed:#x}, past the end of the {t.size}-byte file: dlopen maps it and "
                "the process dies with SIGBUS when the loader touches the missing pages"
            ),
        )
    if f.header is not None and not any(seg.type == PT_LOAD for seg in (f.elf.segments if f.elf else ())):
        return "error", "object file has no loadable segments", "dlopen: no PT_LOAD (source)"
    if f.dynamic is not None and f.dynamic.noopen and not f.dynamic.pie:
        return "error", "shared object cannot be dlopen()ed", "dlopen: DF_1_NOOPEN is set"
    if f.dynamic is not None and f.dynamic.pie:
        return (
            "error",
            "cannot dynamically load position-independent executable",
            ("dlopen: DF_1_PIE is set: a PIE executable"),
        )
    if f.dynamic is not None and not f.dynamic.has_dynamic:
        return "error", "object file has no dynamic section", "dlopen: no PT_DYNAMIC (source)"
    return None


#: glibc's LIBC_ABI_MAX: the highest EI_ABIVERSION it accepts for ELFOSABI_GNU objects.
_GNU_ABI_VERSION_MAX = 3


def no_host_model(target: str | None, libc: str | None = None) -> str:
    """The host soinspect judges against when none is given, in words: the one place they are written (every
    output says it this way, and never "the host runs on" a platform no --host named). *libc* names the C
    library whose loader runs it (``glibc``, ``musl``: the one the plugin was built for)."""
    return "a host built like the plugin" + (f", on {target}" if target else "") + (
        f", with {libc}'s loader" if libc else ""
    )


def implicit_host(f: FileFacts, target: Target | None) -> HostModel:
    """The host the foundation verdict assumes: same toolchain, same flags, same platform, and the loader of
    the C library the plugin was built for; it exports no C symbol of its own."""
    libc = loader_of_plugin(f.elf).flavor if f.elf is not None and f.invalid is None else None
    return HostModel(
        name=no_host_model(target.name if target else None, libc), implicit=True, target=target, exports=frozenset()
    )

"""Bytes to facts: everything soinspect reads from one file, before any judgement.

:func:`read_facts` is the only entry point. It never raises for a file that was read but is not a valid
ELF file: that becomes ``FileFacts.invalid`` (the real loader has an answer for such files too). It does
raise :class:`~soinspect.errors.FileAccessError` when the file could not be read at all.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import field
from functools import cached_property

from soinspect._frozen import frozen
from soinspect.elf import file as _elf
from soinspect.elf.file import ElfFile, Truncation
from soinspect.elf.structs import (
    DF_1_NOOPEN,
    DF_1_PIE,
    DT_FLAGS_1,
    DT_NEEDED,
    DT_RPATH,
    DT_RUNPATH,
    DT_SONAME,
    ET_DYN,
    ET_EXEC,
    PT_DYNAMIC,
    PT_INTERP,
    ElfHeader,
)
from soinspect.errors import InvalidFileError, MalformedError
from soinspect.go.buildinfo import BuildInfoResult, is_local_source, read_buildinfo
from soinspect.go.gotypes import NamedType, Symbol, TypeReadError, named_types, plugin_symbols
from soinspect.go.module import GoModuleFacts, exported_symbols, read_go_module
from soinspect.go.sourcedirs import module_dir, package_dirs


@frozen
class DynamicFacts:
    has_dynamic: bool
    interp: str | None
    needed: tuple[str, ...]
    soname: str | None
    rpath: tuple[str, ...]
    runpath: tuple[str, ...]
    pie: bool  # DF_1_PIE in DT_FLAGS_1
    noopen: bool = False  # DF_1_NOOPEN in DT_FLAGS_1: "shared object cannot be dlopen()ed"


@frozen
class FileFacts:
    path: str
    realpath: str
    size: int
    #: the file's bytes (the same object the ELF reader holds: not a copy); the digest is computed on demand
    content: bytes = field(repr=False, compare=False)
    invalid: InvalidFileError | None = None
    #: the first 64 bytes (the ELF header as glibc's open_verify reads it), kept even for invalid files
    head: bytes = b""
    header: ElfHeader | None = None
    truncation: Truncation | None = None
    dynamic: DynamicFacts | None = None
    dynsym_count: int = 0
    symtab_present: bool = False
    buildinfo: BuildInfoResult | None = None
    go: GoModuleFacts | None = None
    pluginpath: str | None = None
    pluginpath_source: str = ""
    exports: tuple[str, ...] = ()
    kind: str = "unknown"
    kind_reason: str = ""
    elf: ElfFile | None = field(default=None, compare=False, repr=False)
    #: (st_dev, st_ino): glibc's dlopen recognises an already loaded object by it, whatever its path
    file_id: tuple[int, int] | None = None

    @cached_property
    def sha256(self) -> str:
        """Hex SHA-256 of the file, computed only when a report asks for it (JSON, SARIF)."""
        import hashlib  # imported by the reports that ask: not by a table's cold start

        return hashlib.sha256(self.content).hexdigest()

    @property
    def buildmode(self) -> str | None:
        if self.buildinfo is None or self.buildinfo.info is None:
            return None
        return self.buildinfo.info.setting("-buildmode")

    @property
    def go_version(self) -> str | None:
        if self.buildinfo is None or self.buildinfo.info is None:
            return None
        return self.buildinfo.info.go_version


def read_facts(path: str, *, max_size: int = _elf.DEFAULT_MAX_SIZE) -> FileFacts:
    data, parsed = _elf.read_and_parse(path, max_size)

    def elf() -> ElfFile:
        if isinstance(parsed, Exception):
            raise parsed
        return ElfFile(path, data, parsed)

    facts = _facts(path, data, os.path.realpath(path), elf)
    try:
        st = os.stat(path)
    except OSError:
        return facts  # gone since it was read: its identity is unknown, its bytes were read
    return dataclasses.replace(facts, file_id=(st.st_dev, st.st_ino))


def facts_from_bytes(path: str, data: bytes, realpath: str) -> FileFacts:
    """Facts of *data*, the contents of *path*: never raises for anything in the bytes."""
    return _facts(path, data, realpath, lambda: ElfFile.from_bytes(path, data))


def _facts(path: str, data: bytes, realpath: str, elf: Callable[[], ElfFile]) -> FileFacts:
    """Facts of the file *elf()* gives (its bytes are *data*), or of the invalid file if it raises."""
    real = realpath
    try:
        return facts_from_elf(elf(), real)
    except InvalidFileError as exc:
        return invalid_facts(path, real, data, exc)
    except MemoryError:
        raise  # not a property of the bytes: the caller's limits (soinspect.cli.pool) name it
    except Exception as exc:
        # The one choke point: the readers check every length and count they take from the file, so
        # this is a case they missed. It is still this file's problem, never a traceback.
        err = MalformedError(path, f"unexpected {type(exc).__name__} while reading {_where(exc)}: {exc}")
        err.__cause__ = exc
        return invalid_facts(path, real, data, err)


def invalid_facts(path: str, realpath: str, data: bytes, error: InvalidFileError) -> FileFacts:
    """Facts of a file that was read but cannot be analysed: *error* says why."""
    return FileFacts(
        path, realpath, len(data), data, invalid=error, head=data[:64], kind=error.kind, kind_reason=error.problem
    )


def _where(exc: BaseException) -> str:
    """The innermost soinspect function in *exc*'s traceback, as ``module.function``."""
    where = "the file"
    tb = exc.__traceback__
    package = os.path.dirname(os.path.abspath(__file__))
    while tb is not None:  # bounded by the depth of the traceback
        code = tb.tb_frame.f_code
        if os.path.dirname(os.path.abspath(code.co_filename)) == package:
            where = f"{os.path.splitext(os.path.basename(code.co_filename))[0]}.{code.co_name}"
        tb = tb.tb_next
    return where


def facts_from_elf(elf: ElfFile, realpath: str) -> FileFacts:
    h = elf.header
    trunc = _elf.find_truncation(elf)
    dyn = DynamicFacts(
        has_dynamic=any(s.type == PT_DYNAMIC for s in elf.segments),
        interp=_interp(elf),
        needed=tuple(elf.dyn_strings(DT_NEEDED)),
        soname=next(iter(elf.dyn_strings(DT_SONAME)), None),
        rpath=tuple(p for v in elf.dyn_strings(DT_RPATH) for p in v.split(":") if p),
        runpath=tuple(p for v in elf.dyn_strings(DT_RUNPATH) for p in v.split(":") if p),
        pie=bool((elf.dyn(DT_FLAGS_1) or 0) & DF_1_PIE),
        noopen=bool((elf.dyn(DT_FLAGS_1) or 0) & DF_1_NOOPEN),
    )
    bi = read_buildinfo(elf)
    go = (
        read_go_module(elf, bi.info.go_version if bi.info else None)
        if (bi.info is not None or _looks_go(elf))
        else None
    )
    if bi.info is not None and go is not None:
        bi = _with_dirs(elf, bi, go)
    pluginpath, pp_source = _pluginpath(elf, go)
    exports: tuple[str, ...] = ()
    if pluginpath:
        exports = tuple(s.name[len(pluginpath) + 1 :] for s in exported_symbols(elf, pluginpath))
    kind, why = _classify(h, dyn, bi, go, pluginpath)
    if trunc is not None and trunc.loaded:
        kind, why = "truncated", f"truncated ({why}): {trunc.what} ends past the end of the file"
    return FileFacts(
        path=elf.path,
        realpath=realpath,
        size=len(elf.data),
        content=elf.data,
        head=elf.data[:64],
        header=h,
        truncation=trunc,
        dynamic=dyn,
        dynsym_count=elf.dynsym_count,
        symtab_present=elf.symtab_present,
        buildinfo=bi,
        go=go,
        pluginpath=pluginpath,
        pluginpath_source=pp_source,
        exports=exports,
        kind=kind,
        kind_reason=why,
        elf=elf,
    )


def _with_dirs(elf: ElfFile, bi: BuildInfoResult, go: GoModuleFacts) -> BuildInfoResult:
    """*bi* with the absolute directories of its main module and of each module built from a directory (a
    local replacement, whose relative spelling resolves only through them, or a go.work module); unchanged
    when there is none or the build was trimmed (the file names are not absolute then)."""
    info = bi.info
    assert info is not None
    local = [m.path for m in info.deps if is_local_source(m)]
    if not local or info.setting("-trimpath") == "true":
        return bi
    wanted = (*local, *((info.main.path,) if info.main is not None else ()))
    found = package_dirs(elf, go.pclntab, wanted)
    dirs = tuple((m, d) for m in wanted if (d := module_dir(found, m)) is not None)
    return dataclasses.replace(bi, info=dataclasses.replace(info, dirs=dirs)) if dirs else bi


def go_build_id(f: FileFacts) -> str | None:
    """The Go build ID (``.note.go.buildid``: note name ``Go``, type 4), or None if the file has none."""
    sec = f.elf.section(".note.go.buildid") if f.elf is not None else None
    raw = f.elf.section_bytes(sec) if f.elf is not None and sec is not None else b""
    if len(raw) < 16 or raw[12:16] != b"Go\0\0":
        return None
    size = int.from_bytes(raw[4:8], "little" if f.elf is not None and f.elf.little else "big")
    return raw[16 : 16 + size].decode("utf-8", "replace") or None


def _interp(elf: ElfFile) -> str | None:
    for seg in elf.segments:
        if seg.type == PT_INTERP:
            raw = elf.data[seg.offset : seg.offset + min(seg.filesz, 4096)]
            return raw.split(b"\0", 1)[0].decode("utf-8", "replace")
    return None


def _looks_go(elf: ElfFile) -> bool:
    return elf.section(".gopclntab") is not None or elf.find_symbol("runtime.firstmoduledata") is not None


def _pluginpath(elf: ElfFile, go: GoModuleFacts | None) -> tuple[str | None, str]:
    if go is not None and go.moduledata is not None and go.moduledata.pluginpath:
        return go.moduledata.pluginpath, f"moduledata.pluginpath ({go.moduledata.source})"
    sym = elf.find_symbol("go:link.thispluginpath", "symtab") or elf.find_symbol("go.link.thispluginpath", "symtab")
    if sym is not None and 0 < sym.size < 4096:
        raw = elf.read_va(sym.value, sym.size)
        if raw:
            return raw.decode("utf-8", "replace"), "symbol go:link.thispluginpath in .symtab"
    return None, "no plugin path: no plugin module data and no go:link.thispluginpath symbol"


def _classify(
    h: ElfHeader, dyn: DynamicFacts, bi: BuildInfoResult, go: GoModuleFacts | None, pluginpath: str | None
) -> tuple[str, str]:
    mode = bi.info.setting("-buildmode") if bi.info is not None else None
    is_go = bi.info is not None or go is not None
    if is_go:
        if mode == "plugin" or (mode is None and pluginpath):
            return "go-plugin", "Go build info says -buildmode=plugin" if mode else "has a plugin path"
        if mode == "c-shared":
            return "go-c-shared", "Go build info says -buildmode=c-shared"
        if mode == "shared":
            return "go-shared", "Go build info says -buildmode=shared"
        if mode == "pie" or (h.file_type == ET_DYN and (dyn.interp or dyn.pie)):
            return "go-pie", "a position-independent Go executable"
        if mode == "exe" or h.file_type == ET_EXEC:
            return "go-exe", "a Go executable"
        return (
            "go-other",
            f"a Go binary with -buildmode={mode}" if mode else "a Go binary of unknown build mode",
        )
    if h.file_type == ET_EXEC:
        return "executable", "an ELF executable (ET_EXEC), not Go"
    if h.file_type == ET_DYN and (dyn.interp or dyn.pie):
        return "pie-executable", "a position-independent ELF executable, not Go"
    if h.file_type == ET_DYN:
        return "c-shared", "an ELF shared library with no Go build info"
    names = {1: "relocatable object (ET_REL)", 4: "core dump (ET_CORE)", 0: "ELF file of type ET_NONE"}
    return "elf-other", f"an {names.get(h.file_type, f'ELF file of type {h.file_type}')}"


def read_symbols(f: FileFacts) -> tuple[Symbol, ...] | None:
    """The symbols ``Lookup`` finds in *f*, with their Go types; None if *f* is not a Go plugin."""
    if f.kind != "go-plugin" or f.elf is None or not f.pluginpath:
        return None
    go = f.go
    md = go.moduledata if go is not None else None
    if md is None or md.ptab is None:
        why = go.moduledata_reason if go is not None and go.moduledata_reason else "no plugin module data"
        return tuple(Symbol(name, None, None, f"exported symbol table unreadable: {why}") for name in f.exports)
    if md.types is None:
        # The ptab names are offsets from types too: only the .dynsym names are known.
        why = "the module data's types base is unknown (its layout has no types field)"
        return tuple(Symbol(name, None, None, why) for name in f.exports)
    try:
        return plugin_symbols(f.elf, md.ptab, md.types, f.go_version)
    except TypeReadError as exc:
        return tuple(Symbol(name, None, None, str(exc)) for name in f.exports)


def read_named_types(f: FileFacts) -> dict[str, NamedType]:
    """The named types *f* carries descriptors for, by identity (``import/path.Name``): what a contract's
    short package names resolve against, and where a named interface's methods are found. Read from the
    ``type:`` symbols of ``.symtab`` (go1.27 modules have no typelinks table), and for a plugin also from
    the types its exported symbols reference (all a stripped plugin tells)."""
    go, elf = f.go, f.elf
    if elf is None or go is None:
        return {}
    md = go.moduledata
    if not elf.symtab_present:
        if md is None or md.types is None or not md.ptab:
            return {}
        return named_types(elf, md.types, (), follow=[typ for _, typ in md.ptab], go_version=f.go_version)
    types = md.types if md is not None else None
    if types is None:  # an executable's module data, from its symbol (hosts are read without it)
        first = elf.find_symbol("runtime.firstmoduledata", "symtab")
        at = go.layout.offset("types") if go.layout is not None else None
        if first is None or at is None:
            return {}
        types = elf.read_ptr(first.value + at)
        if types is None:
            return {}
    offsets = [  # "type:" since go1.20, "type." before
        value - types
        for prefix in ("type:", "type.")
        for name, value, _ in elf.values_with_prefix(prefix, "symtab")
        if not name[len(prefix) :].startswith((".", "*", "func(", "struct", "map[", "[", "interface"))
    ]
    follow = [typ for _, typ in md.ptab] if md is not None and md.types == types and md.ptab else []
    return named_types(elf, types, offsets, follow=follow, go_version=f.go_version)

"""Facts about a Go module image (a plugin or a host): module data, plugin path, package fingerprints.

Where each fact lives (mirrors ``cmd/link/internal/ld/lib.go``, ``symtab.go`` and ``runtime/plugin.go``):

* ``go:link.pkghashbytes.<pkg>`` (``.dynsym``): the fingerprint bytes of each linked package, exported by
  plugins and by every program that links package ``plugin``; ``go:link.pkghash.<pkg>`` is the Go string
  header pointing at them. Old toolchains spelled the prefix ``go.link.``.
* ``runtime.moduledata`` of the plugin (``local.moduledata`` in ``.symtab``; without ``.symtab`` found as
  the one relocated word that points at the start of ``.gopclntab``, which is the ``pcHeader`` field):
  its ``pluginpath``, ``pkghashes`` (the table ``plugin.lastmoduleinit`` walks, in order), ``ptab``
  (exported symbols), ``types``.
* The layout of ``moduledata`` itself is read from the binary's own type descriptor
  ``type:runtime.moduledata`` (in ``.dynsym``), never from a table keyed by Go version. The offset of its
  ``next`` field is what a plugin's ``runtime.addmoduledata`` writes through ``runtime.lastmoduledatap``
  into the *host's* module data: when host and plugin disagree on it, the host never sees the plugin's
  module data and dies with ``fatal error: runtime: no plugin module data``.
"""

from __future__ import annotations

import functools
import re
import struct
from dataclasses import field

from soinspect._frozen import frozen
from soinspect.elf.file import ElfFile, Symbol
from soinspect.go import gotypes as _gotypes
from soinspect.go.layouts import LAYOUTS

PKGHASHBYTES_PREFIXES = ("go:link.pkghashbytes.", "go.link.pkghashbytes.")
PKGHASH_PREFIXES = ("go:link.pkghash.", "go.link.pkghash.")
MODULEDATA_TYPE_NAMES = ("type:runtime.moduledata", "type.runtime.moduledata")
#: pcHeader magics (runtime/symtab.go): Go 1.20+, 1.18-1.19, 1.16-1.17.
PCLNTAB_MAGICS = (0xFFFFFFF1, 0xFFFFFFF0, 0xFFFFFFFA)
_MAX_PKGHASHES = 1 << 16
_MAX_STRING = 1 << 20
_IDENT = re.compile(r"^[^\W\d][\w]*$")


@frozen
class PackageHash:
    """One entry of a module's package fingerprint table, as ``lastmoduleinit`` sees it."""

    package: str
    linktime_hash: str  # hex
    runtime_symbol: str | None  # the symbol the runtime hash pointer is relocated against


@frozen
class ModuleDataLayout:
    size: int
    offsets: tuple[tuple[str, int], ...]
    source: str

    def offset(self, name: str) -> int | None:
        for n, o in self.offsets:
            if n == name:
                return o
        return None


@frozen
class ModuleData:
    """The plugin's own ``runtime.moduledata``, as far as it could be read."""

    addr: int
    source: str
    pluginpath: str | None
    pkghashes: tuple[PackageHash, ...] | None
    ptab: tuple[tuple[int, int], ...] | None  # (name offset, type offset) pairs from go:plugin.tabs
    types: int | None
    etypes: int | None


@frozen
class GoModuleFacts:
    """Everything about the Go runtime side of one image that plugin loading depends on."""

    #: fingerprint bytes per package, from .dynsym (present in plugins and plugin-capable hosts)
    pkghash_bytes: dict[str, str]
    #: the image's moduledata type layout (from its own type descriptor), or None with a reason
    layout: ModuleDataLayout | None
    layout_reason: str
    #: the image defines or imports runtime.lastmoduledatap dynamically (how a plugin registers)
    dynamic_lastmoduledatap: bool
    #: the image exports runtime.firstmoduledata dynamically (a host a plugin can register into)
    exports_firstmoduledata: bool
    #: linker-generated init that calls runtime.addmoduledata (plugins and shared Go libraries)
    has_addmoduledata_init: bool
    moduledata: ModuleData | None
    moduledata_reason: str
    pclntab: int | None
    notes: tuple[str, ...] = field(default=())

    @property
    def next_offset(self) -> int | None:
        return self.layout.offset("next") if self.layout else None


def read_go_module(elf: ElfFile, go_version: str | None = None) -> GoModuleFacts:
    notes: list[str] = []
    pkghash_bytes = _pkghash_bytes(elf)
    layout, layout_reason = _moduledata_layout(elf)
    pclntab = _find_pclntab(elf)
    if layout is None:
        layout = _layout_without_descriptor(elf, go_version)
    md: ModuleData | None = None
    md_reason = ""
    addr, src = _locate_moduledata(elf, pclntab)
    if addr is None:
        md_reason = src
    elif layout is None:
        md_reason = f"moduledata found at {addr:#x} ({src}) but its layout is unknown: {layout_reason}"
    else:
        md = _read_moduledata(elf, addr, src, layout, notes)
    lastmd = elf.find_symbol("runtime.lastmoduledatap", defined=False) is not None
    has_init = elf.find_symbol("go:link.addmoduledata", "symtab") is not None or (
        lastmd and md is not None and md.pluginpath is not None
    )
    return GoModuleFacts(
        pkghash_bytes=pkghash_bytes,
        layout=layout,
        layout_reason=layout_reason,
        dynamic_lastmoduledatap=lastmd,
        exports_firstmoduledata=elf.find_symbol("runtime.firstmoduledata") is not None,
        has_addmoduledata_init=has_init,
        moduledata=md,
        moduledata_reason=md_reason,
        pclntab=pclntab,
        notes=tuple(notes),
    )


def _pkghash_bytes(elf: ElfFile) -> dict[str, str]:
    out: dict[str, str] = {}
    for prefix in PKGHASHBYTES_PREFIXES:
        for name, value, size in elf.values_with_prefix(prefix):
            raw = elf.read_va(value, size) if 0 < size <= 64 else None
            if raw is not None:
                out.setdefault(name[len(prefix) :], raw.hex())
    return out


def _moduledata_layout(elf: ElfFile) -> tuple[ModuleDataLayout | None, str]:
    for table, where in (("dynsym", ".dynsym"), ("symtab", ".symtab")):
        for name in MODULEDATA_TYPE_NAMES:
            sym = elf.find_symbol(name, table)
            if sym is None:
                continue
            hdr = _gotypes.read_header(elf, sym.value)
            fields = _gotypes.struct_field_offsets(elf, sym.value)
            if hdr is None or fields is None:
                return None, f"{name} in {where} is not a readable struct type descriptor"
            return ModuleDataLayout(hdr.size, tuple(fields), f"{name} in {where}"), ""
    return None, "no type:runtime.moduledata descriptor in .dynsym or .symtab"


def _layout_without_descriptor(elf: ElfFile, go_version: str | None) -> ModuleDataLayout | None:
    """Runtimes before Go 1.23 export no moduledata type descriptor. Their layouts are kept as data
    (``_layouts.py``, generated from each release's ``runtime/symtab.go``), picked by the Go release from
    the build info and checked against the ``next`` offset in the code of ``runtime.addmoduledata``;
    without build info (Go 1.19 plugins carry none), by that offset alone. An unknown release with no
    matching table gives just the ``next`` offset (enough for the host check) or nothing."""
    code_next = _next_offset_from_code(elf)
    minor = _minor(go_version) if go_version else None
    entry = LAYOUTS.get((minor, elf.ptrsize)) if minor else None
    if entry is not None:
        size, fields = entry
        table = ModuleDataLayout(size, fields, f"layout table for go{minor} (no type descriptor)")
        if code_next is None or table.offset("next") == code_next:
            return table
        return None  # the table contradicts the code: unknown, not a guess
    if code_next is None:
        return None
    if minor is not None:
        # A known release with no table (go1.18, go1.20): the next offset only, never another
        # release's layout that happens to agree on it.
        return ModuleDataLayout(0, (("next", code_next),), "the code of runtime.addmoduledata (no type descriptor)")
    matches = {
        entry for (ver, ptr), entry in LAYOUTS.items() if ptr == elf.ptrsize and dict(entry[1]).get("next") == code_next
    }
    if len(matches) == 1:
        size, fields = matches.pop()
        return ModuleDataLayout(size, fields, "layout table matched by the next offset in runtime.addmoduledata")
    return ModuleDataLayout(0, (("next", code_next),), "the code of runtime.addmoduledata (no type descriptor)")


def _minor(go_version: str) -> str | None:
    m = re.match(r"go(\d+)\.(\d+)", go_version)
    return f"{m.group(1)}.{m.group(2)}" if m else None


def _next_offset_from_code(elf: ElfFile) -> int | None:
    """amd64 ``runtime.addmoduledata``: ``mov %rdi, disp(%rax)`` stores the new module at ``next``."""
    if elf.header.machine != 62:
        return None
    sym = None
    for name in ("runtime.addmoduledata.abi0", "runtime.addmoduledata"):
        sym = elf.find_symbol(name) or elf.find_symbol(name, "symtab")
        if sym is not None:
            break
    if sym is None:
        return None
    code = elf.read_va(sym.value, 48) or b""
    m = re.search(rb"\x48\x89\xb8(....)", code, re.S) or re.search(rb"\x48\x89\x78(.)", code, re.S)
    return int.from_bytes(m.group(1), "little", signed=True) if m is not None else None


def _find_pclntab(elf: ElfFile) -> int | None:
    sec = elf.section(".gopclntab")
    if sec is not None and sec.addr:
        return sec.addr
    sym = elf.find_symbol("runtime.pclntab", "symtab") or elf.find_symbol("runtime.pclntab")
    if sym is not None:
        return sym.value
    return None


def _locate_moduledata(elf: ElfFile, pclntab: int | None) -> tuple[int | None, str]:
    sym = elf.find_symbol("local.moduledata", "symtab")
    if sym is not None:
        return sym.value, "symbol local.moduledata in .symtab"
    tables = [pclntab] if pclntab is not None else _scan_pclntab_magic(elf)
    if not tables:
        return None, "no .symtab, no .gopclntab section and no pcHeader magic found"
    for table in tables:
        addr, how = _moduledata_pointing_at(elf, table)
        if addr is not None:
            return addr, how
    return None, "no word in the data points at the pclntab"


def _moduledata_pointing_at(elf: ElfFile, pclntab: int) -> tuple[int | None, str]:
    """The moduledata whose first word (pcHeader) is *pclntab* and whose second (funcnametab) lies past it."""
    # In a shared object that word carries a relative relocation; find the relocated words whose value is
    # the pclntab. Bound: the relocations the file has.
    for off in elf.relative_relocations_to(pclntab):
        second = elf.read_ptr(off + elf.ptrsize)
        if second is not None and pclntab < second < pclntab + (1 << 30):
            return off, "relocated pointer to the pclntab (no .symtab)"
    if not elf.has_relocations:
        # Executables: absolute pointers in place. Scan writable data for the pclntab address.
        width = elf.ptrsize
        needle = pclntab.to_bytes(width, "little" if elf.little else "big")
        for seg in elf.segments:
            if seg.type != 1 or not seg.flags & 2:
                continue
            start, end = seg.offset, min(seg.offset + seg.filesz, len(elf.data))
            i = elf.data.find(needle, start, end)
            while i >= 0:  # bounded by the segment: find moves forward
                if (i - start) % width == 0:
                    return seg.vaddr + (i - start), "pointer to the pclntab in writable data (no .symtab)"
                i = elf.data.find(needle, i + 1, end)
    return None, ""


def _scan_pclntab_magic(elf: ElfFile) -> list[int]:
    """Addresses of pcHeader magics (``magic, 0, 0, minLC, ptrSize``), pointer-aligned, in any PT_LOAD:
    Go 1.2x puts the pclntab of an externally linked ``-s -w`` plugin inside writable ``.data.rel.ro``.
    In segment order, then in the order of :data:`PCLNTAB_MAGICS`, then by address.

    One pass per segment for what every magic ends with (``ff ff ff``, then the two zero pads, ``minLC``
    and the pointer size: each magic is ``0xffffff??``), the byte before telling the magics apart: a
    search for each magic in turn made as many passes. The pass is a regular expression (:func:`_pcheader_tail`):
    ``bytes.find`` of the five bytes ``ff ff ff 00 00`` alone ran at about 1 ns a byte (binaries are full of
    ``ff`` and ``00``), the expression at about 0.6 ns (1.2 -> 0.8 ms on a 1.1 MB plugin). Two matches of it
    cannot overlap (no shift of it by 1 to 6 bytes agrees with itself), so its matches are every place it
    occurs."""
    out: list[int] = []
    lead = {m & 0xFF: m for m in PCLNTAB_MAGICS}  # little-endian: the magic's low byte first
    for seg in elf.segments:
        if seg.type != 1 or seg.offset >= len(elf.data):  # no byte of it in the file (and an offset of up to
            continue  # 2**64-1 is no index a regular expression's search takes: OverflowError)
        start, end = seg.offset, min(seg.offset + seg.filesz, len(elf.data))
        found: dict[int, list[int]] = {m: [] for m in PCLNTAB_MAGICS}
        if elf.little:
            for match in _pcheader_tail(elf.ptrsize).finditer(elf.data, start + 1, end):  # bound: the segment
                i = match.start()
                magic = lead.get(elf.data[i - 1])
                if magic is not None:
                    found[magic].append(i - 1)
        else:
            tail = b"\x00\x00"  # big-endian: ff ff ff ?? 00 00, found by its pads and checked below
            for magic in PCLNTAB_MAGICS:
                needle = magic.to_bytes(4, "big") + tail
                i = elf.data.find(needle, start, end)
                while i >= 0:
                    found[magic].append(i)
                    i = elf.data.find(needle, i + 1, end)
        for magic in PCLNTAB_MAGICS:
            for i in found[magic]:
                if len(out) >= _MAX_PCLNTAB_CANDIDATES:
                    return out
                va = seg.vaddr + (i - start)
                if (
                    i + 8 <= end
                    and va % elf.ptrsize == 0
                    and elf.data[i + 6] in (1, 2, 4)
                    and elf.data[i + 7] == elf.ptrsize
                ):
                    out.append(va)
    return out


_MAX_PCLNTAB_CANDIDATES = 64


@functools.cache
def _pcheader_tail(ptrsize: int) -> re.Pattern[bytes]:
    """A little-endian pcHeader from the second byte of its magic on: ``ff ff ff``, the pads ``00 00``,
    ``minLC`` 1, 2 or 4 (x86, arm, ...: ``runtime/symtab.go`` checks no more) and *ptrsize*."""
    return re.compile(rb"\xff\xff\xff\x00\x00[\x01\x02\x04]" + re.escape(bytes([ptrsize])))


def read_go_string(elf: ElfFile, addr: int) -> str | None:
    """A Go string header ``{data *byte; len int}`` at *addr*."""
    return _go_string_at(elf, elf.read_ptr(addr), elf.read_uint(addr + elf.ptrsize, elf.ptrsize))


def _go_string_at(elf: ElfFile, data: int | None, length: int | None) -> str | None:
    """The Go string of *length* bytes at *data* (a string header's two words, None where unreadable)."""
    if data is None or length is None or length > _MAX_STRING:
        return None
    if length == 0:
        return ""
    raw = elf.read_va(data, length)
    return raw.decode("utf-8", "replace") if raw is not None else None


def _symtab_string(elf: ElfFile, names: tuple[str, ...]) -> str | None:
    for name in names:
        sym = elf.find_symbol(name, "symtab")
        if sym is not None and 0 < sym.size < 4096:
            raw = elf.read_va(sym.value, sym.size)
            if raw is not None:
                return raw.decode("utf-8", "replace")
    return None


def _read_slice(elf: ElfFile, addr: int) -> tuple[int, int] | None:
    data = elf.read_ptr(addr)
    length = elf.read_uint(addr + elf.ptrsize, elf.ptrsize)
    if data is None or length is None:
        return None
    return data, length


def _read_moduledata(elf: ElfFile, addr: int, source: str, layout: ModuleDataLayout, notes: list[str]) -> ModuleData:
    p = elf.ptrsize
    pluginpath: str | None = None
    off = layout.offset("pluginpath")
    if off is not None:
        pluginpath = read_go_string(elf, addr + off)
    else:
        pluginpath = _symtab_string(elf, ("go:link.thispluginpath", "go.link.thispluginpath"))
    pkghashes: tuple[PackageHash, ...] | None = None
    off = layout.offset("pkghashes")
    sl: tuple[int, int] | None = None
    if off is not None:
        sl = _read_slice(elf, addr + off)
    else:
        tsym = elf.find_symbol("go:link.pkghashes", "symtab") or elf.find_symbol("go.link.pkghashes", "symtab")
        if tsym is not None:
            sl = (tsym.value, tsym.size // (5 * p))
    if sl is not None and sl[1] <= _MAX_PKGHASHES:
        entries: list[PackageHash] = []
        ent = 5 * p  # modulehash{modulename string; linktimehash string; runtimehash *string}
        # the array in one read where it lies in one segment (as read_ptr and read_uint read each word): the
        # two string pointers of each entry read as pointers; its runtime hash pointer is read for the name
        # of the symbol it is relocated against (reloc_symbol), never as a value
        words = elf.read_words(sl[0], 5 * sl[1], every=5, at=(0, 2))
        for i in range(sl[1]):
            e = sl[0] + i * ent
            lt_ptr: int | None
            lt_len: int | None
            if words is not None:
                name = _go_string_at(elf, words[1][5 * i], words[0][5 * i + 1])
                lt_ptr, lt_len = words[1][5 * i + 2], words[0][5 * i + 3]
            else:
                name = read_go_string(elf, e)
                lt_ptr, lt_len = elf.read_ptr(e + 2 * p), elf.read_uint(e + 3 * p, p)
            if name is None or lt_ptr is None or lt_len is None or lt_len > 64:
                notes.append(f"pkghashes entry {i} at {e:#x} is unreadable")
                entries = []
                break
            lt = elf.read_va(lt_ptr, lt_len) or b""
            entries.append(PackageHash(name, lt.hex(), elf.reloc_symbol(e + 4 * p)))
        else:
            pkghashes = tuple(entries)
    ptab: tuple[tuple[int, int], ...] | None = None
    off = layout.offset("ptab")
    sl = None
    if off is not None:
        sl = _read_slice(elf, addr + off)
    else:
        tsym = elf.find_symbol("go:plugin.tabs", "symtab") or elf.find_symbol("go.plugin.tabs", "symtab")
        if tsym is not None:
            sl = (tsym.value, tsym.size // 8)
    if sl is not None and sl[1] <= 1 << 16:
        raw = elf.read_va(sl[0], sl[1] * 8)
        if raw is not None:
            ptab = tuple((a, b) for a, b in struct.iter_unpack(("<" if elf.little else ">") + "ii", raw))
    types = etypes = None
    if (o := layout.offset("types")) is not None:
        types = elf.read_ptr(addr + o)
    if (o := layout.offset("etypes")) is not None:
        etypes = elf.read_ptr(addr + o)
    return ModuleData(addr, source, pluginpath, pkghashes, ptab, types, etypes)


def exported_symbols(elf: ElfFile, pluginpath: str) -> list[Symbol]:
    """Symbols ``<pluginpath>.<Name>`` in .dynsym whose Name is an exported Go identifier."""
    prefix = pluginpath + "."
    out = []
    for sym in elf.symbols_with_prefix(prefix):
        rest = sym.name[len(prefix) :]
        if _IDENT.match(rest) and rest[0].isupper():
            out.append(sym)
    return sorted(out, key=lambda s: s.name)

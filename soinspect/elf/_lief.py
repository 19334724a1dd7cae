"""The only module that imports LIEF.

It configures LIEF once (lean :class:`lief.ELF.ParserConfig`, logging off) and hands it the file's bytes
through a raw stream that soinspect controls (:class:`_Stream`: LIEF reads straight into its own buffer,
at most the size that was checked against ``--max-size``). LIEF decides whether the headers can be parsed:
a ``None`` from it or any exception it raises becomes :class:`~soinspect.errors.MalformedError` naming
the file. The values soinspect keeps (the frozen
dataclasses of :mod:`soinspect.elf.structs`) are read from the file's own tables, as glibc's loader and
Go's ``debug/elf`` read them (:func:`raw_layout`): LIEF rewrites, drops or guesses some of them, and
differently at each release. No LIEF object leaves this module.

Supported LIEF: 0.15.1 up to 1.0.x (``pyproject.toml``; CI runs the suite at both ends). The stream is the
one input every release in that range accepts (0.15 takes no ``bytes``), and it costs no copy on our side.
LIEF only ever sees a file that `soinspect.elf.file._parse` has checked starts with an ELF
identification and holds its header; where LIEF 0.15/0.16 still return None they take a reference to
None with it, which :func:`_parse_or_raise` gives back.

Tables that are large (``.dynsym``, ``.dynstr``, relocations) are *not* taken from LIEF as one Python
object per entry: :mod:`soinspect.elf.file` slices them out of the raw bytes in bulk, which is what keeps a
full audit within a small multiple of ``go version -m``.
"""

from __future__ import annotations

import functools
import io
import struct
import sys
import threading
from collections.abc import Callable
from typing import Any

from soinspect.elf.structs import (
    DT_NULL,
    ELFCLASS64,
    ELFDATA2LSB,
    PT_DYNAMIC,
    PT_LOAD,
    SHT_NOBITS,
    DynEntry,
    ElfHeader,
    ElfLayout,
    Section,
    Segment,
)
from soinspect.errors import MalformedError


@functools.cache
def _lief() -> Any:
    # Imported lazily: `soinspect --help` should not pay for it (0.05 s with LIEF 0.15, 0.5 s with 0.16+).
    import lief

    lief.logging.disable()
    return lief


@functools.cache
def _config() -> Any:
    lief = _lief()
    config = lief.ELF.ParserConfig()
    # We read symbols, relocations and notes ourselves from the raw bytes, in bulk.
    config.parse_relocations = False
    config.parse_symtab_symbols = False
    config.parse_dyn_symbols = False
    config.parse_symbol_versions = False
    config.parse_notes = False
    config.parse_overlay = False
    return config


#: fills ``buffer`` with the file's bytes from ``offset`` on; returns how many it wrote (short at the end)
ReadInto = Callable[[memoryview, int], int]


class _Stream(io.RawIOBase):
    """A read-only raw stream of exactly *size* bytes, served by *read_into*.

    Every LIEF release in the supported range reads a Python stream the same way: seek to the end, tell,
    seek back, then one ``readinto`` of a buffer of its own of that size. The size is the one soinspect
    checked, so a file that grows afterwards cannot make LIEF read more.
    """

    def __init__(self, size: int, read_into: ReadInto, *, patches: dict[int, bytes] | None = None) -> None:
        super().__init__()
        self._size = size
        self._read_into = read_into
        self._pos = 0
        self._patches = patches or {}  # offset -> the bytes LIEF reads there instead of the file's

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = min(max(0, base + offset), self._size)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        want = min(len(view), self._size - self._pos)
        if want <= 0:
            return 0
        got = self._read_into(view[:want], self._pos)
        for at, value in self._patches.items():  # what parse_layout hides from LIEF, where this read covers it
            lo, hi = max(at, self._pos), min(at + len(value), self._pos + got)
            if lo < hi:
                view[lo - self._pos : hi - self._pos] = value[lo - at : hi - at]
        self._pos += got
        return got


#: offset of e_machine in the ELF header (both classes)
_E_MACHINE = 18


#: the *n* bytes of the file at *offset* (fewer at its end)
Read = Callable[[int, int], bytes]


def parse_layout(path: str, size: int, read_into: ReadInto, read: Read) -> ElfLayout:
    """Parse the ELF header, the program and section headers and the dynamic table of the *size*-byte file
    whose bytes *read_into* serves (LIEF's copy) and *read* gives (the tables, read again here):
    :func:`check_parses`, then :func:`raw_layout`."""
    check_parses(path, size, read_into, read)
    return raw_layout(read, size)


def check_parses(path: str, size: int, read_into: ReadInto, read: Read, head: bytes | None = None) -> None:
    """LIEF decides whether the headers of the *size*-byte file whose bytes *read_into* serves can be
    parsed at all (its rejection is one :class:`MalformedError`); *read* gives the header bytes this
    looks at first (*head*: the file's first bytes, where the caller has read them already). Nothing of
    what LIEF read is kept: the values handed over are the file's own (:func:`raw_layout`)."""
    lief = _lief()
    head = head[:64] if head is not None and len(head) >= 64 else read(0, 64)
    hide = _hidden_from_lief(head, read, size)
    binary = _parse_or_raise(path, lief, _Stream(size, read_into, patches=hide))
    if int(binary.type.value) != int(binary.header.identity_class.value):
        # LIEF 0.15 and 0.16 guess the class from e_machine when EI_CLASS disagrees with it (an x86-64
        # e_machine is parsed as ELF64 whatever EI_CLASS says); glibc, and LIEF from 0.17 on, read the
        # headers at the width EI_CLASS gives. Parse again with e_machine hidden (EM_NONE), so that
        # EI_CLASS decides whether LIEF can parse the file.
        binary = _parse_or_raise(path, lief, _Stream(size, read_into, patches={**hide, _E_MACHINE: b"\0\0"}))
    del binary


#: e_shoff, e_shnum and e_shstrndx all 0 (no section header table), by class: ELF64, ELF32
_NO_SECTION_TABLE = {True: {40: bytes(8), 60: bytes(4)}, False: {32: bytes(4), 48: bytes(4)}}


def _hidden_from_lief(head: bytes, read: Read, size: int) -> dict[int, bytes]:
    """The bytes LIEF reads otherwise than the file has them (offset -> bytes), in the section header table
    alone, which glibc never reads and soinspect reads itself (:func:`raw_layout`):

    * a table soinspect does not read (it runs past the end of the file, or its entries are smaller than
      the gABI's) is hidden whole (no table): LIEF 0.15 spent 5.6 s and 4 GiB on 59,904 entries of
      ``e_shentsize`` 0 (found by the buildinfo harness);
    * a section whose ``sh_offset + sh_size`` runs past the end of the file is shown cut at the end of the
      file (``sh_size`` the bytes the file has from ``sh_offset``, 0 past its end): LIEF 0.15.1 spent
      1.5-4.9 s and 2 GiB on one ``sh_size`` of 2**64 - 1, whatever the section (``.plt``, ``.dynsym``,
      ``.bss``: found by the structured-mutation property test), and 0.2 s on 2**40.
    """
    is64 = head[4] == ELFCLASS64
    e = "<" if head[5] == ELFDATA2LSB else ">"
    shoff = struct.unpack_from(e + ("Q" if is64 else "I"), head, 40 if is64 else 32)[0]
    shentsize, e_shnum = struct.unpack_from(e + "HH", head, 58 if is64 else 46)
    shnum, _ = _section_count(read, size, is64, e, shoff, shentsize, e_shnum)
    if shnum == 0:
        return {}
    if not _table_in_file(size, is64, shoff, shentsize, shnum):
        return _NO_SECTION_TABLE[is64]
    table = read(shoff, shnum * shentsize)
    at, word = (24, "Q") if is64 else (16, "I")  # sh_offset, then sh_size right after it
    offset_size = struct.Struct(e + 2 * word)
    hide: dict[int, bytes] = {}
    for row in range(0, len(table) - shentsize + 1, shentsize):  # bound: the table is in the file
        s_offset, s_size = offset_size.unpack_from(table, row + at)
        if s_offset + s_size > size:
            cut = max(0, size - s_offset)
            hide[shoff + row + at + offset_size.size // 2] = struct.pack(e + word, cut)
    return hide


def _section_count(
    read: Read, size: int, is64: bool, e: str, shoff: int, shentsize: int, e_shnum: int
) -> tuple[int, tuple[int, ...] | None]:
    """The number of section headers and section 0's row (None where it cannot be read): ``e_shnum``, with
    the gABI's escape (0 when the count is >= SHN_LORESERVE, the real one in section 0's ``sh_size``); none
    at all where ``e_shoff`` is 0 (Go refuses that with a count, file.go "invalid ELF shnum for shoff=0";
    pyelftools counts none; glibc never reads sections)."""
    shsize = _SIZES[is64][2]
    sec0 = read(shoff, shsize) if shoff and shentsize >= shsize and shoff < size else b""
    first = _SH_ENTRY[is64, e].unpack(sec0) if len(sec0) == shsize else None
    if not shoff:
        return 0, first
    if e_shnum == 0:
        return (first[5] if first is not None else 0), first
    return e_shnum, first


def _table_in_file(size: int, is64: bool, shoff: int, shentsize: int, shnum: int) -> bool:
    """A section header table soinspect reads: entries at least the gABI's size, wholly inside the file
    (Go reads the whole table or refuses the file; glibc never reads it)."""
    return shentsize >= _SIZES[is64][2] and shoff + shnum * shentsize <= size


#: an Elf_Shdr (name, type, flags, addr, offset, size, link, info, addralign, entsize) by (class, order)
_SH_ENTRY = {(w, e): struct.Struct(e + ("IIQQQQIIQQ" if w else "IIIIIIIIII")) for w in (True, False) for e in "<>"}


#: gABI entry sizes: (ELF header, program header, section header, dynamic entry) by class
_SIZES = {False: (52, 32, 40, 8), True: (64, 56, 64, 16)}
_PAGE = 4096  # the smallest page a loader maps: the bytes of a segment's last page up to here are mapped
_SHN_XINDEX = 0xFFFF
_SHT_NULL = 0


def raw_layout(read: Read, size: int) -> ElfLayout:
    """The headers and the dynamic table as the file has them, read as glibc and Go's ``debug/elf`` read
    them (``debug/elf/file.go`` ``NewFile``; glibc ``elf/dl-load.c``), at the width ``EI_CLASS`` gives and in
    the byte order ``EI_DATA`` gives: a type or tag value LIEF's enums do not name is kept as the file has
    it, as glibc (which skips the types it does not know) and Go do (the LIEF releases name different
    sets: 1.0 refused values 0.15 took, so rejecting them gave one file two answers). ``file._parse`` has
    checked both bytes, that the ELF header is in the file and that the program header table lies inside
    it.

    Where LIEF gave other values (seen by the fuzzers against pyelftools): ``e_type`` and ``e_machine`` of a
    big-endian header read little-endian; unknown ``p_type`` values as 0; ``p_flags`` bits outside RWX
    dropped; a ``p_filesz`` rewritten from damaged section headers; processor-specific section types with
    an architecture offset added (0.15); ``d_tag`` read unsigned (it is ``Elf64_Sxword``); ``e_shnum``
    where ``e_shoff`` is 0 (no table); section names running past their table; every segment after one
    cut by the end of the file dropped (0.15).
    """
    head = read(0, 64)
    is64 = head[4] == ELFCLASS64
    e = "<" if head[5] == ELFDATA2LSB else ">"
    _, phsize, _, dynsize = _SIZES[is64]
    if is64:
        etype, machine, _version, entry, phoff, shoff, flags = struct.unpack_from(e + "HHIQQQI", head, 16)
        phentsize, phnum, shentsize, e_shnum, shstrndx = struct.unpack_from(e + "HHHHH", head, 54)
    else:
        etype, machine, _version, entry, phoff, shoff, flags = struct.unpack_from(e + "HHIIIII", head, 16)
        phentsize, phnum, shentsize, e_shnum, shstrndx = struct.unpack_from(e + "HHHHH", head, 42)
    sh_entry = _SH_ENTRY[is64, e]
    shnum, first = _section_count(read, size, is64, e, shoff, shentsize, e_shnum)
    if shstrndx == _SHN_XINDEX and first is not None:
        shstrndx = first[6]

    # Program headers: e_phnum entries of e_phentsize bytes (glibc reads e_phnum, l_phnum =
    # header->e_phnum, and refuses an e_phentsize other than the entry size: the loader model says so).
    # An e_phentsize below the entry size cannot hold one (Go: file.go "invalid ELF phentsize"): none read.
    segments: list[Segment] = []
    if phnum and phentsize >= phsize:
        table = read(phoff, phnum * phentsize)
        fmt = struct.Struct(e + ("IIQQQQQQ" if is64 else "IIIIIIII"))
        for i in range(len(table) // phentsize):  # bound: e_phnum <= 0xffff, the table is in the file
            if is64:
                ptype, pflags, offset, vaddr, _paddr, filesz, memsz, _align = fmt.unpack_from(table, i * phentsize)
            else:
                ptype, offset, vaddr, _paddr, filesz, memsz, pflags, _align = fmt.unpack_from(table, i * phentsize)
            segments.append(Segment(ptype, pflags, offset, vaddr, filesz, memsz))  # positional: a faster call

    # Section headers: only a table _table_in_file. Otherwise none: a file without section headers, as a
    # stripped one.
    sections: list[Section] = []
    if shnum and _table_in_file(size, is64, shoff, shentsize, shnum):
        data = read(shoff, shnum * shentsize)
        rows = [sh_entry.unpack_from(data, i * shentsize) for i in range(len(data) // shentsize)]  # <= size/64
        names = _section_names(read, size, rows, shstrndx)
        for row, name in zip(rows, names, strict=True):
            _, stype, sflags, addr, offset, ssize, _link, _info, _align, entsize = row
            sections.append(
                Section(name, stype, sflags, addr, offset, ssize, entsize)  # the field order of Section
            )

    header = ElfHeader(
        elf_class=head[4],
        data_encoding=head[5],
        os_abi=head[7],
        file_type=etype,
        machine=machine,
        entry=entry,
        phoff=phoff,
        phnum=phnum,
        shoff=shoff,
        shnum=shnum,
        flags=flags,
    )
    return ElfLayout(
        header=header,
        sections=tuple(sections),
        segments=tuple(segments),
        dynamic=_dynamic(read, size, segments, is64, e, dynsize),
    )


def _section_names(read: Read, size: int, rows: list[tuple[int, ...]], shstrndx: int) -> list[str]:
    """Section names as Go's ``debug/elf`` reads them (``getString``): the NUL-terminated string at
    ``sh_name`` inside the section name table, or "" when ``sh_name`` is past its end or no NUL follows
    before it; a table cut by the end of the file holds the bytes that are in it. No table (``e_shstrndx``
    0, out of range, or NOBITS): every name is ""."""
    table = b""
    if 0 < shstrndx < len(rows):
        _, kind, _, _, str_off, str_size = rows[shstrndx][:6]
        if kind != SHT_NOBITS and str_off < size:
            table = read(str_off, min(str_size, size - str_off))
    names = []
    for row in rows:
        at = row[0]
        end = table.find(b"\0", at) if at < len(table) else -1
        names.append(table[at:end].decode("utf-8", "replace") if end >= 0 else "")
    return names


def _dynamic(read: Read, size: int, segments: list[Segment], is64: bool, e: str, entsize: int) -> tuple[DynEntry, ...]:
    """The dynamic table where glibc's loader reads it (elf/dl-load.c ``_dl_map_object_from_fd``): the last
    PT_DYNAMIC's (each one overwrites ``l_ld``), at its ``p_vaddr`` in the file bytes of the PT_LOAD that
    maps it (``l_ld`` is ``p_vaddr`` plus the load bias; ``p_offset`` is never read: seen on glibc 2.36,
    a moved ``p_offset`` loads), entry by entry up to and including DT_NULL, as ``elf_get_dynamic_info``
    walks it (``d_tag`` is signed: ``Elf64_Sxword``). The walk reads memory as the mapping has it: the
    PT_LOAD's file bytes, and after them, where the table has no DT_NULL there, what the loader maps next:
    zeros where ``p_memsz`` exceeds ``p_filesz`` (glibc clears the rest of the last page and maps zeros
    after it: a DT_NULL), else the file's bytes to the end of the last 4 KiB page the segment maps (its
    mapping is whole pages of the file; past the end of the file, ``mmap`` gives zeros to that page's end).
    What lies past that page (another segment's pages, or nothing) is not modelled: the walk ends there.
    A PT_DYNAMIC of no file bytes holds none (glibc 2.36 refuses the file: "object file has no dynamic
    section"), nor one whose address no PT_LOAD maps from the file."""
    dyn = next((s for s in reversed(segments) if s.type == PT_DYNAMIC), None)
    if dyn is None or dyn.filesz == 0:
        return ()
    load = next(
        (s for s in segments if s.type == PT_LOAD and s.vaddr <= dyn.vaddr < s.vaddr + s.filesz),
        None,
    )
    if load is None:
        return ()
    start = load.offset + (dyn.vaddr - load.vaddr)
    file_end = load.offset + load.filesz
    if load.memsz > load.filesz and file_end <= size:
        end, zeros = file_end, True  # the rest of the segment's memory is zeros
    else:  # the rest of its last page, from the file; past the end of the file, zeros to that page's end
        end = min(-(-file_end // _PAGE) * _PAGE, size)
        zeros = end == size and size % _PAGE != 0
    tail = bytes(2 * entsize) if zeros else b""  # an entry the bytes end inside, then a DT_NULL
    fmt = struct.Struct(e + ("qQ" if is64 else "iI"))
    out: list[DynEntry] = []
    at = start
    while at < end:  # bound: the mapped bytes that are in the file, then the tail
        chunk = read(at, min(end - at, entsize << 10))
        last = at + len(chunk) >= end
        if last:
            chunk += tail
        n = len(chunk) // entsize
        for i in range(n):
            tag, value = fmt.unpack_from(chunk, i * entsize)
            out.append(DynEntry(tag, value))
            if tag == DT_NULL:
                return tuple(out)
        if n == 0 or last:
            break
        at += n * entsize
    return tuple(out)


def _text(value: Any) -> str:
    """A name as LIEF gives it: a str, or bytes when it is not UTF-8 (``str()`` of those would be their
    repr, ``"b'...'"``); decoded as every other name in soinspect is, one U+FFFD per invalid run."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


#: how many references to None LIEF took and :func:`_give_back_none` gave back (a figure for the tests)
_NONE_GIVEN_BACK = [0]

#: (the thread whose frame holds the list, the list) of :func:`_give_back_none`
_NONE_KEEPER: tuple[threading.Thread, list[None]] | None = None


def _keep_forever(held: list[None], never: threading.Lock) -> None:
    never.acquire()  # blocks for the life of the process; ``held`` stays in this frame


def _give_back_none() -> None:
    """One reference to None that is never released, for the one LIEF 0.15/0.16 took (:func:`_parse_or_raise`).

    A list kept by this module would not do: it releases its references when the interpreter clears the
    module at exit, and None's count then reaches 0 as early as without it. The reference must never be
    released, as the stolen one never was taken. It is held by the frame of a daemon thread that waits
    forever: the interpreter never unwinds such a frame at exit, so what it holds is never released (pure
    Python; no C API). Started on the first stolen reference, again in a process forked after it."""
    global _NONE_KEEPER
    if _NONE_KEEPER is None or not _NONE_KEEPER[0].is_alive():
        held: list[None] = []
        never = threading.Lock()
        never.acquire()
        keeper = threading.Thread(target=_keep_forever, args=(held, never), name="soinspect-none", daemon=True)
        keeper.start()
        _NONE_KEEPER = (keeper, held)
    _NONE_KEEPER[1].append(None)
    _NONE_GIVEN_BACK[0] += 1


def _parse_or_raise(path: str, lief: Any, stream: _Stream) -> Any:
    before = sys.getrefcount(None)
    try:
        binary = lief.ELF.parse(stream, _config())
    except Exception as exc:  # LIEF raises its own assorted exception types
        raise MalformedError(path, f"the ELF parser rejected the file: {exc}") from None
    if binary is None:
        # LIEF 0.15 and 0.16 return None without the reference that goes with it: each such return
        # lowers None's reference count by one, and on CPython 3.11 (where None is not immortal) the
        # interpreter aborts ("Fatal Python error: none_dealloc") once enough have been lost, at the
        # latest at exit. `binary` holds the reference that was returned; where the count did not go up
        # by it, LIEF took it, and it is given back. From CPython 3.12 None is immortal: nothing to do.
        if sys.version_info < (3, 12) and sys.getrefcount(None) - before < 1:
            _give_back_none()
        raise MalformedError(path, "the ELF parser could not read the ELF headers", offset=0)
    return binary

"""The only module that imports LIEF.

It configures LIEF once (lean :class:`lief.ELF.ParserConfig`, logging off), hands it the file's bytes
through a raw stream that soinspect controls (:class:`_Stream`: LIEF reads straight into its own buffer,
at most the size that was checked against ``--max-size``), and turns what LIEF returns into the project's
own frozen dataclasses (:class:`soinspect.elf.structs.ElfHeader` and friends). A ``None`` from LIEF, or
any exception it raises, becomes :class:`~soinspect.errors.MalformedError` naming the file. No LIEF
object leaves this module.

Supported LIEF: 0.15.1 up to 1.0.x (``pyproject.toml``; CI runs the suite at both ends). The stream is the
one input every release in that range accepts (0.15 takes no ``bytes``), and it costs no copy on our side.
LIEF only ever sees a file that `soinspect.elf.file._parse` has checked starts with an ELF
identification and holds its header: 0.15 and 0.16 mishandle the reference count of None when they return
None for a file they cannot identify (the interpreter aborts at exit after some tens of them).

Tables that are large (``.dynsym``, ``.dynstr``, relocations) are *not* taken from LIEF as one Python
object per entry: :mod:`soinspect.elf.file` slices them out of the raw bytes in bulk, which is what keeps a
full audit within a small multiple of ``go version -m``.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import struct
import warnings
from collections.abc import Callable
from typing import Any

from soinspect.elf.structs import (
    ELFCLASS64,
    ELFDATA2LSB,
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

    def __init__(self, size: int, read_into: ReadInto, *, mask_machine: bool = False) -> None:
        super().__init__()
        self._size = size
        self._read_into = read_into
        self._pos = 0
        self._mask_machine = mask_machine

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
        if self._mask_machine and self._pos <= _E_MACHINE and self._pos + got >= _E_MACHINE + 2:
            view[_E_MACHINE - self._pos : _E_MACHINE - self._pos + 2] = b"\0\0"  # EM_NONE: see parse_layout
        self._pos += got
        return got


#: offset of e_machine in the ELF header (both classes)
_E_MACHINE = 18


#: the *n* bytes of the file at *offset* (fewer at its end)
Read = Callable[[int, int], bytes]


def parse_layout(path: str, size: int, read_into: ReadInto, read: Read) -> ElfLayout:
    """Parse the ELF header, the program and section headers and the dynamic table of the *size*-byte file
    whose bytes *read_into* serves (LIEF's copy) and *read* gives (the few tables read again here)."""
    lief = _lief()
    binary = _parse_or_raise(path, lief, _Stream(size, read_into))
    machine: int | None = None
    if int(binary.type.value) != int(binary.header.identity_class.value):
        # LIEF 0.15 and 0.16 guess the class from e_machine when EI_CLASS disagrees with it (an x86-64
        # e_machine is parsed as ELF64 whatever EI_CLASS says); glibc, and LIEF from 0.17 on, read the
        # headers at the width EI_CLASS gives. Parse again with e_machine hidden (EM_NONE), so that
        # EI_CLASS decides, and keep the real e_machine.
        machine = int(binary.header.machine_type.value)
        binary = _parse_or_raise(path, lief, _Stream(size, read_into, mask_machine=True))
    try:
        with warnings.catch_warnings():
            # LIEF warns (RuntimeWarning) when a type field holds a value its enum does not name; the
            # raw value is all we keep, and a hostile file must not turn into warning text on stderr.
            warnings.simplefilter("ignore")
            layout = _names_as_go_reads_them(read, size, _convert(binary, machine))
            return _raw_segment_flags(read, size, layout)
    except (AttributeError, ValueError, TypeError, OverflowError) as exc:
        raise MalformedError(path, f"inconsistent ELF headers: {exc}") from None


def _names_as_go_reads_them(read: Read, size: int, layout: ElfLayout) -> ElfLayout:
    """Section names as Go's ``debug/elf`` reads them: the NUL-terminated string at ``sh_name`` inside the
    section name table, or "" when ``sh_name`` is past its end or no NUL follows before it (LIEF took
    the bytes up to the table's end, and a name could be made of whatever follows the table).

    Only where LIEF's sections are the file's section header table entry for entry; else LIEF's names."""
    h = layout.header
    is64 = h.elf_class == ELFCLASS64
    e = "<" if h.data_encoding == ELFDATA2LSB else ">"
    shentsize, shnum, shstrndx = struct.unpack_from(e + "HHH", read(0, 64), 58 if is64 else 46)
    entry = struct.Struct(e + ("IIQQQQ" if is64 else "IIIIII"))  # name, type, flags, addr, offset, size
    if shnum != len(layout.sections) or shentsize < entry.size or h.shoff + shnum * shentsize > size:
        return layout
    data = read(h.shoff, shnum * shentsize)  # the section header table, inside the file (checked above)
    if len(data) != shnum * shentsize:
        return layout
    if shstrndx == _SHN_XINDEX and shnum:  # the real index is in section 0's sh_link
        shstrndx = struct.unpack_from(e + "I", data, 40 if is64 else 24)[0]
    if shstrndx >= shnum:
        return layout
    _, kind, _, _, str_off, str_size = entry.unpack_from(data, shstrndx * shentsize)
    if kind == SHT_NOBITS or str_off + str_size > size:
        return layout
    table = read(str_off, str_size)
    names = []
    for i in range(shnum):  # shnum equals the number of LIEF sections: a count LIEF already walked
        at = entry.unpack_from(data, i * shentsize)[0]
        end = table.find(b"\0", at) if at < len(table) else -1
        names.append(table[at:end].decode("utf-8", "replace") if end >= 0 else "")
    return dataclasses.replace(
        layout, sections=tuple(dataclasses.replace(s, name=n) for s, n in zip(layout.sections, names, strict=True))
    )


_SHN_XINDEX = 0xFFFF


def _raw_segment_flags(read: Read, size: int, layout: ElfLayout) -> ElfLayout:
    """``p_flags`` as the file has them: LIEF's flag enum keeps only PF_R, PF_W and PF_X and drops the
    OS- and processor-specific bits. Only where LIEF's segments are the program header table entry for
    entry (``_check_header_tables`` has checked that the table lies inside the file)."""
    h = layout.header
    is64 = h.elf_class == ELFCLASS64
    e = "<" if h.data_encoding == ELFDATA2LSB else ">"
    phentsize, phnum = struct.unpack_from(e + "HH", read(0, 64), 54 if is64 else 42)
    at = 4 if is64 else 24  # p_flags follows p_type in ELF64, comes after p_memsz in ELF32
    if phnum != len(layout.segments) or phentsize < at + 4 or h.phoff + phnum * phentsize > size:
        return layout
    data = read(h.phoff, phnum * phentsize)
    if len(data) != phnum * phentsize:
        return layout
    flags = [struct.unpack_from(e + "I", data, i * phentsize + at)[0] for i in range(phnum)]
    return dataclasses.replace(
        layout,
        segments=tuple(dataclasses.replace(s, flags=f) for s, f in zip(layout.segments, flags, strict=True)),
    )


def _text(value: Any) -> str:
    """A name as LIEF gives it: a str, or bytes when it is not UTF-8 (``str()`` of those would be their
    repr, ``"b'...'"``); decoded as every other name in soinspect is, one U+FFFD per invalid run."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _parse_or_raise(path: str, lief: Any, stream: _Stream) -> Any:
    try:
        binary = lief.ELF.parse(stream, _config())
    except Exception as exc:  # LIEF raises its own assorted exception types
        raise MalformedError(path, f"the ELF parser rejected the file: {exc}") from None
    if binary is None:
        raise MalformedError(path, "the ELF parser could not read the ELF headers", offset=0)
    return binary


def _value(member: Any) -> int:
    """The raw value of a LIEF enum member, or ValueError for a value LIEF's enum does not name.

    The releases say "not a value I know" differently: 1.0 gives a plain int (the door has always turned
    that into a rejection: a header LIEF cannot name is a hostile one), 0.15 a member that cannot print
    itself ("nb_enum: could not find entry"). Both are rejected alike, so a file gets the same answer
    whatever the release.
    """
    if isinstance(member, int):
        raise ValueError(f"value {member:#x} is not one LIEF names")
    try:
        repr(member)
    except RuntimeError:
        raise ValueError(f"value {int(member.value):#x} is not one LIEF names") from None
    return int(member.value)


def _convert(binary: Any, machine: int | None = None) -> ElfLayout:
    h = binary.header
    header = ElfHeader(
        elf_class=_value(h.identity_class),
        data_encoding=_value(h.identity_data),
        os_abi=_value(h.identity_os_abi),
        file_type=_value(h.file_type),
        machine=_value(h.machine_type) if machine is None else machine,
        entry=int(h.entrypoint),
        phoff=int(h.program_header_offset),
        phnum=int(h.numberof_segments),
        shoff=int(h.section_header_offset),
        shnum=int(h.numberof_sections),
        flags=int(h.processor_flag),
    )
    sections = tuple(
        Section(
            name=_text(s.name),
            type=_value(s.type),
            flags=int(s.flags),
            addr=int(s.virtual_address),
            offset=int(s.offset),
            size=int(s.size),
            entsize=int(s.entry_size),
        )
        for s in binary.sections
    )
    segments = tuple(
        Segment(
            type=_value(p.type),
            flags=int(p.flags.value),  # replaced by the raw p_flags: _raw_segment_flags
            offset=int(p.file_offset),
            vaddr=int(p.virtual_address),
            filesz=int(p.physical_size),
            memsz=int(p.virtual_size),
        )
        for p in binary.segments
    )
    dynamic = tuple(DynEntry(tag=_value(e.tag), value=int(e.value)) for e in binary.dynamic_entries)
    return ElfLayout(header=header, sections=sections, segments=segments, dynamic=dynamic)

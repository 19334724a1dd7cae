"""The only module that imports LIEF.

It configures LIEF once (lean :class:`lief.ELF.ParserConfig`, logging off), hands it bytes that were read
once (so a file that changes while being read cannot give two different views), and turns what LIEF
returns into the project's own frozen dataclasses (:class:`soinspect.elf.structs.ElfHeader` and friends). A
``None`` from LIEF, or any exception it raises, becomes :class:`~soinspect.errors.MalformedError` naming
the file. No LIEF object leaves this module.

Tables that are large (``.dynsym``, ``.dynstr``, relocations) are *not* taken from LIEF as one Python
object per entry: :mod:`soinspect.elf.file` slices them out of the raw bytes in bulk, which is what keeps a
full audit within a small multiple of ``go version -m``.
"""

from __future__ import annotations

import dataclasses
import functools
import struct
import warnings
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
    # Imported lazily: ``import lief`` costs about 0.2 s, which `soinspect --help` should not pay.
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


def parse_layout(path: str, data: bytes) -> ElfLayout:
    """Parse the ELF header, the program and section headers and the dynamic table of *data*."""
    lief = _lief()
    try:
        binary = lief.ELF.parse(data, _config())
    except Exception as exc:  # LIEF raises its own assorted exception types
        raise MalformedError(path, f"the ELF parser rejected the file: {exc}") from None
    if binary is None:
        raise MalformedError(path, "the ELF parser could not read the ELF headers", offset=0)
    try:
        with warnings.catch_warnings():
            # LIEF warns (RuntimeWarning) when a type field holds a value its enum does not name; the
            # raw value is all we keep, and a hostile file must not turn into warning text on stderr.
            warnings.simplefilter("ignore")
            return _raw_segment_flags(data, _names_as_go_reads_them(data, _convert(binary)))
    except (AttributeError, ValueError, TypeError, OverflowError) as exc:
        raise MalformedError(path, f"inconsistent ELF headers: {exc}") from None


def _names_as_go_reads_them(data: bytes, layout: ElfLayout) -> ElfLayout:
    """Section names as Go's ``debug/elf`` reads them: the NUL-terminated string at ``sh_name`` inside the
    section name table, or "" when ``sh_name`` is past its end or no NUL follows before it (LIEF took
    the bytes up to the table's end, and a name could be made of whatever follows the table).

    Only where LIEF's sections are the file's section header table entry for entry; else LIEF's names."""
    h = layout.header
    is64 = h.elf_class == ELFCLASS64
    e = "<" if h.data_encoding == ELFDATA2LSB else ">"
    shentsize, shnum, shstrndx = struct.unpack_from(e + "HHH", data, 58 if is64 else 46)
    entry = struct.Struct(e + ("IIQQQQ" if is64 else "IIIIII"))  # name, type, flags, addr, offset, size
    if shnum != len(layout.sections) or shentsize < entry.size or h.shoff + shnum * shentsize > len(data):
        return layout
    if shstrndx == _SHN_XINDEX and shnum:  # the real index is in section 0's sh_link
        shstrndx = struct.unpack_from(e + "I", data, h.shoff + (40 if is64 else 24))[0]
    if shstrndx >= shnum:
        return layout
    _, kind, _, _, str_off, str_size = entry.unpack_from(data, h.shoff + shstrndx * shentsize)
    if kind == SHT_NOBITS or str_off + str_size > len(data):
        return layout
    table = data[str_off : str_off + str_size]
    names = []
    for i in range(shnum):  # shnum equals the number of LIEF sections: a count LIEF already walked
        at = entry.unpack_from(data, h.shoff + i * shentsize)[0]
        end = table.find(b"\0", at) if at < len(table) else -1
        names.append(table[at:end].decode("utf-8", "replace") if end >= 0 else "")
    return dataclasses.replace(
        layout, sections=tuple(dataclasses.replace(s, name=n) for s, n in zip(layout.sections, names, strict=True))
    )


_SHN_XINDEX = 0xFFFF


def _raw_segment_flags(data: bytes, layout: ElfLayout) -> ElfLayout:
    """``p_flags`` as the file has them: LIEF's flag enum keeps only PF_R, PF_W and PF_X and drops the
    OS- and processor-specific bits. Only where LIEF's segments are the program header table entry for
    entry (``_check_header_tables`` has checked that the table lies inside the file)."""
    h = layout.header
    is64 = h.elf_class == ELFCLASS64
    e = "<" if h.data_encoding == ELFDATA2LSB else ">"
    phentsize, phnum = struct.unpack_from(e + "HH", data, 54 if is64 else 42)
    at = 4 if is64 else 24  # p_flags follows p_type in ELF64, comes after p_memsz in ELF32
    if phnum != len(layout.segments) or phentsize < at + 4 or h.phoff + phnum * phentsize > len(data):
        return layout
    flags = [struct.unpack_from(e + "I", data, h.phoff + i * phentsize + at)[0] for i in range(phnum)]
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


def _convert(binary: Any) -> ElfLayout:
    h = binary.header
    header = ElfHeader(
        elf_class=int(h.identity_class.value),
        data_encoding=int(h.identity_data.value),
        os_abi=int(h.identity_os_abi.value),
        file_type=int(h.file_type.value),
        machine=int(h.machine_type.value),
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
            type=int(s.type.value),
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
            type=int(p.type.value),
            flags=int(p.flags.value),
            offset=int(p.file_offset),
            vaddr=int(p.virtual_address),
            filesz=int(p.physical_size),
            memsz=int(p.virtual_size),
        )
        for p in binary.segments
    )
    dynamic = tuple(DynEntry(tag=int(e.tag.value), value=int(e.value)) for e in binary.dynamic_entries)
    return ElfLayout(header=header, sections=sections, segments=segments, dynamic=dynamic)

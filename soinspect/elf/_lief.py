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

import functools
import warnings
from typing import Any

from soinspect.elf.structs import DynEntry, ElfHeader, ElfLayout, Section, Segment
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
            return _convert(binary)
    except (AttributeError, ValueError, TypeError, OverflowError) as exc:
        raise MalformedError(path, f"inconsistent ELF headers: {exc}") from None


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

"""ELF structures as soinspect holds them: the gABI constants and the frozen dataclasses of the headers.

Both the bounded reader (:mod:`soinspect.elf.file`) and the LIEF door (:mod:`soinspect.elf._lief`) build on
this module, which imports nothing of soinspect.
"""

from __future__ import annotations

from soinspect._frozen import frozen

# ELF constants (from the System V gABI; names as in <elf.h>).
ELFCLASS32, ELFCLASS64 = 1, 2
ELFDATA2LSB, ELFDATA2MSB = 1, 2
ET_NONE, ET_REL, ET_EXEC, ET_DYN, ET_CORE = 0, 1, 2, 3, 4
PT_LOAD, PT_DYNAMIC, PT_INTERP, PT_NOTE, PT_TLS = 1, 2, 3, 4, 7
PF_X, PF_W, PF_R = 1, 2, 4
SHT_NOBITS = 8
SHF_COMPRESSED = 0x800
DT_NULL, DT_NEEDED, DT_PLTRELSZ, DT_HASH, DT_STRTAB, DT_SYMTAB = 0, 1, 2, 4, 5, 6
DT_RELA, DT_RELASZ, DT_RELAENT, DT_STRSZ, DT_SYMENT = 7, 8, 9, 10, 11
DT_SONAME, DT_RPATH, DT_REL, DT_RELSZ, DT_RELENT, DT_JMPREL = 14, 15, 17, 18, 19, 23
DT_INIT_ARRAY, DT_INIT_ARRAYSZ, DT_RUNPATH, DT_FLAGS, DT_PLTREL = 25, 27, 29, 30, 20
DT_GNU_HASH, DT_VERSYM, DT_VERNEED, DT_VERNEEDNUM, DT_VERDEF, DT_VERDEFNUM, DT_FLAGS_1 = (
    0x6FFFFEF5,
    0x6FFFFFF0,
    0x6FFFFFFE,
    0x6FFFFFFF,
    0x6FFFFFFC,
    0x6FFFFFFD,
    0x6FFFFFFB,
)
DF_1_PIE = 0x08000000
DF_1_NOOPEN = 0x40
SHN_UNDEF = 0
STB_LOCAL, STB_GLOBAL, STB_WEAK = 0, 1, 2
STT_NOTYPE, STT_OBJECT, STT_FUNC = 0, 1, 2



@frozen
class ElfHeader:
    elf_class: int  # ELFCLASS32 or ELFCLASS64
    data_encoding: int  # ELFDATA2LSB or ELFDATA2MSB
    os_abi: int
    file_type: int
    machine: int
    entry: int
    phoff: int
    phnum: int
    shoff: int
    shnum: int
    flags: int


@frozen
class Section:
    name: str
    type: int
    flags: int
    addr: int
    offset: int
    size: int
    entsize: int


@frozen
class Segment:
    type: int
    flags: int
    offset: int
    vaddr: int
    filesz: int
    memsz: int


@frozen
class DynEntry:
    tag: int
    value: int


@frozen
class ElfLayout:
    """What the LIEF door hands over: headers and the dynamic table, no big tables."""

    header: ElfHeader
    sections: tuple[Section, ...]
    segments: tuple[Segment, ...]
    dynamic: tuple[DynEntry, ...]

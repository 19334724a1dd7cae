"""Go runtime type descriptors, read statically (mirrors ``go/src/internal/abi/type.go``).

The layout of ``abi.Type`` on a target with pointer size P (Go 1.19 and later)::

    struct Type {
        Size_       uintptr   // +0
        PtrBytes    uintptr   // +P
        Hash        uint32    // +2P
        TFlag       uint8     // +2P+4
        Align_      uint8     // +2P+5
        FieldAlign_ uint8     // +2P+6
        Kind_       uint8     // +2P+7   (low 5 bits: the kind)
        Equal       func      // +2P+8
        GCData      *byte     // +3P+8
        Str         int32     // +4P+8   name offset from the module's types base
        PtrToThis   int32     // +4P+12
    }                          // size 4P+16 (48 on 64-bit, 32 on 32-bit)

A struct type follows it with ``PkgPath Name`` (one pointer) and ``Fields []StructField``; each
``StructField`` is ``{Name Name; Typ *Type; Offset uintptr}``. A ``Name`` points at bytes
``flags(1) uvarint(len) name [uvarint(taglen) tag] [pkgpath nameOff]``.

Only what the analysis needs lives here: the header, struct fields (for ``runtime.moduledata``'s own
layout, which every Go binary carries as ``type:runtime.moduledata``) and names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ._elf import ElfFile

KIND_MASK = 0x1F
KIND_NAMES = (
    "invalid",
    "bool",
    "int",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "uintptr",
    "float32",
    "float64",
    "complex64",
    "complex128",
    "array",
    "chan",
    "func",
    "interface",
    "map",
    "ptr",
    "slice",
    "string",
    "struct",
    "unsafe.Pointer",
)
KIND_STRUCT = 25
_MAX_NAME = 1 << 16
_MAX_FIELDS = 4096


@dataclass(frozen=True)
class TypeHeader:
    addr: int
    size: int
    ptrbytes: int
    hash: int
    tflag: int
    align: int
    fieldalign: int
    kind: int
    str_off: int
    ptr_to_this: int


@dataclass(frozen=True)
class StructField:
    name: str
    type_addr: int
    offset: int


def header_size(elf: ElfFile) -> int:
    return 4 * elf.ptrsize + 16


def read_header(elf: ElfFile, addr: int) -> TypeHeader | None:
    p = elf.ptrsize
    raw = elf.read_va(addr, header_size(elf))
    if raw is None:
        return None
    order: Literal["little", "big"] = "little" if elf.little else "big"
    size = int.from_bytes(raw[0:p], order)
    ptrbytes = int.from_bytes(raw[p : 2 * p], order)
    h = 2 * p
    hash_ = int.from_bytes(raw[h : h + 4], order)
    tflag, align, fieldalign, kind = raw[h + 4], raw[h + 5], raw[h + 6], raw[h + 7]
    s = 4 * p + 8
    str_off = int.from_bytes(raw[s : s + 4], order, signed=True)
    ptt = int.from_bytes(raw[s + 4 : s + 8], order, signed=True)
    return TypeHeader(addr, size, ptrbytes, hash_, tflag, align, fieldalign, kind & KIND_MASK, str_off, ptt)


def read_name(elf: ElfFile, addr: int) -> str | None:
    """Decode an ``abi.Name`` at *addr* (flags byte, uvarint length, bytes)."""
    head = elf.read_va(addr, 11)
    if head is None:
        head = elf.read_va(addr, 2)
        if head is None:
            return None
    length = 0
    shift = 0
    i = 1
    while i < len(head):
        b = head[i]
        length |= (b & 0x7F) << shift
        shift += 7
        i += 1
        if not b & 0x80:
            break
    else:
        return None
    if length > _MAX_NAME:
        return None
    raw = elf.read_va(addr + i, length)
    return raw.decode("utf-8", "replace") if raw is not None else None


def struct_fields(elf: ElfFile, addr: int) -> list[StructField] | None:
    """Fields of the struct type descriptor at *addr*, or None if it is not a readable struct type."""
    hdr = read_header(elf, addr)
    if hdr is None or hdr.kind != KIND_STRUCT:
        return None
    p = elf.ptrsize
    base = addr + header_size(elf) + p  # skip PkgPath
    data = elf.read_ptr(base)
    count = elf.read_uint(base + p, p)
    if data is None or count is None or count > _MAX_FIELDS:
        return None
    out: list[StructField] = []
    for i in range(count):
        f = data + i * 3 * p
        name_ptr = elf.read_ptr(f)
        typ = elf.read_ptr(f + p)
        off = elf.read_uint(f + 2 * p, p)
        if name_ptr is None or typ is None or off is None:
            return None
        name = read_name(elf, name_ptr)
        if name is None:
            return None
        out.append(StructField(name, typ, off))
    return out

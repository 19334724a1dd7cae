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

import contextlib
import re
import struct
from collections.abc import Callable, Iterable
from dataclasses import field
from typing import Literal

from soinspect._frozen import frozen
from soinspect.elf.file import ElfFile

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


@frozen
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


@frozen
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
    found = _name_length(head)
    if found is None:
        return None
    start, length = found
    raw = elf.read_va(addr + start, length)
    return raw.decode("utf-8", "replace") if raw is not None else None


def _name_length(head: bytes) -> tuple[int, int] | None:
    """(where the bytes start, their length) of the ``abi.Name`` whose first bytes are *head* (at most 11:
    the flags, then a uvarint of at most 10 bytes), or None if the length does not end in *head* or is
    over :data:`_MAX_NAME`."""
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
    return None if length > _MAX_NAME else (i, length)


#: names read in one block (:func:`read_names`) when they lie within this many bytes of each other
_NAMES_BLOCK = 1 << 20


def read_names(elf: ElfFile, addrs: list[int]) -> list[str | None]:
    """:func:`read_name` of each of *addrs*, from one read of the bytes from the first to the last (the
    names of a struct's fields lie together) where that read lies in one segment; a name whose bytes run
    past it, or all of them when it cannot be read, read on its own."""
    if not addrs:
        return []
    lo = min(addrs)
    size = max(addrs) + 11 - lo  # each name's first 11 bytes, as read_name reads them
    block = elf.read_va(lo, size) if size <= _NAMES_BLOCK else None
    if block is None:
        return [read_name(elf, a) for a in addrs]
    out: list[str | None] = []
    for a in addrs:
        at = a - lo
        found = _name_length(block[at : at + 11])
        if found is None:
            out.append(None)
        elif at + found[0] + found[1] <= size:
            out.append(block[at + found[0] : at + found[0] + found[1]].decode("utf-8", "replace"))
        else:
            out.append(read_name(elf, a))
    return out


def struct_fields(elf: ElfFile, addr: int) -> list[StructField] | None:
    """Fields of the struct type descriptor at *addr*, or None if it is not a readable struct type."""
    fields = _struct_fields(elf, addr, types=True)
    return None if fields is None else [StructField(name, typ, off) for name, typ, off in fields]


def struct_field_offsets(elf: ElfFile, addr: int) -> list[tuple[str, int]] | None:
    """(name, offset) of each field of the struct type descriptor at *addr* (a layout: the fields' types
    are not read), or None where :func:`struct_fields` gives None."""
    fields = _struct_fields(elf, addr, types=False)
    return None if fields is None else [(name, off) for name, _, off in fields]


def _struct_fields(elf: ElfFile, addr: int, *, types: bool) -> list[tuple[str, int, int]] | None:
    """(name, type, offset) of each field of the struct type at *addr*; the type 0 unless *types*."""
    hdr = read_header(elf, addr)
    if hdr is None or hdr.kind != KIND_STRUCT:
        return None
    p = elf.ptrsize
    base = addr + header_size(elf) + p  # skip PkgPath
    data = elf.read_ptr(base)
    count = elf.read_uint(base + p, p)
    if data is None or count is None or count > _MAX_FIELDS:
        return None
    # StructField{Name Name; Typ *Type; Offset uintptr}: the array in one read where it lies in one
    # segment, else word by word as before (an array across two segments is read all the same); the
    # Typ words are read as pointers only when the types are wanted
    words = elf.read_words(data, 3 * count, every=1 if types else 3)
    out: list[tuple[str, int, int]] = []
    if words is not None:  # the names, which lie together, in one read too
        inplace, ptrs = words
        names = read_names(elf, ptrs[0::3])
        for name, field_type, offset in zip(names, ptrs[1::3] if types else [0] * count, inplace[2::3], strict=True):
            if name is None:
                return None
            out.append((name, field_type, offset))
        return out
    for i in range(count):  # the array across two segments: word by word
        f = data + i * 3 * p
        # the Typ word read all the same: an unreadable one makes the descriptor unreadable
        name_ptr, typ, off = elf.read_ptr(f), elf.read_ptr(f + p), elf.read_uint(f + 2 * p, p)
        typ = typ if types or typ is None else 0
        if name_ptr is None or typ is None or off is None:
            return None
        name = read_name(elf, name_ptr)
        if name is None:
            return None
        out.append((name, typ, off))
    return out


# -- the type printer (what reflect's ``Type.String()``, and so ``%T``, prints) --------------------------
#
# reflect/type.go: ``func (t *rtype) String() string { s := t.nameOff(t.t.Str).Name(); if
# t.t.TFlag&abi.TFlagExtraStar != 0 { return s[1:] }; return s }``: the printed form is the name the
# compiler stored at ``Str`` (cmd/compile/internal/types/fmt.go, mode fmtTypeIDName). soinspect reads it
# exactly as Go does, and also rebuilds the printed form from the kind-specific layouts below, as a
# cross-check of its own reading: both must agree, or the type is "unknown" with the reason.
#
# Kind-specific layouts after the ``abi.Type`` header H (size 4P+16), from internal/abi/type.go
# (Go 1.19's runtime/type.go has the same shapes under other names)::
#
#     PtrType, SliceType  { H; Elem *Type }
#     ArrayType           { H; Elem *Type; Slice *Type; Len uintptr }
#     ChanType            { H; Elem *Type; Dir int }            // 1 recv, 2 send, 3 both
#     MapType             { H; Key *Type; Elem *Type; ... }     // swiss (1.24+) and old maps alike
#     FuncType            { H; InCount uint16; OutCount uint16 } // OutCount top bit: variadic
#                         then UncommonType (16 bytes) if TFlagUncommon, then [In+Out]*Type, the
#                         parameter array starting at the pointer-aligned end of FuncType
#     InterfaceType       { H; PkgPath Name; Methods []Imethod }  // Imethod{Name NameOff; Typ TypeOff}
#     StructType          { H; PkgPath Name; Fields []StructField }

TFLAG_UNCOMMON, TFLAG_EXTRA_STAR, TFLAG_NAMED = 1 << 0, 1 << 1, 1 << 2
(
    KIND_ARRAY,
    KIND_CHAN,
    KIND_FUNC,
    KIND_INTERFACE,
    KIND_MAP,
    KIND_PTR,
    KIND_SLICE,
) = (17, 18, 19, 20, 21, 22, 23)
KIND_UNSAFE_POINTER = 26
UNCOMMON_SIZE = 16
_VARIADIC = 1 << 15
_MAX_PARAMS = 1 << 10
_MAX_METHODS = 1 << 12
_MAX_DEPTH = 64

#: Go releases whose type descriptor layouts soinspect has checked against a real host's ``%T`` (the
#: corpus): the header and every kind-specific shape above are the same in all of them. (go1.21-1.23 use
#: the old hash-map MapType, go1.24+ SwissMapType; both start with Type, Key, Elem, which is all the printer
#: reads of a map. Checked against each release's internal/abi sources and its corpus plugin.)
VERIFIED_RELEASES: tuple[int, ...] = (19, 21, 22, 23, 24, 25, 26, 27)


def release_minor(go_version: str | None) -> int | None:
    """19 for ``go1.19.13``, 27 for ``go1.27.3``; None for anything else (devel builds included)."""
    m = re.match(r"^go1\.(\d+)(?:\.\d+)?(?:rc\d+)?$", go_version or "")
    return int(m.group(1)) if m else None


def layout_problem(go_version: str | None) -> str | None:
    """Why this Go version's type descriptors cannot be read, or None if they can."""
    minor = release_minor(go_version)
    if minor is None:
        return f"Go version {go_version!r} is not a release soinspect knows type descriptor layouts for"
    if minor not in VERIFIED_RELEASES:
        known = ", ".join(f"go1.{m}" for m in VERIFIED_RELEASES)
        return f"the type descriptor layout of go1.{minor} has not been verified (verified: {known})"
    return None


@frozen
class TypeName:
    """A decoded ``abi.Name``: flags, name, tag, and the pkgPath name offset if present."""

    name: str
    tag: str | None
    exported: bool
    embedded: bool
    #: the name's own package path (flags bit 2: a nameOff after the tag), a type offset to resolve; None
    #: when the name carries none (the enclosing type's PkgPath then applies)
    pkgpath_off: int | None = None


def read_full_name(elf: ElfFile, addr: int) -> TypeName | None:
    """Decode an ``abi.Name`` with its tag (flags bit 1), its package path's offset (flags bit 2) and the
    exported/embedded bits."""
    head = elf.read_va(addr, 5)  # the flags and the longest length soinspect reads, in one read
    if head is not None:
        flags, name_len = head[0], _uvarint_of(head, 1)
    else:  # near the end of what is mapped: as far as the bytes go
        flags_b = elf.read_va(addr, 1)
        if flags_b is None:
            return None
        flags, name_len = flags_b[0], _uvarint(elf, addr + 1)
    if name_len is None:
        return None
    n, width = name_len
    raw = elf.read_va(addr + 1 + width, n)
    if raw is None:
        return None
    tag: str | None = None
    end = addr + 1 + width + n
    if flags & 2:
        tl = _uvarint(elf, end)
        if tl is None:
            return None
        traw = elf.read_va(end + tl[1], tl[0])
        if traw is None:
            return None
        tag = traw.decode("utf-8", "replace")
        end += tl[1] + tl[0]
    pkgpath_off: int | None = None
    if flags & 4:  # abi.Name: "pkgPath nameOff" follows the tag, unaligned, in the target's byte order
        praw = elf.read_va(end, 4)
        if praw is None:
            return None
        pkgpath_off = int.from_bytes(praw, "little" if elf.little else "big", signed=True)
    return TypeName(raw.decode("utf-8", "replace"), tag, bool(flags & 1), bool(flags & 8), pkgpath_off)


def _uvarint(elf: ElfFile, addr: int) -> tuple[int, int] | None:
    """(value, width) of the uvarint at *addr*; names longer than ``_MAX_NAME`` are refused."""
    head = elf.read_va(addr, 4)
    if head is None:  # near the end of what is mapped: byte by byte, as far as the bytes go
        head = b""
        while len(head) < 4 and (b := elf.read_va(addr + len(head), 1)) is not None:
            head += b
    return _uvarint_of(head, 0)


def _uvarint_of(head: bytes, at: int) -> tuple[int, int] | None:
    """:func:`_uvarint` of the bytes of *head* from *at* on (at most four; None where they end first)."""
    value = 0
    for i in range(min(4, len(head) - at)):
        b = head[at + i]
        value |= (b & 0x7F) << (7 * i)
        if not b & 0x80:
            return (value, i + 1) if value <= _MAX_NAME else None
    return None


def go_quote(s: str) -> str:
    """``strconv.Quote`` for the printable text struct tags hold (Go escapes the same characters)."""
    out = ['"']
    simple = {'"': '\\"', "\\": "\\\\", "\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r"}
    simple.update({"\t": "\\t", "\v": "\\v"})
    for ch in s:
        if ch in simple:
            out.append(simple[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


class TypeReadError(Exception):
    """A type descriptor could not be read; the message names the address and what was wrong."""


@frozen
class GoType:
    """One runtime type descriptor, printed as Go prints it."""

    addr: int
    kind: str
    #: what reflect's String() returns: the Str name, with TFlagExtraStar's leading '*' removed
    string: str
    #: the same form rebuilt from the kind-specific layout, or None if it cannot be rebuilt (the reason
    #: is in ``composed_reason``)
    composed: str | None
    composed_reason: str = ""


class TypePrinter:
    """Prints type descriptors of one module: names are resolved against its ``types`` base."""

    def __init__(
        self,
        elf: ElfFile,
        types_base: int,
        *,
        qualified: bool = False,
        go_version: str | None = None,
        reads: TypePrinter | None = None,
    ) -> None:
        self.elf = elf
        self.types = types_base
        #: the module's Go release: where a named map type's uncommon part lies depends on it
        self.go_version = go_version
        #: print identities (:meth:`identity`) instead of reflect's strings: see "Type identity" below
        self.qualified = qualified
        self.hsize = header_size(elf)
        # each descriptor read once per module: describe, compose and reflect_string all ask for the
        # header of a type, and the types a module's exports share (int, string, error) come up again.
        # Neither depends on how a printer prints: *reads*, another printer of the same module, shares them
        if reads is not None and (reads.elf is not elf or reads.types != types_base):
            raise ValueError("a printer shares the descriptors it reads only with a printer of the same module")
        self._headers: dict[int, TypeHeader] = reads._headers if reads is not None else {}
        self._strings: dict[int, str] = reads._strings if reads is not None else {}
        self._qualified: dict[int, str] = {}
        self._composed: dict[tuple[int, int], str] = {}

    def header(self, addr: int) -> TypeHeader:
        hdr = self._headers.get(addr)
        if hdr is None:
            hdr = read_header(self.elf, addr)
            if hdr is None:
                raise TypeReadError(f"type descriptor at {addr:#x} lies outside the file")
            self._headers[addr] = hdr
        return hdr

    def reflect_string(self, addr: int) -> str:
        """``reflect.Type.String()`` of the descriptor at *addr* (runtime resolveNameOff on Str)."""
        s = self._strings.get(addr)
        if s is None:
            s = self._strings[addr] = self._reflect_string(addr)
        return s

    def _reflect_string(self, addr: int) -> str:
        hdr = self.header(addr)
        name = read_full_name(self.elf, self.types + hdr.str_off)
        if name is None:
            raise TypeReadError(
                f"type descriptor at {addr:#x}: Str name offset {hdr.str_off:#x} from types "
                f"{self.types:#x} is unreadable"
            )
        s = name.name
        if hdr.tflag & TFLAG_EXTRA_STAR:
            if not s.startswith("*"):
                raise TypeReadError(f"type descriptor at {addr:#x}: TFlagExtraStar set but Str is {s!r}")
            s = s[1:]
        return s

    def describe(self, addr: int) -> GoType:
        hdr = self.header(addr)
        kind = KIND_NAMES[hdr.kind] if hdr.kind < len(KIND_NAMES) else f"kind{hdr.kind}"
        string = self.reflect_string(addr)
        try:
            composed: str | None = self.compose(addr, 0)
            reason = ""
        except _NotComposable as exc:
            composed, reason = None, str(exc)
        return GoType(addr, kind, string, composed, reason)

    def compose(self, addr: int, depth: int) -> str:
        """The printed form rebuilt from the layout (named types print their name, as Go does): a function
        of the descriptor and the depth alone, each (address, depth) composed once per printer (the
        methods of a module's types repeat the same parameter types); what raises is not kept, and raises
        again when asked again."""
        key = (addr, depth)
        s = self._composed.get(key)
        if s is None:
            s = self._composed[key] = self._compose(addr, depth)
        return s

    def _compose(self, addr: int, depth: int) -> str:
        if depth > _MAX_DEPTH:
            raise _NotComposable(f"type nesting deeper than {_MAX_DEPTH} at {addr:#x}")
        hdr = self.header(addr)
        if hdr.tflag & TFLAG_NAMED or hdr.kind <= 16 or hdr.kind in (24, KIND_UNSAFE_POINTER):
            return self.qualified_name(addr) if self.qualified else self.reflect_string(addr)
        p = self.elf.ptrsize
        body = addr + self.hsize
        if hdr.kind == KIND_PTR:
            return "*" + self.compose(self._ptr(body), depth + 1)
        if hdr.kind == KIND_SLICE:
            return "[]" + self.compose(self._ptr(body), depth + 1)
        if hdr.kind == KIND_ARRAY:
            length = self.elf.read_uint(body + 2 * p, p)
            if length is None:
                raise TypeReadError(f"array type at {addr:#x}: length unreadable")
            return f"[{length}]" + self.compose(self._ptr(body), depth + 1)
        if hdr.kind == KIND_CHAN:
            return self._chan(addr, body, depth)
        if hdr.kind == KIND_MAP:
            key = self.compose(self._ptr(body), depth + 1)
            return f"map[{key}]" + self.compose(self._ptr(body + p), depth + 1)
        if hdr.kind == KIND_FUNC:
            return "func" + self._signature(addr, hdr, depth)
        if hdr.kind == KIND_INTERFACE:
            return self._interface(addr, body, depth)
        if hdr.kind == KIND_STRUCT:
            return self._struct(addr, depth)
        raise _NotComposable(f"type descriptor at {addr:#x} has unknown kind {hdr.kind}")

    def _ptr(self, at: int) -> int:
        v = self.elf.read_ptr(at)
        if v is None or v == 0:
            raise TypeReadError(f"type pointer at {at:#x} is unreadable or nil")
        return v

    def _chan(self, addr: int, body: int, depth: int) -> str:
        p = self.elf.ptrsize
        elem_addr = self._ptr(body)
        direction = self.elf.read_uint(body + p, p)
        elem = self.compose(elem_addr, depth + 1)
        if direction == 1:
            return "<-chan " + elem
        if direction == 2:
            return "chan<- " + elem
        if direction != 3:
            raise TypeReadError(f"chan type at {addr:#x} has direction {direction}")
        eh = self.header(elem_addr)
        recv_only = self.elf.read_uint(elem_addr + self.hsize + p, p) == 1
        if eh.kind == KIND_CHAN and not eh.tflag & TFLAG_NAMED and recv_only:
            return f"chan ({elem})"
        return "chan " + elem

    def _signature(self, addr: int, hdr: TypeHeader, depth: int) -> str:
        """``(params) results`` of the func type at *addr* (FuncType.InSlice/OutSlice)."""
        p = self.elf.ptrsize
        counts = self.elf.read_va(addr + self.hsize, 4)
        if counts is None:
            raise TypeReadError(f"func type at {addr:#x}: parameter counts unreadable")
        order: Literal["little", "big"] = "little" if self.elf.little else "big"
        n_in = int.from_bytes(counts[0:2], order)
        out_raw = int.from_bytes(counts[2:4], order)
        n_out, variadic = out_raw & (_VARIADIC - 1), bool(out_raw & _VARIADIC)
        if n_in + n_out > _MAX_PARAMS:
            raise TypeReadError(f"func type at {addr:#x}: {n_in} in, {n_out} out parameters")
        start = addr + (self.hsize + 4 + p - 1) // p * p
        if hdr.tflag & TFLAG_UNCOMMON:
            start += UNCOMMON_SIZE
        params = [self._ptr(start + i * p) for i in range(n_in + n_out)]
        ins = [self.compose(t, depth + 1) for t in params[:n_in]]
        if variadic:
            if not ins or not ins[-1].startswith("[]"):
                last = ins[-1] if ins else "nothing"
                raise TypeReadError(f"variadic func type at {addr:#x} ends in {last}, not a slice")
            last_hdr = self.header(params[n_in - 1])
            if last_hdr.tflag & TFLAG_NAMED:
                raise _NotComposable(f"variadic parameter of named slice type at {addr:#x}")
            ins[-1] = "..." + ins[-1][2:]
        outs = [self.compose(t, depth + 1) for t in params[n_in:]]
        s = "(" + ", ".join(ins) + ")"
        if len(outs) == 1:
            s += " " + outs[0]
        elif outs:
            s += " (" + ", ".join(outs) + ")"
        return s

    def _slice_header(self, at: int, limit: int, what: str) -> tuple[int, int]:
        p = self.elf.ptrsize
        data = self.elf.read_ptr(at)
        count = self.elf.read_uint(at + p, p)
        if data is None or count is None or count > limit:
            raise TypeReadError(f"{what} slice header at {at:#x} is unreadable or too long ({count})")
        return data, count

    def _interface(self, addr: int, body: int, depth: int) -> str:
        parts = self._interface_parts(addr, body, depth)
        return "interface { " + "; ".join(parts) + " }" if parts else "interface {}"

    def _interface_parts(self, addr: int, body: int, depth: int) -> list[str]:
        data, count = self._slice_header(body + self.elf.ptrsize, _MAX_METHODS, "interface methods")
        if count == 0:
            return []
        raw = self.elf.read_va(data, count * 8)
        if raw is None:
            raise TypeReadError(f"interface type at {addr:#x}: methods at {data:#x} unreadable")
        fmt = ("<" if self.elf.little else ">") + "ii"
        parts = []
        for name_off, typ_off in struct.iter_unpack(fmt, raw):
            name = read_full_name(self.elf, self.types + name_off)
            if name is None:
                raise TypeReadError(f"interface type at {addr:#x}: method name {name_off:#x} unreadable")
            if not name.exported and not self.qualified:
                # fmtTypeIDName qualifies unexported method names with their package (sconv2 'v');
                # that spelling is not modelled, so the rebuilt form is not claimed.
                raise _NotComposable(f"interface at {addr:#x} has unexported method {name.name}")
            mt = self.types + typ_off
            label = self._member(name, lambda: self._name_at_ptr(body), addr)
            parts.append(label + self._signature(mt, self.header(mt), depth + 1))
        if self.qualified:
            parts.sort()
        return parts

    def _struct(self, addr: int, depth: int) -> str:
        fields = struct_fields(self.elf, addr)
        if fields is None:
            raise TypeReadError(f"struct type at {addr:#x}: fields unreadable")
        if not fields:
            return "struct {}"
        p = self.elf.ptrsize
        data, _ = self._slice_header(addr + self.hsize + p, _MAX_FIELDS, "struct fields")
        parts = []
        for i, f in enumerate(fields):
            name_ptr = self.elf.read_ptr(data + i * 3 * p)
            full = read_full_name(self.elf, name_ptr) if name_ptr is not None else None
            if full is None:
                raise TypeReadError(f"struct type at {addr:#x}: field {i} name unreadable")
            typ = self.compose(f.type_addr, depth + 1)
            label = full.name
            if self.qualified:
                label = self._member(full, lambda: self._name_at_ptr(addr + self.hsize), addr)
            part = typ if full.embedded else f"{label} {typ}"
            if full.tag:
                part += " " + go_quote(full.tag)
            parts.append(part)
        return "struct { " + "; ".join(parts) + " }"


    # -- type identity ---------------------------------------------------------------------------------
    #
    # What the runtime compares when a plugin's type meets the host's (typesEqual in runtime/type.go, run
    # by typelinksinit when the plugin's module is added; itab init in runtime/iface.go for an interface):
    # a named type is its package's import path (the uncommon type's PkgPath) and its name; an unexported
    # struct field or method name is its package path and its name (the name's own pkgPath, else the
    # enclosing type's PkgPath). A printer made with ``qualified=True`` prints that identity in Go's
    # syntax, with import paths where reflect prints package names (``example.com/real/api.Logger``)
    # and package-qualified unexported names (``struct { A int; example.com/plugin.b string }``);
    # interface methods sorted, as typeexpr.canonical sorts them.

    def identity(self, addr: int) -> str:
        """The identity of the type at *addr* (a ``qualified`` printer only)."""
        assert self.qualified
        return self.compose(addr, 0)

    def qualified_name(self, addr: int) -> str:
        """A named (or predeclared) type: ``import/path.Name``, or the bare name for a predeclared type."""
        q = self._qualified.get(addr)
        if q is None:
            q = self._qualified[addr] = self._qualified_name(addr)
        return q

    def _qualified_name(self, addr: int) -> str:
        s = self.reflect_string(addr)
        path = self.pkgpath(addr)
        if not path:
            return s
        pkg, dot, rest = s.partition(".")
        if not dot or not pkg or "[" in pkg:
            raise TypeReadError(f"type descriptor at {addr:#x}: named {s!r} is not package.Name")
        return f"{path}.{rest}"

    def uncommon(self, addr: int) -> int | None:
        """The address of the type's ``abi.UncommonType`` (after its kind-specific part), or None."""
        hdr = self.header(addr)
        if not hdr.tflag & TFLAG_UNCOMMON:
            return None
        p = self.elf.ptrsize
        sizes = {KIND_PTR: p, KIND_SLICE: p, KIND_ARRAY: 3 * p, KIND_CHAN: 2 * p, KIND_INTERFACE: 4 * p,
                 KIND_STRUCT: 4 * p, KIND_FUNC: (4 + p - 1) // p * p}
        if hdr.kind == KIND_MAP:
            minor = release_minor(self.go_version)
            if minor is None or minor not in VERIFIED_RELEASES:
                raise _NotComposable(f"the map type at {addr:#x}: its layout in {self.go_version} is not known")
            return addr + self.hsize + _map_type_size(minor, p)
        return addr + self.hsize + sizes.get(hdr.kind, 0)

    def pkgpath(self, addr: int) -> str:
        """The uncommon type's PkgPath ("" without one)."""
        u = self.uncommon(addr)
        if u is None:
            return ""
        off = self.elf.read_uint(u, 4)
        if off is None:
            raise TypeReadError(f"type descriptor at {addr:#x}: uncommon type unreadable")
        off = off - (1 << 32) if off >= 1 << 31 else off
        if off == 0:
            return ""
        name = read_full_name(self.elf, self.types + off)
        if name is None:
            raise TypeReadError(f"type descriptor at {addr:#x}: PkgPath name unreadable")
        return name.name

    def rtype_pkgpath(self, addr: int) -> str:
        """runtime ``rtype.pkgpath`` (runtime/type.go): the uncommon type's PkgPath, else a struct's or an
        interface's own PkgPath, else ""."""
        if self.uncommon(addr) is not None:
            return self.pkgpath(addr)
        if self.header(addr).kind in (KIND_STRUCT, KIND_INTERFACE):
            return self._name_at_ptr(addr + self.hsize)
        return ""

    def method_set(self, addr: int) -> tuple[str, ...]:
        """The methods of the type at *addr*, as its uncommon type lists them (``abi.Method``: name,
        mtyp, ifn, tfn), each ``Name(params) results`` with an unexported name package-qualified: what
        itab init matches an interface's methods against (a ``qualified`` printer only)."""
        assert self.qualified
        u = self.uncommon(addr)
        if u is None:
            return ()
        raw = self.elf.read_va(u + 4, 8)  # Mcount uint16, Xcount uint16, Moff uint32
        if raw is None:
            raise TypeReadError(f"type descriptor at {addr:#x}: uncommon type unreadable")
        order: Literal["little", "big"] = "little" if self.elf.little else "big"
        mcount, moff = int.from_bytes(raw[0:2], order), int.from_bytes(raw[4:8], order)
        if mcount > _MAX_METHODS:
            raise TypeReadError(f"type descriptor at {addr:#x}: {mcount} methods")
        table = self.elf.read_va(u + moff, 16 * mcount)
        if table is None:
            raise TypeReadError(f"type descriptor at {addr:#x}: methods at {u + moff:#x} unreadable")
        out = []
        fmt = ("<" if self.elf.little else ">") + "iiii"
        for name_off, mtyp, _, _ in struct.iter_unpack(fmt, table):
            name = read_full_name(self.elf, self.types + name_off)
            if name is None:
                raise TypeReadError(f"type descriptor at {addr:#x}: method name {name_off:#x} unreadable")
            if mtyp == -1:  # the linker dropped the method's type: the runtime cannot match it either
                raise _NotComposable(f"the type of method {name.name} was removed by the linker")
            mt = self.types + mtyp
            label = self._member(name, lambda: self.pkgpath(addr), addr)
            out.append(label + self._signature(mt, self.header(mt), 1))
        return tuple(sorted(out))

    def referenced(self, addr: int) -> list[int]:
        """The descriptors the type at *addr* refers to (not a named type's methods)."""
        hdr = self.header(addr)
        p = self.elf.ptrsize
        body = addr + self.hsize
        if hdr.kind in (KIND_PTR, KIND_SLICE, KIND_ARRAY, KIND_CHAN):
            return [self._ptr(body)]
        if hdr.kind == KIND_MAP:
            return [self._ptr(body), self._ptr(body + p)]
        if hdr.kind == KIND_STRUCT:
            return [f.type_addr for f in struct_fields(self.elf, addr) or ()]
        if hdr.kind == KIND_FUNC:
            counts = self.elf.read_va(body, 4)
            if counts is None:
                return []
            order: Literal["little", "big"] = "little" if self.elf.little else "big"
            n = int.from_bytes(counts[0:2], order) + (int.from_bytes(counts[2:4], order) & (_VARIADIC - 1))
            start = addr + (self.hsize + 4 + p - 1) // p * p + (UNCOMMON_SIZE if hdr.tflag & TFLAG_UNCOMMON else 0)
            return [self._ptr(start + i * p) for i in range(min(n, _MAX_PARAMS))]
        if hdr.kind == KIND_INTERFACE:
            data, count = self._slice_header(body + p, _MAX_METHODS, "interface methods")
            raw = self.elf.read_va(data, count * 8) if count else b""
            fmt = ("<" if self.elf.little else ">") + "ii"
            return [self.types + t for _, t in struct.iter_unpack(fmt, raw or b"")]
        return []

    def interface_methods(self, addr: int) -> tuple[str, ...] | None:
        """The methods of the interface type at *addr* (as :meth:`identity` prints them), or None if it
        is not an interface."""
        hdr = self.header(addr)
        if hdr.kind != KIND_INTERFACE:
            return None
        return tuple(self._interface_parts(addr, addr + self.hsize, 0))

    def _name_at_ptr(self, at: int) -> str:
        """The name an ``abi.Name`` pointer at *at* points to ("" for nil): a struct's or interface's PkgPath."""
        ptr = self.elf.read_ptr(at)
        if ptr is None:
            raise TypeReadError(f"PkgPath pointer at {at:#x} unreadable")
        if ptr == 0:
            return ""
        name = read_full_name(self.elf, ptr)
        if name is None:
            raise TypeReadError(f"PkgPath name at {ptr:#x} unreadable")
        return name.name

    def _member(self, name: TypeName, enclosing: Callable[[], str], addr: int) -> str:
        """A field or method name as identity has it: an unexported one qualified with its package."""
        if name.exported or not self.qualified:
            return name.name
        if name.pkgpath_off is not None and name.pkgpath_off != 0:
            own = read_full_name(self.elf, self.types + name.pkgpath_off)
            if own is None:
                raise TypeReadError(f"type at {addr:#x}: the package path of {name.name} is unreadable")
            path = own.name
        else:
            path = enclosing()
        if not path:
            raise _NotComposable(f"type at {addr:#x}: unexported {name.name} without a package path")
        return f"{path}.{name.name}"


def _map_type_size(minor: int, p: int) -> int:
    """The size of internal/abi's map type after the ``Type`` header, by release: go1.19-1.23 ``{Key, Elem,
    Bucket *Type; Hasher func; KeySize, ValueSize uint8; BucketSize uint16; Flags uint32}``; go1.24-1.26
    (swiss) ``{Key, Elem, Group *Type; Hasher func; GroupSize, SlotSize, ElemOff uintptr; Flags
    uint32}``; go1.27 ``{Key, Elem, Group; Hasher; GroupSize, KeysOff, KeyStride, ElemsOff, ElemStride,
    ElemOff; Flags uint32}``. Padded to the pointer size."""
    if minor < 24:
        return 4 * p + 8
    words = 7 if minor < 27 else 10
    return (words * p + 4 + p - 1) // p * p


class _NotComposable(Exception):
    """The printed form cannot be rebuilt from the layout (a case soinspect does not model)."""


@frozen
class Symbol:
    """One entry of the plugin's exported symbol table (``go:plugin.tabs``), as Lookup returns it.

    ``kind`` is "func" when the ptab type is a func type (runtime/plugin.go marks those with a leading
    '.'), else "var", whose type is the pointer type the compiler stored (``*int`` for ``var V int``).
    ``type`` is None when it could not be read; ``reason`` then says why.
    """

    name: str
    kind: Literal["func", "var"] | None
    type: str | None
    reason: str = ""
    # derived from the same descriptor (so not compared: a Symbol equals one written by hand)
    #: the type's identity, with import paths (:meth:`TypePrinter.identity`); None if it could not be
    #: read (``identity_reason`` says why)
    identity: str | None = field(default=None, compare=False)
    #: the type's method set (:meth:`TypePrinter.method_set`), what an interface assertion is decided on
    methods: tuple[str, ...] | None = field(default=None, compare=False)
    identity_reason: str = field(default="", compare=False)
    #: what the runtime's ``rtype.pkgpath`` gives for the type (the uncommon PkgPath, else a struct's
    #: or interface's own): a failed assertion's message says "types from different packages" by it
    pkgpath: str = field(default="", compare=False)


def plugin_symbols(
    elf: ElfFile,
    ptab: tuple[tuple[int, int], ...],
    types_base: int,
    go_version: str | None,
) -> tuple[Symbol, ...]:
    """The exported symbols of a plugin, from its ptab (nameOff, typeOff) pairs relative to *types_base*.

    Mirrors ``plugin_lastmoduleinit`` in runtime/plugin.go: ``resolveNameOff(md.types, ptab.name)``,
    ``typeOff(ptab.typ)``, and ``Kind == Func`` for functions.
    """
    problem = layout_problem(go_version)
    printer = TypePrinter(elf, types_base)
    qualified = TypePrinter(elf, types_base, qualified=True, go_version=go_version, reads=printer)
    out: list[Symbol] = []
    for name_off, typ_off in ptab:
        name = read_full_name(elf, types_base + name_off)
        if name is None:
            raise TypeReadError(f"ptab name offset {name_off:#x} from types {types_base:#x} is unreadable")
        if problem is not None:
            out.append(Symbol(name.name, None, None, problem))
            continue
        try:
            t = printer.describe(types_base + typ_off)
        except TypeReadError as exc:
            out.append(Symbol(name.name, None, None, str(exc)))
            continue
        kind: Literal["func", "var"] = "func" if t.kind == "func" else "var"
        if t.composed is not None and t.composed != t.string:
            why = f"the type name {t.string!r} and its layout {t.composed!r} disagree"
            out.append(Symbol(name.name, kind, None, why))
            continue
        ident, methods, why = _identity(qualified, types_base + typ_off)
        try:
            pkgpath = qualified.rtype_pkgpath(types_base + typ_off)
        except (TypeReadError, _NotComposable):
            pkgpath = ""
        out.append(
            Symbol(name.name, kind, t.string, identity=ident, methods=methods, identity_reason=why, pkgpath=pkgpath)
        )
    return tuple(out)


def _identity(printer: TypePrinter, addr: int) -> tuple[str | None, tuple[str, ...] | None, str]:
    try:
        ident = printer.identity(addr)
    except (TypeReadError, _NotComposable) as exc:
        return None, None, str(exc)
    try:
        return ident, printer.method_set(addr), ""
    except (TypeReadError, _NotComposable) as exc:
        return ident, None, f"its method set: {exc}"


@frozen
class NamedType:
    """A named type a module carries a descriptor for: its package's name (what reflect prints before the
    dot) and, for an interface, its methods (:meth:`TypePrinter.interface_methods`)."""

    path: str
    package: str
    methods: tuple[str, ...] | None


#: the most descriptors :func:`named_types` follows from its roots (a module has a few thousand)
_MAX_WALK = 1 << 16


def named_types(
    elf: ElfFile,
    types_base: int,
    offsets: Iterable[int],
    *,
    follow: Iterable[int] = (),
    go_version: str | None = None,
) -> dict[str, NamedType]:
    """The named types among the type descriptors at *types_base* + each of *offsets*, by identity
    (``import/path.Name``), and among those at each of *follow* and every type they reference (elements,
    keys, parameters, fields, interface methods' types: a stripped plugin's exported symbols name the
    packages their types come from). A descriptor that cannot be read is left out (it names nothing
    soinspect can resolve to)."""
    printer = TypePrinter(elf, types_base, qualified=True, go_version=go_version)
    out: dict[str, NamedType] = {}
    todo = [(types_base + off, True) for off in follow] + [(types_base + off, False) for off in offsets]
    seen: set[int] = set()
    while todo and len(seen) < _MAX_WALK:  # bounded: each descriptor once, at most _MAX_WALK of them
        addr, deeper = todo.pop()
        if addr in seen:
            continue
        seen.add(addr)
        if deeper:
            with contextlib.suppress(TypeReadError, _NotComposable):  # an unreadable one leads nowhere
                todo.extend((a, True) for a in printer.referenced(addr))
        try:
            hdr = printer.header(addr)
            if not hdr.tflag & TFLAG_NAMED or not hdr.tflag & TFLAG_UNCOMMON:
                continue
            ident, path = printer.qualified_name(addr), printer.pkgpath(addr)
            if not path:  # a predeclared type (int, error): no package to resolve to
                continue
            package = printer.reflect_string(addr).partition(".")[0]
            out[ident] = NamedType(path, package, printer.interface_methods(addr))
        except (TypeReadError, _NotComposable):
            continue
    return out

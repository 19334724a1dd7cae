"""Bytes to ELF structure: reading the file once, the layout dataclasses, and bulk table readers.

The file is read into memory once (bounded by ``max_size``) with ``O_NONBLOCK`` so that a FIFO or a
device never blocks; everything after that works on those bytes. Every offset, count and length taken
from the file is checked against the file size before it is used, and every loop runs over a count that
was checked that way, so a hostile header cannot make soinspect read or loop beyond the file.
"""

from __future__ import annotations

import errno
import os
import shlex
import stat
import struct
import sys
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import field
from functools import cached_property
from itertools import compress, repeat
from operator import is_not
from typing import TYPE_CHECKING

from soinspect._frozen import frozen
from soinspect.elf.structs import (
    DT_GNU_HASH,
    DT_HASH,
    DT_JMPREL,
    DT_PLTREL,
    DT_PLTRELSZ,
    DT_REL,
    DT_RELA,
    DT_RELASZ,
    DT_RELSZ,
    DT_STRSZ,
    DT_STRTAB,
    DT_SYMTAB,
    DT_VERSYM,
    ELFCLASS32,
    ELFCLASS64,
    ELFDATA2LSB,
    ELFDATA2MSB,
    PT_LOAD,
    SHN_UNDEF,
    SHT_NOBITS,
    ElfLayout,
    Section,
    Segment,
)
from soinspect.errors import FileAccessError, FileTooLargeError, MalformedError, NotELFError, TruncatedError

if TYPE_CHECKING:
    from soinspect.elf._lief import ReadInto

#: Default cap on the size of a file soinspect reads into memory. The largest Go plugins seen are tens of
#: MiB; a file above this is refused with :class:`FileTooLargeError` rather than read.
DEFAULT_MAX_SIZE = 1 << 30

#: The most entries soinspect reads from any one table (symbols, relocations, dynamic entries). A table
#: claiming more is clamped to what the file can hold, and the file can hold at most size/entsize.
_ELF_MAGIC = b"\x7fELF"


@frozen
class Symbol:
    """One ELF symbol table entry, name decoded."""

    name: str
    value: int
    size: int
    info: int
    shndx: int

    @property
    def bind(self) -> int:
        return self.info >> 4

    @property
    def type(self) -> int:
        return self.info & 0xF

    @property
    def defined(self) -> bool:
        return self.shndx != SHN_UNDEF


@frozen
class Relocation:
    offset: int
    type: int
    sym: int
    addend: int | None  # None for REL entries: the addend is in place


def read_file(path: str, max_size: int = DEFAULT_MAX_SIZE) -> bytes:
    """Read a regular file whole, refusing anything that is not one, never blocking.

    Raises :class:`FileAccessError` for a missing file, a directory, a FIFO, a device, a socket, a
    symlink loop or a permission problem, and :class:`FileTooLargeError` above *max_size* bytes.
    """
    fd, st = _open_regular(path, max_size)
    try:
        return _read_all(path, fd, st.st_size, max_size)
    finally:
        os.close(fd)


def read_and_parse(path: str, max_size: int = DEFAULT_MAX_SIZE) -> tuple[bytes, ElfLayout | Exception]:
    """Read *path* whole and parse its ELF layout: (the bytes, the layout or the error that rejects them).

    Raises what :func:`read_file` raises; anything wrong with the bytes is returned, not raised.

    LIEF parses the file first, reading it from the descriptor straight into a buffer of its own, and
    its copy is freed before soinspect reads the bytes it keeps: the peak holds the file once, not twice.
    The tables are then read from those bytes. If the file is not the one LIEF read (its size or
    modification time changed in between, or it reported no size, as files in /proc do), LIEF parses the
    bytes that were read instead, so the layout and the bytes are always one view of one file.
    """
    fd, st = _open_regular(path, max_size)
    try:
        size = st.st_size

        def read(offset: int, n: int) -> bytes:
            return os.pread(fd, max(0, min(n, size - offset)), offset) if offset < size else b""

        def read_into(buffer: memoryview, offset: int) -> int:
            done = 0  # bound: each preadv moves forward or ends the loop
            while done < len(buffer):
                got = os.preadv(fd, [buffer[done:]], offset + done)
                if got <= 0:
                    break
                done += got
            return done

        rejected: Exception | None = None
        try:
            _check_parses(path, size, read(0, _HEAD), read_into, read)
        except MemoryError:
            raise
        except OSError as exc:
            raise FileAccessError(path, f"read failed: {exc.strerror}") from None
        except Exception as exc:  # the bytes' problem: the caller turns it into a rejection
            rejected = exc
        data = _read_all(path, fd, size, max_size)
        after = os.fstat(fd)
    finally:
        os.close(fd)
    try:
        if len(data) != size or after.st_size != size or after.st_mtime_ns != st.st_mtime_ns:
            return data, ElfFile.parse_bytes(path, data)
        if rejected is not None:
            return data, rejected
        from soinspect.elf._lief import raw_layout

        return data, raw_layout(lambda offset, n: data[offset : offset + n], size)  # the tables, from the bytes kept
    except MemoryError:
        raise
    except Exception as exc:
        return data, exc


def _open_regular(path: str, max_size: int) -> tuple[int, os.stat_result]:
    """Open *path* for reading if it is a regular file of at most *max_size* bytes: (fd, its fstat)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise FileAccessError(path, "no such file", kind="missing") from None
    except IsADirectoryError:
        raise FileAccessError(path, "is a directory, not a file") from None
    except PermissionError:
        raise FileAccessError(path, "permission denied: cannot read the file") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise FileAccessError(path, "symbolic link loop") from None
        if exc.errno == errno.ENXIO:
            raise FileAccessError(path, "not a regular file (a socket or a FIFO with no writer)") from None
        raise FileAccessError(path, f"cannot open: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise FileAccessError(path, "is a directory, not a file")
        if not stat.S_ISREG(st.st_mode):
            kind = (
                "a FIFO"
                if stat.S_ISFIFO(st.st_mode)
                else "a device"
                if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
                else "a socket"
                if stat.S_ISSOCK(st.st_mode)
                else "a special file"
            )
            raise FileAccessError(path, f"not a regular file: it is {kind}")
        if st.st_size > max_size:
            raise FileTooLargeError(
                path, f"file is {st.st_size} bytes, over the {max_size}-byte limit (see --max-size)"
            )
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def _read_all(path: str, fd: int, size: int, max_size: int) -> bytes:
    """The file behind *fd* from its current position (the start) to its end, at most *max_size* bytes."""
    chunks: list[bytes] = []
    total = 0
    # Read at most max_size + 1 bytes: a file that grows while being read is cut off here, and
    # everything after works on this one snapshot of it. The first read asks for the size fstat
    # gave plus one byte, so an unchanging file is read by one read() into one buffer of its own
    # size (no 16 MiB buffer, no join: the bytes are in memory once).
    want = size + 1
    while total <= max_size:
        try:
            chunk = os.read(fd, min(want, max_size + 1 - total))
        except IsADirectoryError:
            raise FileAccessError(path, "is a directory, not a file") from None
        except OSError as exc:
            raise FileAccessError(path, f"read failed: {exc.strerror}") from None
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        # Then probe for the end with a small read (no 16 MiB buffer for the usual empty answer); a
        # file longer than fstat said (or a short read) goes on in chunks doubling up to 16 MiB.
        want = 1 << 16 if len(chunks) == 1 else min(2 * want, 1 << 24)
    if total > max_size:
        raise FileTooLargeError(path, f"file grew past the {max_size}-byte limit while being read")
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


#: what the checks before LIEF read from the start of a file: the ELF header, and the sample
#: :func:`sniff_format` looks at to name a file that is not ELF
_HEAD = 512


def read_head(path: str, n: int) -> bytes | None:
    """The first *n* bytes of a regular file, or None if it cannot be read. Never blocks (O_NONBLOCK), and
    gives ``b""`` for something that is not a regular file (a FIFO, a device), without reading it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return b""
        return os.read(fd, n)
    except OSError:
        return None
    finally:
        os.close(fd)


#: the first line of a Git LFS pointer file (git-lfs/docs/spec.md); "hawser" is its pre-1.0 name
_LFS_VERSIONS = (b"version https://git-lfs.github.com/spec/v1\n", b"version https://hawser.github.com/spec/v1\n")
_LFS_MAX = 1024  # the spec caps a pointer file at 1024 bytes


def sniff_format(data: bytes, path: str = "FILE") -> str | None:
    """Name the format of a non-ELF file from its magic bytes, or None if it is ELF.

    The files a CI gate meets instead of a plugin get a name and, where there is one, the fix: a Git LFS
    pointer (the repository was checked out without LFS), an HTML page or other text (a failed
    download), an archive (the plugin was never unpacked). *path* goes into the suggested command.
    """
    if data[:4] == _ELF_MAGIC:
        return None
    if not data:
        return "an empty file (0 bytes), not ELF"
    head4 = data[:4]
    if head4 in (b"\xfe\xed\xfa\xce", b"\xce\xfa\xed\xfe"):
        return "a 32-bit Mach-O file (macOS), not ELF"
    if head4 in (b"\xfe\xed\xfa\xcf", b"\xcf\xfa\xed\xfe"):
        return "a 64-bit Mach-O file (macOS), not ELF"
    if head4 in (b"\xca\xfe\xba\xbe", b"\xbe\xba\xfe\xca"):
        return "a universal (fat) Mach-O file (macOS), not ELF"
    if data[:2] == b"MZ":
        return "a PE/COFF file (Windows), not ELF"
    if data[:2] == b"#!":
        return "a script (starts with #!), not ELF"
    if data[:7] == b"!<arch>":
        return "an ar archive (a static library such as a Go c-archive), not ELF"
    if data[:4] == b"\x00asm":
        return "a WebAssembly module, not ELF"
    if data[:4] == b"PK\x03\x04":
        return "a zip archive, not ELF: unpack the plugin from it"
    if data[:3] == b"\x1f\x8b\x08":
        return "a gzip file, not ELF: unpack the plugin from it"
    if data[:6] == b"\xfd7zXZ\x00":
        return "an xz file, not ELF: unpack the plugin from it"
    if data[:3] == b"BZh":
        return "a bzip2 file, not ELF: unpack the plugin from it"
    if data[:4] == b"\x28\xb5\x2f\xfd":
        return "a zstd file, not ELF: unpack the plugin from it"
    if data[257:262] == b"ustar":
        return "a tar archive, not ELF: unpack the plugin from it"
    if len(data) < 4 and _ELF_MAGIC.startswith(data):
        return f"a {len(data)}-byte file, too short for an ELF header"
    if len(data) <= _LFS_MAX and data.startswith(_LFS_VERSIONS):
        return (
            "a Git LFS pointer, not the file itself (the repository was checked out without Git LFS): "
            f"fetch it with git lfs pull --include={_quote_arg(path)}"
        )
    sample = data[:512]
    if all(32 <= b < 127 or b in (9, 10, 13) for b in sample):
        start = sample.lstrip().lower()
        if start.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
            return f"an HTML page, not ELF (a failed download?): it starts {_first_line(data)}"
        return f"a text file, not ELF (a failed download or an error message?): it starts {_first_line(data)}"
    return "not an ELF file (it does not start with the ELF magic number 7f 45 4c 46)"


def not_elf_fix(problem: str) -> tuple[str, bool]:
    """The fix for a file :func:`sniff_format` named *problem*, and whether it means building the plugin:
    what to do about that kind of file (fetch the LFS object, unpack the archive, fetch it again), not
    "copy it again whole"."""
    if ": fetch it with git lfs pull" in problem or problem.endswith(": unpack the plugin from it"):
        return f"The file is {problem}.", False  # the problem already says what to do
    if problem.startswith(("an HTML page", "a text file")):
        return (
            f"The file is {problem}: the step that fetched it saved an answer, not the plugin; check its URL, "
            "its credentials and that it fails on an HTTP error (curl -f), then fetch the plugin again.",
            False,
        )
    if problem.startswith("an empty file"):
        return "The file is empty: the step that wrote it failed or was cut short; build or fetch it again.", True
    if "Mach-O" in problem or "PE/COFF" in problem:
        return f"The file is {problem}: a Go plugin is an ELF file; build it with GOOS=linux -buildmode=plugin.", True
    if problem.startswith(("a script", "an ar archive", "a WebAssembly")):
        return f"The file is {problem}: build the plugin's package main with go build -buildmode=plugin.", True
    return f"The file is {problem}: it is damaged or not a plugin; build it again, or copy it again whole.", True


def _first_line(data: bytes) -> str:
    """The first non-blank line of a text file, quoted and cut to 60 characters."""
    line = next((ln.strip() for ln in data[:512].splitlines() if ln.strip()), b"")
    text = line.decode("ascii", "replace")
    return repr(text[:60] + ("..." if len(text) > 60 else ""))


def _quote_arg(path: str) -> str:
    """*path* as one shell word (quoted only when it needs it)."""
    return shlex.quote(path)


#: 0, 1, 2, ... shared by every file this process reads: the values of the relocation index, so that
#: building one makes no int per entry
_NUMBERS: list[int] = []
#: tables longer than this get numbers of their own (a hostile table must not grow the shared list)
_MAX_SHARED_NUMBERS = 1 << 17


def _numbers(n: int) -> list[int] | range:
    """0, 1, 2, ...: at least *n* of them (:data:`_NUMBERS` itself, not a copy, where it may hold them)."""
    if n > _MAX_SHARED_NUMBERS:
        return range(n)
    if len(_NUMBERS) < n:
        _NUMBERS.extend(range(len(_NUMBERS), n))
    return _NUMBERS


def _index_of(values: list[int], value: int, start: int) -> int | None:
    """The first index of *value* in *values* from *start* on (a search in C), or None."""
    try:
        return values.index(value, start)
    except ValueError:
        return None


def _byte_tables(values: Collection[int], width: int) -> list[bytes]:
    """For each byte k < *width* (lowest first) of the (64-bit) *values*: a ``bytes.translate`` table that
    maps byte k of each value to 1, every other byte to 0."""
    packed = struct.pack(f"<{len(values)}Q", *values)
    tables = []
    for k in range(width):
        wanted = bytearray(256)
        for b in set(packed[k::8]):
            wanted[b] = 1
        tables.append(bytes(wanted))
    return tables


def _field_in(raw: bytes, ent: int, lanes: tuple[int, ...], tables: list[bytes]) -> bytes:
    """One byte for each *ent*-byte entry of *raw*: 1 where, for each k, the entry's byte at offset
    ``lanes[k]`` is byte k of some value (``tables[k]``: :func:`_byte_tables`), else 0. Every entry whose
    field (bytes *lanes*) holds one of the values is marked, and few others (none for one value). Made in
    C: each byte lane sliced out, mapped through its table (``bytes.translate``), the lanes ANDed as
    integers."""
    n = len(raw) // ent
    if n == 0:
        return b""
    mask = -1
    for at, table in zip(lanes, tables, strict=True):
        mask &= int.from_bytes(raw[at : n * ent : ent].translate(table), "little")
    return mask.to_bytes(n, "little")


def _marked(mask: bytes) -> Iterator[int]:
    """The positions of the 1 bytes of *mask*. Bound: each search moves forward."""
    i = mask.find(1)
    while i >= 0:
        yield i
        i = mask.find(1, i + 1)


class ElfFile:
    """An ELF file in memory: the layout from LIEF plus bounded readers over the raw bytes."""

    def __init__(self, path: str, data: bytes, layout: ElfLayout) -> None:
        self.path = path
        self.data = data
        self.header = layout.header
        self.sections = layout.sections
        self.segments = layout.segments
        self.dynamic = layout.dynamic
        self.is64 = layout.header.elf_class == ELFCLASS64
        self.little = layout.header.data_encoding != ELFDATA2MSB
        self.ptrsize = 8 if self.is64 else 4
        self.endian = "<" if self.little else ">"
        self._ptrfmt = self.endian + ("Q" if self.is64 else "I")
        self._ptr_struct = struct.Struct(self._ptrfmt)
        self._ptr_mask = (1 << (8 * self.ptrsize)) - 1
        self._sym_size = 24 if self.is64 else 16
        self._rsym_shift = 32 if self.is64 else 8  # r_info's symbol index: ELF64_R_SYM, ELF32_R_SYM
        #: (st_shndx, st_value) of an ELF64 symbol, (st_value, st_shndx) of an ELF32 one
        self._shndx_value = struct.Struct(self.endian + ("6xHQ" if self.is64 else "4xI6xH"))
        self._half = struct.Struct(self.endian + "H")
        #: (st_name, st_info) of a symbol
        self._name_info = struct.Struct(self.endian + ("IB" if self.is64 else "I8xB"))
        #: REL (False) and RELA (True) entry layouts for this class and byte order
        self._rel_struct = {
            False: struct.Struct(self.endian + ("QQ" if self.is64 else "II")),
            True: struct.Struct(self.endian + ("QQq" if self.is64 else "IIi")),
        }
        #: (table, anchor) -> every offset of the anchor in the table's string table (:meth:`_name_offsets`)
        self._anchor_hits: dict[tuple[str, bytes], list[int]] = {}
        #: tag -> the strings of its dynamic entries (:meth:`dyn_strings`)
        self._dyn_strings: dict[int, tuple[str, ...]] = {}
        self._loads = sorted((s for s in self.segments if s.type == PT_LOAD), key=lambda s: s.vaddr)
        self._last_load: Segment | None = None  # reads cluster in one segment: try it first

    # -- construction -------------------------------------------------------------------------------
    @classmethod
    def from_bytes(cls, path: str, data: bytes) -> ElfFile:
        """The ELF file whose bytes are *data*; raises :class:`InvalidFileError` if they are not one."""
        return cls(path, data, cls.parse_bytes(path, data))

    @staticmethod
    def parse_bytes(path: str, data: bytes) -> ElfLayout:
        source = memoryview(data)

        def read_into(buffer: memoryview, offset: int) -> int:
            chunk = source[offset : offset + len(buffer)]
            buffer[: len(chunk)] = chunk
            return len(chunk)

        return _parse(path, len(data), data[:_HEAD], read_into, lambda offset, n: data[offset : offset + n])

    # -- lookups ------------------------------------------------------------------------------------
    def section(self, name: str) -> Section | None:
        for s in self.sections:
            if s.name == name:
                return s
        return None

    def section_bytes(self, sec: Section) -> bytes:
        """Bytes of *sec* in the file, or b"" if it has none (NOBITS) or lies outside the file."""
        if sec.type == SHT_NOBITS or sec.size == 0:
            return b""
        end = sec.offset + sec.size
        if sec.offset < 0 or end > len(self.data):
            return b""
        return self.data[sec.offset : end]

    @cached_property
    def _dyn_by_tag(self) -> dict[int, list[int]]:
        """Each tag's values in table order: the dynamic table read once (the loader model asks each object
        for several tags, and the library objects of a sysroot are asked again for every plugin)."""
        out: dict[int, list[int]] = {}
        for e in self.dynamic:
            out.setdefault(e.tag, []).append(e.value)
        return out

    def dyn(self, tag: int) -> int | None:
        values = self._dyn_by_tag.get(tag)
        return values[0] if values else None

    def dyn_all(self, tag: int) -> list[int]:
        return list(self._dyn_by_tag.get(tag, ()))

    def va_to_offset(self, va: int, size: int = 1) -> int | None:
        """File offset of [va, va+size) when it lies wholly in one PT_LOAD's file-backed part."""
        last = self._last_load
        if last is not None and last.vaddr <= va and va + size <= last.vaddr + last.filesz:
            off = last.offset + (va - last.vaddr)
            return off if off >= 0 and off + size <= len(self.data) else None
        for seg in self._loads:
            if seg.vaddr <= va and va + size <= seg.vaddr + seg.filesz:
                self._last_load = seg
                off = seg.offset + (va - seg.vaddr)
                if off >= 0 and off + size <= len(self.data):
                    return off
                return None
        return None

    def read_va(self, va: int, size: int) -> bytes | None:
        """*size* bytes at virtual address *va*, or None if they are not all in the file."""
        if size < 0 or size > len(self.data):
            return None
        if size == 0:
            return b""
        last = self._last_load  # va_to_offset's first test, here: the hottest call of a file's reading
        if last is not None and last.vaddr <= va and va + size <= last.vaddr + last.filesz:
            start = last.offset + (va - last.vaddr)
            return self.data[start : start + size] if start >= 0 and start + size <= len(self.data) else None
        off = self.va_to_offset(va, size)
        return None if off is None else self.data[off : off + size]

    def in_bss(self, va: int) -> bool:
        """True if *va* lies in the zero-filled (memsz > filesz) tail of a PT_LOAD."""
        return any(seg.vaddr + seg.filesz <= va < seg.vaddr + seg.memsz for seg in self._loads)

    def dynstr_at(self, strtab: bytes, offset: int) -> str:
        if offset < 0 or offset >= len(strtab):
            return ""
        end = strtab.find(b"\0", offset)
        if end < 0:
            end = len(strtab)
        return strtab[offset:end].decode("utf-8", "replace")

    # -- dynamic string table and symbols ------------------------------------------------------------
    @cached_property
    def dynstr(self) -> bytes:
        sec = self.section(".dynstr")
        if sec is not None:
            b = self.section_bytes(sec)
            if b:
                return b
        addr, size = self.dyn(DT_STRTAB), self.dyn(DT_STRSZ)
        if addr is None or size is None or size <= 0:
            return b""
        return self.read_va(addr, min(size, len(self.data))) or b""

    def dyn_strings(self, tag: int) -> list[str]:
        strings = self._dyn_strings.get(tag)
        if strings is None:  # decoded once per tag
            strtab = self.dynstr
            strings = self._dyn_strings[tag] = tuple(self.dynstr_at(strtab, v) for v in self.dyn_all(tag))
        return list(strings)

    @cached_property
    def dynsym_raw(self) -> bytes:
        """The raw .dynsym bytes (from the section header, else from DT_SYMTAB and a counted length)."""
        sec = self.section(".dynsym")
        if sec is not None:
            b = self.section_bytes(sec)
            if b:
                return b
        addr = self.dyn(DT_SYMTAB)
        if addr is None:
            return b""
        entsize = 24 if self.is64 else 16
        count = self._dynsym_count_from_hash()
        if count is None:
            # Without a hash table, .dynsym ends where the next table begins: DT_STRTAB follows it in
            # every layout the GNU and Go linkers write; cap by the file.
            strtab = self.dyn(DT_STRTAB)
            if strtab is None or strtab <= addr:
                return b""
            count = (strtab - addr) // entsize
        count = max(0, min(count, len(self.data) // entsize))
        return self.read_va(addr, count * entsize) or b""

    def _dynsym_count_from_hash(self) -> int | None:
        h = self.dyn(DT_HASH)
        if h is not None:
            hdr = self.read_va(h, 8)
            if hdr is not None:
                nchain: int = struct.unpack(self.endian + "II", hdr)[1]
                return nchain  # nchain == number of symbols
        g = self.dyn(DT_GNU_HASH)
        if g is None:
            return None
        hdr = self.read_va(g, 16)
        if hdr is None:
            return None
        nbuckets, symoffset, bloom_size, _shift = struct.unpack(self.endian + "IIII", hdr)
        buckets_va = g + 16 + bloom_size * self.ptrsize
        if nbuckets > len(self.data) // 4:
            return None
        raw = self.read_va(buckets_va, nbuckets * 4)
        if raw is None:
            return None
        buckets: tuple[int, ...] = struct.unpack(f"{self.endian}{nbuckets}I", raw)
        last = max(buckets, default=0)
        if last < symoffset:
            return int(symoffset)
        chain_va = buckets_va + nbuckets * 4
        # Walk the last bucket's chain to its end bit; bounded by the file size.
        for i in range(last, last + len(self.data) // 4):
            word = self.read_va(chain_va + (i - symoffset) * 4, 4)
            if word is None:
                return None
            if struct.unpack(self.endian + "I", word)[0] & 1:
                return i + 1
        return None

    @cached_property
    def dynsym_count(self) -> int:
        return len(self.dynsym_raw) // (24 if self.is64 else 16)

    def iter_dynsym(self) -> Iterator[Symbol]:
        yield from self._iter_symbols(self.dynsym_raw, self.dynstr)

    # -- targeted symbol lookups (the fast path: no Python object per symbol) -------------------------
    def _table(self, table: str) -> tuple[bytes, bytes]:
        """(symbol table bytes, its string table bytes) for ``dynsym`` or ``symtab``."""
        if table == "dynsym":
            return self.dynsym_raw, self.dynstr
        return self._symtab_tables

    @cached_property
    def _symtab_tables(self) -> tuple[bytes, bytes]:
        sec = self.section(".symtab")
        if sec is None:
            return b"", b""
        strsec = self.section(".strtab")
        return self.section_bytes(sec), self.section_bytes(strsec) if strsec is not None else b""

    def _packed_names(self, table: str) -> bytes:
        """The st_name fields of *table*, 4 bytes each in the file's byte order, back to back: symbol *i*'s
        at ``4 * i``. Searched with ``bytes.find`` for a few names (no Python object per symbol)."""
        key = f"_packed_names_{table}"
        packed: bytes | None = self.__dict__.get(key)
        if packed is None:
            raw, _ = self._table(table)
            ent = self._sym_size
            words = memoryview(raw[: len(raw) // ent * ent]).cast("I")
            packed = self.__dict__[key] = words[:: ent // 4].tobytes()  # st_name: the first u32 of an entry
        return packed

    def _next_with_name(self, table: str, offset: int, start: int) -> int | None:
        """The index of the first symbol of *table* from *start* on whose st_name is *offset*."""
        if not 0 <= offset < 1 << 32:
            return None
        packed = self._packed_names(table)
        needle = offset.to_bytes(4, "little" if self.little else "big")
        pos = packed.find(needle, 4 * start)
        while pos & 3:  # inside two fields, not one: on. Bound: find moves forward, -1 (odd) ends it
            if pos < 0:
                return None
            pos = packed.find(needle, pos + 1)
        return pos >> 2

    def _is_defined(self, table: str, i: int) -> bool:
        """st_shndx of symbol *i* is not SHN_UNDEF (a u16 at byte 6 of an ELF64 entry, 14 of an ELF32 one)."""
        raw, _ = self._table(table)
        shndx: int = struct.unpack_from(self.endian + "H", raw, i * self._sym_size + (6 if self.is64 else 14))[0]
        return shndx != SHN_UNDEF

    #: a lookup of at most this many st_name offsets at once searches the packed names for each (a search
    #: stops at its first hit); more (a prefix's) take one pass over the whole table, :meth:`_candidates`.
    #: Measured on greet.so's 4,511 symbols: one search 10-19 us, the pass 60-80 us whatever the count
    _FEW_OFFSETS = 3

    def _first_index(self, table: str, offset: int, *, defined: bool) -> int | None:
        """The index of the first symbol of *table* whose st_name is *offset* (defined, if *defined*)."""
        i = self._next_with_name(table, offset, 0)
        # an undefined one first: the next with that name. Bound: each search starts past the last
        while i is not None and defined and not self._is_defined(table, i):
            i = self._next_with_name(table, offset, i + 1)
        return i

    def _with_name_offsets(self, table: str, offsets: set[int], *, defined: bool) -> list[int]:
        """Indexes, in table order, of the first symbol (the first defined one if *defined*) for each of
        the st_name *offsets*. A few offsets: a search for each; many (a prefix's): one pass over the
        table's candidates, where an offset whose first symbol is undefined goes on to its next."""
        if len(offsets) <= self._FEW_OFFSETS:
            found = (self._first_index(table, o, defined=defined) for o in offsets)
            return sorted(i for i in found if i is not None)
        raw, _ = self._table(table)
        ent = self._sym_size
        n = len(raw) // ent
        # st_name and st_shndx of an entry in one read (ELF64: name, info, other, shndx; ELF32: shndx at 14)
        name_shndx = struct.Struct(self.endian + ("I2xH" if self.is64 else "I10xH"))
        remaining = {o for o in offsets if 0 <= o < 1 << 32}
        out: list[int] = []
        candidates = self._candidates(raw, n, ent, remaining)
        i = candidates.find(1)
        while i >= 0 and remaining:  # bound: find moves forward
            name, shndx = name_shndx.unpack_from(raw, i * ent)
            if name in remaining and (not defined or shndx != SHN_UNDEF):
                out.append(i)
                remaining.discard(name)
            i = candidates.find(1, i + 1)
        return out

    def _candidates(self, raw: bytes, n: int, ent: int, offsets: set[int]) -> bytes:
        """One byte for each of the first *n* *ent*-byte symbols of *raw*: 1 where each of the three low
        bytes of its st_name is the same byte of some offset in *offsets* (so every symbol named by one of
        them is a candidate, and few others are), else 0. Made in C: each byte lane of the st_name fields
        sliced out, mapped through a table of the bytes wanted (``bytes.translate``), the lanes ANDed as
        integers."""
        mask = -1
        for k in range(3):  # the fourth byte is 0 in any string table under 16 MiB: no filter
            wanted = bytearray(256)
            for o in offsets:
                wanted[(o >> 8 * k) & 0xFF] = 1
            lane = raw[(k if self.little else 3 - k) : n * ent : ent]
            mask &= int.from_bytes(lane.translate(wanted), "little")
        return mask.to_bytes(n, "little") if n else b""

    @staticmethod
    def _occurrences(strtab: bytes, needle: bytes) -> set[int]:
        """Every offset of *needle* in *strtab*. Bound: find moves forward, at most len(strtab) times."""
        out: set[int] = set()
        pos = strtab.find(needle)
        while pos >= 0:
            out.add(pos)
            pos = strtab.find(needle, pos + 1)
        return out

    #: substrings that several of the names looked up share: each table's strings are searched once for
    #: each, and a name that holds one is found among its hits. "moduledata" is in the six names of the
    #: module data, its type and the code that adds it; a "go:link." name is found as the rest of it
    #: (which the older "go.link." spelling of the same name shares)
    _ANCHORS = (b"moduledata",)
    _LINK_PREFIXES = (b"go:link.", b"go.link.")

    def _name_offsets(self, table: str, needle: bytes) -> set[int]:
        """Every offset of *needle* in *table*'s string table (:meth:`_occurrences`), found through an
        anchor it holds where it has one: one search of the strings serves all the names that share it."""
        _, strtab = self._table(table)
        anchor = next((a for a in self._ANCHORS if a in needle), None)
        if anchor is None and needle[:8] in self._LINK_PREFIXES:
            anchor = needle[3:]
        if anchor is None:
            return self._occurrences(strtab, needle)
        hits = self._anchor_hits.get((table, anchor))
        if hits is None:
            hits = self._anchor_hits[table, anchor] = sorted(self._occurrences(strtab, anchor))
        k = needle.index(anchor)
        return {p - k for p in hits if p >= k and strtab.startswith(needle, p - k)}

    def _symbol(self, table: str, i: int) -> Symbol | None:
        raw, strtab = self._table(table)
        ent = 24 if self.is64 else 16
        if i < 0 or (i + 1) * ent > len(raw):
            return None
        if self.is64:
            name, info, _other, shndx, value, size = struct.unpack_from(self.endian + "IBBHQQ", raw, i * ent)
        else:
            name, value, size, info, _other, shndx = struct.unpack_from(self.endian + "IIIBBH", raw, i * ent)
        return Symbol(self.dynstr_at(strtab, name), value, size, info, shndx)

    def find_symbol(self, name: str, table: str = "dynsym", *, defined: bool = True) -> Symbol | None:
        """The first symbol called *name* in ``.dynsym`` or ``.symtab`` (defined ones unless told)."""
        # A linker may share string tails, so every occurrence of the name in the string table is a
        # candidate name offset; the first symbol, in table order, that names any of them is the answer.
        offsets = self._name_offsets(table, name.encode() + b"\0")
        if not offsets:
            return None
        hits = self._with_name_offsets(table, offsets, defined=defined)
        return self._symbol(table, hits[0]) if hits else None

    def symbols_with_prefix(self, prefix: str, table: str = "dynsym") -> list[Symbol]:
        """Defined symbols whose name starts with *prefix*, first definition per name, in table order."""
        out = (self._symbol(table, i) for i, _ in self._with_prefix(prefix, table))
        return [sym for sym in out if sym is not None]

    def values_with_prefix(self, prefix: str, table: str = "dynsym") -> list[tuple[str, int, int]]:
        """(name, st_value, st_size) of each symbol :meth:`symbols_with_prefix` gives, with no
        :class:`Symbol` made (a file's package fingerprints: tens of them)."""
        raw, _ = self._table(table)
        value_size = struct.Struct(self.endian + ("8xQQ" if self.is64 else "4xII"))
        found = self._with_prefix(prefix, table)
        return [(name, *value_size.unpack_from(raw, i * self._sym_size)) for i, name in found]

    def _with_prefix(self, prefix: str, table: str) -> list[tuple[int, str]]:
        """(index, name) of the first defined symbol of each name that starts with *prefix*, in table order."""
        raw, strtab = self._table(table)
        offsets = self._name_offsets(table, prefix.encode())
        if not offsets:
            return []
        name_at = struct.Struct(self.endian + "I")  # st_name: a u32 at byte 0
        seen: set[str] = set()
        out: list[tuple[int, str]] = []
        for i in self._with_name_offsets(table, offsets, defined=True):
            name = self.dynstr_at(strtab, name_at.unpack_from(raw, i * self._sym_size)[0])
            if name not in seen:
                seen.add(name)
                out.append((i, name))
        return out

    @cached_property
    def dynsym_by_name(self) -> dict[str, Symbol]:
        """Defined .dynsym symbols by name (first definition wins). One object per symbol: for tools and
        tests; the analysis uses :meth:`find_symbol` and :meth:`symbols_with_prefix`."""
        return self._by_name("dynsym")

    @cached_property
    def symtab_present(self) -> bool:
        sec = self.section(".symtab")
        return sec is not None and sec.size > 0

    @cached_property
    def symtab_by_name(self) -> dict[str, Symbol]:
        """Defined .symtab symbols by name, locals included; empty for a stripped file. As above."""
        return self._by_name("symtab")

    def _by_name(self, table: str) -> dict[str, Symbol]:
        raw, strtab = self._table(table)
        out: dict[str, Symbol] = {}
        for sym in self._iter_symbols(raw, strtab):
            if sym.defined and sym.name and sym.name not in out:
                out[sym.name] = sym
        return out

    def _iter_symbols(self, raw: bytes, strtab: bytes) -> Iterator[Symbol]:
        if self.is64:
            fmt = self.endian + "IBBHQQ"
            for name, info, _other, shndx, value, size in struct.iter_unpack(fmt, raw[: len(raw) // 24 * 24]):
                yield Symbol(self.dynstr_at(strtab, name), value, size, info, shndx)
        else:
            fmt = self.endian + "IIIBBH"
            for name, value, size, info, _other, shndx in struct.iter_unpack(fmt, raw[: len(raw) // 16 * 16]):
                yield Symbol(self.dynstr_at(strtab, name), value, size, info, shndx)

    # -- relocations ----------------------------------------------------------------------------------
    @cached_property
    def _reloc_tables(self) -> list[tuple[bytes, int, bool]]:
        """The raw dynamic relocation tables (DT_RELA, DT_REL, DT_JMPREL): (bytes, entry size, is RELA)."""
        tables: list[tuple[int | None, int | None, bool]] = [
            (self.dyn(DT_RELA), self.dyn(DT_RELASZ), True),
            (self.dyn(DT_REL), self.dyn(DT_RELSZ), False),
        ]
        jmprel = self.dyn(DT_JMPREL)
        if jmprel is not None:
            tables.append((jmprel, self.dyn(DT_PLTRELSZ), self.dyn(DT_PLTREL) == DT_RELA))
        out = []
        for addr, size, rela in tables:
            if addr is None or size is None or size <= 0:
                continue
            raw = self.read_va(addr, min(size, len(self.data)))
            if not raw:
                continue
            ent = (24 if rela else 16) if self.is64 else (12 if rela else 8)
            out.append((raw[: len(raw) // ent * ent], ent, rela))
        return out

    def _column(self, raw: bytes, ent: int, at: int, code: str) -> list[int]:
        """The field at byte *at* (struct code *code*: ``H``, ``I``, ``Q``, ``q``) of every *ent*-byte entry
        of *raw*, in bulk: a strided memoryview when the byte order is native, else one unpack."""
        width = struct.calcsize(code)
        raw = raw[: len(raw) // ent * ent]
        if (sys.byteorder == "little") == self.little and ent % width == 0 and at % width == 0:
            words: list[int] = memoryview(raw).cast(code)[at // width :: ent // width].tolist()  # type: ignore[call-overload]
            return words
        fmt = f"{self.endian}{at}x{code}{ent - at - width}x"
        return [t[0] for t in struct.iter_unpack(fmt, raw)]

    @cached_property
    def _reloc_index(self) -> dict[int, int]:
        """Patched address -> table number << 32 | entry number; a later table's entry wins, as it applies last."""
        index: dict[int, int] = {}
        for t, (raw, ent, _rela) in enumerate(self._reloc_tables):
            n = len(raw) // ent
            offsets = self._column(raw, ent, 0, "Q" if self.is64 else "I")
            entries = _numbers(n) if t == 0 else range(t << 32, (t << 32) + n)  # the first: shared ints
            index.update(zip(offsets, entries, strict=False))  # n offsets: the shared numbers may run on
        return index

    def relocation_at(self, va: int) -> Relocation | None:
        where = self._reloc_index.get(va)
        if where is None:
            return None
        raw, ent, rela = self._reloc_tables[where >> 32]
        i = where & 0xFFFFFFFF
        chunk = raw[i * ent : (i + 1) * ent]
        if self.is64:
            t = struct.unpack(self.endian + ("QQq" if rela else "QQ"), chunk)
            rtype, rsym = t[1] & 0xFFFFFFFF, t[1] >> 32
        else:
            t = struct.unpack(self.endian + ("IIi" if rela else "II"), chunk)
            rtype, rsym = t[1] & 0xFF, t[1] >> 8
        return Relocation(t[0], rtype, rsym, t[2] if rela else None)

    def relative_relocations_to(self, value: int) -> list[int]:
        """Addresses of relative relocations (no symbol) that leave *value* in place (pointers to *value*).

        A RELA entry carries its addend (64-bit files); a REL entry (linux/386 and linux/arm) adds the word
        already in place, so there the word in the file is the pointer, as glibc's ``elf_machine_rel_relative``
        reads it."""
        out = []
        has_rel = False
        for raw, ent, rela in self._reloc_tables:
            if not rela:
                has_rel = True
                continue
            word = "q" if self.is64 else "i"
            addends = self._column(raw, ent, 2 * struct.calcsize(word), word)
            offsets = self._column(raw, ent, 0, word.upper())
            i = _index_of(addends, value, 0)
            while i is not None:  # each match, found in C. Bound: the search moves forward
                rel = self.relocation_at(offsets[i])
                if rel is not None and rel.sym == 0:
                    out.append(rel.offset)
                i = _index_of(addends, value, i + 1)
        if has_rel:
            out.extend(self._rel_words_equal_to(value))
        return sorted(set(out))

    def _rel_words_equal_to(self, value: int) -> list[int]:
        """Addresses of aligned words holding *value* in loaded segments that a REL relative relocation
        patches. Bound: one forward search per PT_LOAD segment."""
        out = []
        needle = value.to_bytes(self.ptrsize, "little" if self.little else "big")
        for seg in self.segments:
            if seg.type != 1:  # PT_LOAD
                continue
            start, end = seg.offset, min(seg.offset + seg.filesz, len(self.data))
            i = self.data.find(needle, start, end)
            while i >= 0:  # bound: find moves forward
                va = seg.vaddr + (i - start)
                if va % self.ptrsize == 0:
                    rel = self.relocation_at(va)
                    if rel is not None and rel.sym == 0 and rel.addend is None:
                        out.append(va)
                i = self.data.find(needle, i + 1, end)
        return out

    @property
    def has_relocations(self) -> bool:
        return bool(self._reloc_tables)

    # -- pointer reads with relocations applied ---------------------------------------------------------
    def read_ptr(self, va: int) -> int | None:
        """The pointer stored at *va* as the dynamic loader would leave it, relative to load base 0.

        A relative relocation contributes its addend; a symbolic one, the defining symbol's value plus
        addend when this file defines the symbol. Without a relocation, the bytes in place. (Hot: the
        module data and type descriptors are read pointer by pointer, so this avoids building objects.)
        """
        off = self.va_to_offset(va, self.ptrsize)
        if off is None:
            return None
        inplace: int = self._ptr_struct.unpack_from(self.data, off)[0]
        where = self._reloc_index.get(va)
        if where is None:
            return inplace
        return self._relocated(where, inplace)

    def read_words(
        self, va: int, count: int, *, every: int = 1, at: tuple[int, ...] = (0,)
    ) -> tuple[list[int], list[int]] | None:
        """*count* pointer-sized words at *va*: (as the bytes hold them, as :meth:`read_ptr` reads each),
        in one read; None unless all of them are in the file. For arrays of pointers read in bulk (a
        struct type's fields): one bounds check and one unpack instead of one per word. With *every* k,
        only the words f, k + f, 2k + f, ... for each f in *at* are read as pointers (the others are as
        the bytes hold them in both lists): an array of records of k words of which only the fields at
        *at* are wanted as pointers."""
        p = self.ptrsize
        if count < 0 or count * p > len(self.data) or every < 1 or not all(0 <= f < every for f in at):
            return None
        off = self.va_to_offset(va, count * p) if count else 0
        if off is None:
            return None
        inplace = list(struct.unpack_from(f"{self.endian}{count}{'Q' if p == 8 else 'I'}", self.data, off))
        ptrs = inplace[:]
        for f in at:
            wheres = list(map(self._reloc_index.get, range(va + f * p, va + count * p, every * p)))  # in C
            for j in compress(range(len(wheres)), map(is_not, wheres, repeat(None))):  # the words relocated
                w = j * every + f
                ptrs[w] = self._relocated(wheres[j], inplace[w])  # type: ignore[arg-type]  # compressed
        return inplace, ptrs

    def _relocated(self, where: int, inplace: int) -> int:
        """The pointer a relocation (``_reloc_index`` entry *where*) leaves over the word *inplace*."""
        raw, ent, rela = self._reloc_tables[where >> 32]
        t = self._rel_struct[rela].unpack_from(raw, (where & 0xFFFFFFFF) * ent)
        rsym = t[1] >> self._rsym_shift
        addend: int = t[2] if rela else inplace
        if rsym == 0:
            return addend & self._ptr_mask
        value = self._defined_dynsym_value(rsym)
        if value is not None:
            return (value + addend) & self._ptr_mask
        return inplace

    def _defined_dynsym_value(self, index: int) -> int | None:
        """st_value of ``.dynsym`` entry *index* if it is defined (st_shndx not SHN_UNDEF), else None; the
        name is not decoded (a symbolic relocation needs only the value: a type descriptor's fields)."""
        symbols = self.dynsym_raw
        at = index * self._sym_size
        if index < 0 or at + self._sym_size > len(symbols):
            return None
        if self.is64:
            shndx, value = self._shndx_value.unpack_from(symbols, at)
        else:
            value, shndx = self._shndx_value.unpack_from(symbols, at)
        return int(value) if shndx != SHN_UNDEF else None

    def reloc_symbol(self, va: int) -> str | None:
        """Name of the symbol a symbolic relocation at *va* refers to, if any. (Read field by field, with
        no Relocation or Symbol made: it is asked once per package fingerprint.)"""
        where = self._reloc_index.get(va)
        if where is None:
            return None
        raw, ent, rela = self._reloc_tables[where >> 32]
        info = self._rel_struct[rela].unpack_from(raw, (where & 0xFFFFFFFF) * ent)[1]
        rsym = info >> self._rsym_shift
        if rsym == 0 or (rsym + 1) * self._sym_size > len(self.dynsym_raw):
            return None
        st_name: int = struct.unpack_from(self.endian + "I", self.dynsym_raw, rsym * self._sym_size)[0]  # byte 0
        return self.dynstr_at(self.dynstr, st_name)

    def undefined_relocation_symbols(self, *, plt_first: bool = False) -> list[int]:
        """The undefined ``.dynsym`` indices (:attr:`undefined_dynsym`, not 0) the dynamic relocations refer to,
        each once, in the order a loader meets them: the tables in glibc's order (DT_RELA, DT_REL, DT_JMPREL),
        or with ``plt_first`` in musl's (DT_JMPREL, DT_REL, DT_RELA); within a table, entry by entry. A
        plugin's relocations name thousands of its own (defined) symbols and a few dozen undefined ones: the
        entries whose symbol index may be one of those are marked in C (:func:`_field_in`, over the index's
        bytes), and only they are read."""
        undefined = self.undefined_dynsym - {0}
        if not undefined:
            return []
        if self.is64:  # ELF64_R_SYM: the high half of r_info (bytes 8-15), lowest byte first
            lanes: tuple[int, ...] = (12, 13, 14, 15) if self.little else (11, 10, 9, 8)
        else:  # ELF32_R_SYM: the three high bytes of r_info (bytes 4-7)
            lanes = (5, 6, 7) if self.little else (6, 5, 4)
        # the index's bytes that an index of the table may have: an index that matches an undefined one in
        # these and not above them lies past the table (a damaged entry), and is dropped when read
        lanes = lanes[: max(1, ((self.dynsym_count - 1).bit_length() + 7) // 8)]
        wanted = _byte_tables(undefined, len(lanes))
        tables = self._reloc_tables[::-1] if plt_first else self._reloc_tables
        seen: dict[int, None] = {}
        for raw, ent, rela in tables:
            entry = self._rel_struct[rela]
            for j in _marked(_field_in(raw, ent, lanes, wanted)):
                i = entry.unpack_from(raw, j * ent)[1] >> self._rsym_shift
                if i in undefined:  # each byte is some undefined index's, the index itself may be none
                    seen[i] = None
        return list(seen)

    def defined_at(self, index: int) -> bool:
        """``.dynsym`` entry *index* (in range) is defined: st_shndx is not SHN_UNDEF."""
        return self._is_defined("dynsym", index)

    @cached_property
    def undefined_dynsym(self) -> frozenset[int]:
        """The indices of the ``.dynsym`` entries whose st_shndx is SHN_UNDEF (both its bytes 0, in either byte
        order), marked in C (:func:`_field_in`): a plugin has thousands of (defined) symbols of its own and a
        few dozen undefined ones."""
        raw, _ = self._table("dynsym")
        at = 6 if self.is64 else 14
        return frozenset(_marked(_field_in(raw, self._sym_size, (at, at + 1), _byte_tables((SHN_UNDEF,), 2))))

    @cached_property
    def versym_raw(self) -> bytes | None:
        """The bytes of ``.gnu.version`` (DT_VERSYM): a u16 per ``.dynsym`` entry; None without one or when it
        lies outside the file."""
        addr = self.dyn(DT_VERSYM)
        if addr is None:
            return None
        return self.read_va(addr, 2 * self.dynsym_count)

    @cached_property
    def versym(self) -> tuple[int, ...] | None:
        """``.gnu.version`` (DT_VERSYM): one version index per ``.dynsym`` entry (bit 15: hidden), or None."""
        raw = self.versym_raw
        if raw is None:
            return None
        return struct.unpack(f"{self.endian}{len(raw) // 2}H", raw)

    def versym_of(self, indices: Iterable[int]) -> list[int]:
        """The :attr:`versym` entries *indices* (0 past its end or without one): those read, not the table."""
        raw = self.versym_raw
        if raw is None:
            return [0 for _ in indices]
        n, entry = len(raw) // 2, self._half
        return [entry.unpack_from(raw, 2 * i)[0] if 0 <= i < n else 0 for i in indices]

    def defined_entries(self, name: str) -> list[tuple[int, Symbol]]:
        """Every defined ``.dynsym`` entry called *name* (a library may define one name at several
        versions), with its index, in table order."""
        offsets = self._name_offsets("dynsym", name.encode() + b"\0")
        out: list[tuple[int, Symbol]] = []
        for offset in offsets:
            i = self._next_with_name("dynsym", offset, 0)
            while i is not None and len(out) < self.dynsym_count:  # bound: each search starts past the last
                if self._is_defined("dynsym", i):
                    sym = self._symbol("dynsym", i)
                    if sym is not None:
                        out.append((i, sym))
                i = self._next_with_name("dynsym", offset, i + 1)
        return sorted(out, key=lambda e: e[0])

    def dynsym_names_binds(self, indices: Iterable[int]) -> list[tuple[int, str, int]]:
        """(index, name, binding: st_info >> 4) of each of the ``.dynsym`` entries *indices* that lies in the
        table, in the order given: two fields read, no :class:`Symbol` made."""
        raw, strtab, ent, name_info = self.dynsym_raw, self.dynstr, self._sym_size, self._name_info
        out: list[tuple[int, str, int]] = []
        for i in indices:
            if i >= 0 and (i + 1) * ent <= len(raw):
                name, info = name_info.unpack_from(raw, i * ent)
                out.append((i, self.dynstr_at(strtab, name), info >> 4))
        return out

    def read_uint(self, va: int, size: int) -> int | None:
        off = self.va_to_offset(va, size) if size > 0 else None
        if off is None:
            return None
        return int.from_bytes(self.data[off : off + size], "little" if self.little else "big")


def _parse(
    path: str, size: int, head: bytes, read_into: ReadInto, read: Callable[[int, int], bytes]
) -> ElfLayout:
    """The checks that come before LIEF, on the first bytes *head* of a *size*-byte file, then LIEF (reading
    the file through *read_into*) and the tables as the file has them (read through *read*)."""
    _check_parses(path, size, head, read_into, read)
    from soinspect.elf._lief import raw_layout

    return raw_layout(read, size)


def _check_parses(path: str, size: int, head: bytes, read_into: ReadInto, read: Callable[[int, int], bytes]) -> None:
    """:func:`_parse` up to its reading of the tables: raises what rejects the file."""
    # A file that is not ELF is named from all of its bytes (sniff_format may look at its length too).
    what = sniff_format(head if head[:4] == _ELF_MAGIC else read(0, size), path)
    if what is not None:
        raise NotELFError(path, what)
    if size < 16:
        raise TruncatedError(path, f"file is {size} bytes, shorter than the 16-byte ELF ident")
    ei_class, ei_data = head[4], head[5]
    if ei_class not in (ELFCLASS32, ELFCLASS64):
        raise MalformedError(path, f"bad ELF class byte {ei_class:#x} (want 1 or 2)", offset=4)
    if ei_data not in (ELFDATA2LSB, ELFDATA2MSB):
        raise MalformedError(path, f"bad ELF data encoding byte {ei_data:#x} (want 1 or 2)", offset=5)
    ehsize = 64 if ei_class == ELFCLASS64 else 52
    if size < ehsize or len(head) < ehsize:
        raise TruncatedError(path, f"file is {size} bytes, shorter than the {ehsize}-byte ELF header")
    _check_header_tables(path, head, size, ei_class == ELFCLASS64, "<" if ei_data == ELFDATA2LSB else ">")
    from soinspect.elf._lief import check_parses  # the one door to LIEF

    check_parses(path, size, read_into, read, head)  # the header already read


def _check_header_tables(path: str, data: bytes, size: int, is64: bool, e: str) -> None:
    """Check that the program header table (which the loader needs) lies inside the *size*-byte file."""
    if is64:
        phoff, shoff = struct.unpack_from(e + "QQ", data, 32)
        phentsize, phnum, shentsize, shnum = struct.unpack_from(e + "HHHH", data, 54)
    else:
        phoff, shoff = struct.unpack_from(e + "II", data, 28)
        phentsize, phnum, shentsize, shnum = struct.unpack_from(e + "HHHH", data, 42)
    if phnum and phoff + phnum * phentsize > size:
        raise TruncatedError(
            path,
            f"program header table ({phnum} x {phentsize} bytes at {phoff:#x}) ends past the end of the "
            f"{size}-byte file",
        )
    del shoff, shentsize, shnum


def load(path: str, max_size: int = DEFAULT_MAX_SIZE) -> ElfFile:
    """Read *path* and parse its ELF layout. Raises the project's own errors only."""
    return ElfFile.from_bytes(path, read_file(path, max_size))


@frozen
class Truncation:
    """Where an ELF file is cut short, if it is."""

    what: str
    needed: int
    size: int = field(default=0)
    #: a PT_LOAD is cut (the loader maps missing pages: SIGBUS); False: only non-loaded sections are cut,
    #: which glibc and the Go runtime never read
    loaded: bool = True


def find_truncation(elf: ElfFile) -> Truncation | None:
    """The first PT_LOAD or section whose file range ends past the end of the file."""
    size = len(elf.data)
    for i, seg in enumerate(elf.segments):
        if seg.type == PT_LOAD and seg.filesz and seg.offset + seg.filesz > size:
            return Truncation(
                f"PT_LOAD segment {i} (file bytes {seg.offset:#x}+{seg.filesz:#x})",
                seg.offset + seg.filesz,
                size,
            )
    for sec in elf.sections:
        if sec.type != SHT_NOBITS and sec.size and sec.offset + sec.size > size:
            return Truncation(
                f"section {sec.name or '?'} ({sec.offset:#x}+{sec.size:#x})", sec.offset + sec.size, size, False
            )
    return None

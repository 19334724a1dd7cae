"""The two other readers soinspect is checked against, and the one place their answers are normalised.

* Go's ``debug/buildinfo`` through ``go version -m -json`` (go1.27.3): build info, field by field.
* pyelftools: the ELF header, program headers, section headers and the dynamic table.

Normalisations, one rule each (every other difference is a disagreement, a bug on one side):

1. Invalid UTF-8: Go's JSON encoder writes one U+FFFD per invalid byte, Python's ``decode("utf-8",
   "replace")`` one per maximal invalid run; runs of U+FFFD are compared as one.
2. (tests/test_buildinfo_differential.py, rule 1) Go 1.22+ finds build info only through the
   ``.go.buildinfo`` section header; soinspect also searches the first writable PT_LOAD without one.
3. (same file, rule 2) Before Go 1.13 there is no blob; soinspect reads ``runtime.buildVersion``.
4. Where ``runtime/debug.ParseBuildInfo`` rejects the module info, Go's reader returns no build info at
   all; soinspect keeps the Go version and says why the rest is missing (``BuildInfoResult.problems``).
   They agree when both reject it.
5. Go's bug, not a normalisation: Go's ``searchMagic`` (debug/buildinfo/buildinfo.go:392-404, go1.27.3),
   after skipping a misaligned copy of the magic, goes on in the re-sliced chunk (``data = data[next:]``)
   but returns ``start + uint64(i)``, the next match's index as if counted from the chunk's start: it reads
   a header at the wrong address, and says "not a Go executable" or reads a "version" made of whatever
   bytes are there. Where the ``.go.buildinfo`` section holds a misaligned magic before the aligned one,
   Go's answer, none or any, is not compared (:func:`go_misses_after_misaligned_magic`;
   tests/test_regressions.py shows both on the real ``go``).
6. Go's ``debug/elf.NewFile`` refuses the whole file over a section header table glibc never reads (a
   section name index outside ``.shstrtab`` or with no NUL, file.go:632-636; ``e_shnum`` with ``e_shoff``
   0, file.go:382; a name table cut by the end of the file, file.go:627; ...): ``go version -m`` then reads
   no build info, though the loaded plugin has it. Where :func:`go_elf_refusal` (NewFile's checks, in
   its order) says Go's ELF reader refuses the file, Go's "none" is not compared.
7. pyelftools reads program headers whose ``e_phentsize`` is smaller than an ``Elf_Phdr`` when
   ``e_phoff`` is 0 (elftools/elf/elffile.py ``_segment_offset`` checks the size only for ``e_phoff >
   0``): overlapping entries made of the ELF header. glibc refuses such a file (elf/dl-load.c
   ``open_verify``: "ELF file's phentsize not the expected size", which soinspect's loader model says),
   Go's NewFile too (file.go:399-401), and soinspect reads no segment. Its program headers and the
   dynamic table found through them are not compared there (:func:`pyelftools_misreads_phdrs`).
8. pyelftools reads the dynamic table of the first PT_DYNAMIC at its ``p_offset`` (elftools/elf/dynamic.py,
   ``DynamicSegment.__init__``, and elftools_facts's ``dyn[0]``); glibc's loader reads the last one's
   (each overwrites ``l_ld``) at its ``p_vaddr`` in the mapped segments (elf/dl-load.c
   ``_dl_map_object_from_fd``: ``l_ld = ph->p_vaddr``; seen on glibc 2.36: a library whose ``p_offset``
   was moved loads), and so does soinspect, where the PT_LOAD that maps ``p_vaddr`` has it in the file.
   Where there is more than one PT_DYNAMIC, or that place is not ``p_offset`` (or no PT_LOAD maps it from
   the file), the dynamic table is not compared (:func:`pyelftools_reads_dynamic_elsewhere`).
9. pyelftools reads a section name from ``sh_offset + sh_name`` of the name table up to the next NUL
   anywhere in the file (elftools/elf/sections.py ``StringTableSection.get_string``: no bound by
   ``sh_size``), so a name with no NUL before the table's end, or an ``sh_name`` past its end, is made of
   the bytes after the table. Go's
   ``getString`` (debug/elf/file.go:761-772) stops at the table's end (and NewFile then refuses the file,
   file.go:632-636); soinspect reads "". Such a name of pyelftools' is compared as ""
   (:func:`names_past_their_table`).
10. With ``e_phnum`` 0xffff (``PN_XNUM``) pyelftools, like Go's debug/elf, takes the count of program
    headers from section 0's ``sh_info``; glibc reads ``e_phnum``, as soinspect does. The count, the
    program headers and the dynamic table are not compared there (:func:`pyelftools_extends_phnum`).
11. Where the dynamic table has no DT_NULL inside its PT_LOAD's file bytes and that segment's
    ``p_memsz`` exceeds its ``p_filesz``, pyelftools reads on from the file; glibc reads the zeros the
    loader put there, as soinspect does (seen on glibc 2.36). The dynamic table is not compared there
    (:func:`pyelftools_reads_file_for_zeros`).
12. A section header table that runs past the end of the file: pyelftools reads the entries whose own
    bytes are in the file; Go's NewFile refuses the file (file.go:536); soinspect reads none. The
    sections are not compared there (:func:`section_table_past_the_end`).
13. ``e_shstrndx`` 0 (no name table): pyelftools reads names from section 0's bytes; Go (file.go:617-621)
    and soinspect leave every name "". Its names compare as "" there (:func:`no_section_name_table`).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from soinspect.elf.file import ElfFile
from soinspect.elf.structs import PT_DYNAMIC, PT_LOAD
from soinspect.go.buildinfo import ALIGN as BUILDINFO_ALIGN
from soinspect.go.buildinfo import BUILDINFO_MAGIC, BuildInfo, BuildInfoResult

_FFFD_RUN = re.compile("\ufffd+")


def collapse_fffd(value: Any) -> Any:
    """Rule 1: every run of U+FFFD in every string of *value* (dicts, lists) becomes one."""
    if isinstance(value, str):
        return _FFFD_RUN.sub("\ufffd", value)
    if isinstance(value, list):
        return [collapse_fffd(v) for v in value]
    if isinstance(value, dict):
        return {k: collapse_fffd(v) for k, v in value.items()}
    return value


# -- Go ---------------------------------------------------------------------------------------------------


def go_binary() -> str | None:
    env = os.environ.get("SOINSPECT_GO")
    if env:
        return env
    cand = Path(os.environ.get("SOINSPECT_TOOLCHAINS", "/opt/sgo")) / "1.27.3" / "bin" / "go"
    return str(cand) if cand.exists() else None


def _go_module(m: Any) -> dict[str, Any] | None:
    if not m:
        return None
    return {
        "path": m.get("Path", ""),
        "version": m.get("Version", ""),
        "sum": m.get("Sum", ""),
        "replace": _go_module(m.get("Replace")),
    }


def go_fields(go: dict[str, Any]) -> dict[str, Any]:
    """``go version -m -json`` output as soinspect's build info fields."""
    main = _go_module(go.get("Main"))
    if main == {"path": "", "version": "", "sum": "", "replace": None}:
        main = None
    return {
        "go_version": go["GoVersion"],
        "path": go.get("Path", ""),
        "main": main,
        "deps": [_go_module(d) for d in go.get("Deps") or []],
        "settings": [{"key": s["Key"], "value": s.get("Value", "")} for s in go.get("Settings") or []],
    }


def our_fields(b: BuildInfo) -> dict[str, Any]:
    def mod(m: Any) -> dict[str, Any] | None:
        if m is None:
            return None
        return {"path": m.path, "version": m.version, "sum": m.sum, "replace": mod(m.replace)}

    return {
        "go_version": b.go_version,
        "path": b.path,
        "main": mod(b.main),
        "deps": [mod(d) for d in b.deps],
        "settings": [{"key": s.key, "value": s.value} for s in b.settings],
    }


#: the sentinel's module path: greet.so with its path "command-line-arguments" overwritten (same length)
SENTINEL_PATH = "soinspect/fuzz/sentinl"


def make_sentinel(path: str) -> None:
    """A Go plugin whose build info no mutant has: greet.so with :data:`SENTINEL_PATH` as its path."""
    import corpus

    data = Path(corpus.path("greet.so")).read_bytes()
    old = b"\tcommand-line-arguments\n"
    assert data.count(old) == 1 and len(SENTINEL_PATH) == len(old) - 2
    with open(path, "wb") as fh:
        fh.write(data.replace(old, b"\t" + SENTINEL_PATH.encode() + b"\n"))


def go_version_m(
    files: Sequence[str], sentinel: str, alone: Collection[str] = ()
) -> dict[str, dict[str, Any] | None]:
    """``go version -m -json`` of many files in one run: file -> its JSON, or None where Go reads none.

    Go prints the JSON objects of the files it could read, in argument order, with no file name, and for
    a file it cannot read it may print nothing at all. So every file is followed by *sentinel*
    (:func:`make_sentinel`): the objects between two sentinel objects are the one file's between them.
    A file that holds the sentinel's path itself (the fuzzer learns it from the comparison below) could
    pass for the sentinel: the caller names those in *alone*, and each of them gets a ``go`` of its own.
    """
    go = go_binary()
    if go is None:
        raise RuntimeError("no Go toolchain: set SOINSPECT_GO")
    env = dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="", GOPROXY="off")
    out: dict[str, dict[str, Any] | None] = {}
    for f in alone:
        proc = subprocess.run([go, "version", "-m", "-json", f], capture_output=True, env=env, timeout=300)
        objs = _json_objects(proc.stdout.decode("utf-8"))
        if len(objs) > 1:
            raise RuntimeError(f"go version -m: {len(objs)} objects for one file {f}: {proc.stderr!r}")
        out[f] = objs[0] if objs else None
    batch = [f for f in files if f not in out]
    if not batch:
        return {f: out[f] for f in files}
    argv = [a for f in batch for a in (f, sentinel)]
    proc = subprocess.run([go, "version", "-m", "-json", *argv], capture_output=True, env=env, timeout=300)
    groups: list[list[dict[str, Any]]] = [[]]
    for obj in _json_objects(proc.stdout.decode("utf-8")):
        if obj.get("Path") == SENTINEL_PATH:
            groups.append([])
        else:
            groups[-1].append(obj)
    groups.pop()  # after the last sentinel: nothing
    if len(groups) != len(batch) or any(len(g) > 1 for g in groups):
        raise RuntimeError(f"go version -m: cannot match its output to {len(batch)} files: {proc.stderr!r}")
    out.update((f, g[0] if g else None) for f, g in zip(batch, groups, strict=True))
    return {f: out[f] for f in files}


def _json_objects(text: str) -> list[dict[str, Any]]:
    decoder = json.JSONDecoder()
    objs: list[dict[str, Any]] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return objs
        obj, pos = decoder.raw_decode(text, pos)
        objs.append(obj)


class GoBatch:
    """Mutants waiting for ``go version -m``: Go is run once per *size* mutants (one process each would
    cost more than soinspect's own reading)."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self.dir = tempfile.mkdtemp(prefix="soinspect-fuzz-go-")
        self.sentinel = os.path.join(self.dir, "sentinel")
        make_sentinel(self.sentinel)
        self.pending: list[tuple[str, bytes, BuildInfoResult | None, bool, bool]] = []
        #: pending files that hold the sentinel's path (:func:`go_version_m`)
        self.alone: set[str] = set()

    def add(self, elf: ElfFile, ours: BuildInfoResult | None, tag: bytes = b"") -> list[tuple[bytes, tuple[str, str]]]:
        """Queue a mutant (known to the caller as *tag*) with soinspect's build info; when the batch is
        full, compare them all: (tag, (part, what differs)) for every disagreement."""
        path = os.path.join(self.dir, f"m{len(self.pending)}")
        with open(path, "wb") as fh:
            fh.write(elf.data)
        bugs = go_misses_after_misaligned_magic(elf), go_elf_refusal(elf.data) is not None
        self.pending.append((path, tag, ours, *bugs))
        if SENTINEL_PATH.encode() in elf.data:
            self.alone.add(path)
        return self.flush() if len(self.pending) >= self.size else []

    def flush(self) -> list[tuple[bytes, tuple[str, str]]]:
        pending, self.pending = self.pending, []
        if not pending:
            return []
        alone, self.alone = self.alone, set()
        theirs = go_version_m([p for p, _, _, _, _ in pending], self.sentinel, alone)
        return [
            (tag, why)
            for path, tag, ours, bug, refused in pending
            if (why := compare_buildinfo(theirs[path], ours, bug, refused))
        ]


def go_misses_after_misaligned_magic(elf: ElfFile) -> bool:
    """Rule 5: the first build info magic in ``.go.buildinfo`` (where Go's reader looks, from the section's
    first 16-byte-aligned address) is misaligned, and an aligned one follows it."""
    sec = elf.section(".go.buildinfo")
    if sec is None:
        return False
    data = elf.section_bytes(sec)
    skip = (-sec.addr) % BUILDINFO_ALIGN
    first = data.find(BUILDINFO_MAGIC, skip)
    if first < 0 or (first - skip) % BUILDINFO_ALIGN == 0:
        return False
    at = data.find(BUILDINFO_MAGIC, first + 1)
    while at >= 0 and (at - skip) % BUILDINFO_ALIGN:
        at = data.find(BUILDINFO_MAGIC, at + 1)
    return at >= 0


def go_elf_refusal(data: bytes) -> str | None:
    """Rule 6: why Go's ``debug/elf.NewFile`` (go1.27.3, debug/elf/file.go:288-640) refuses *data*, or
    None where it reads it. Its checks, in its order; a read past the end of the file is its EOF error."""
    size = len(data)
    if data[:4] != b"\x7fELF" or size < 16:
        return "bad magic number"
    if data[4] not in (1, 2) or data[5] not in (1, 2) or data[6] != 1:
        return "unknown ELF class, data encoding or version"  # file.go:301-324
    is64, e = data[4] == 2, "<" if data[5] == 1 else ">"
    ehdr = 64 if is64 else 52
    if size < ehdr:
        return "EOF reading the ELF header"
    if is64:
        version, _, phoff, shoff = struct.unpack_from(e + "IQQQ", data, 20)
        phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from(e + "HHHHH", data, 54)
    else:
        version, _, phoff, shoff = struct.unpack_from(e + "IIII", data, 20)
        phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from(e + "HHHHH", data, 42)
    if version != 1:
        return "mismatched ELF version"  # file.go:344/363
    if shoff >= 1 << 63 or phoff >= 1 << 63:
        return "invalid shoff or phoff"  # file.go:375-380
    if shoff == 0 and shnum != 0:
        return "invalid ELF shnum for shoff=0"  # file.go:382
    if shnum > 0 and shstrndx >= shnum:
        return "invalid ELF shstrndx"  # file.go:386
    want_ph, want_sh = (56, 64) if is64 else (32, 40)
    if phnum > 0 and phentsize < want_ph:
        return "invalid ELF phentsize"  # file.go:399
    sh = struct.Struct(e + ("IIQQQQIIQQ" if is64 else "IIIIIIIIII"))  # name type flags addr off size link info
    if shoff > 0 and (shnum == 0 or phnum == 0xFFFF):  # file.go:413-467
        if shoff + sh.size > size:
            return "EOF reading section 0"
        _, typ, _, _, _, sec0_size, link, info, _, _ = sh.unpack_from(data, shoff)
        if typ != 0:
            return "invalid type of the initial section"
        if shnum == 0:
            if sec0_size < 0xFF00:
                return "invalid ELF shnum contained in sh_size"
            shnum = sec0_size
        if phnum == 0xFFFF:
            if info < 0xFFFF:
                return "invalid ELF phnum contained in sh_info"
            phnum = info
        if shstrndx == 0xFFFF:
            shstrndx = link
            if shstrndx < 0xFF00 or shstrndx >= shnum:
                return "invalid ELF shstrndx contained in sh_link"
    if phoff + phnum * phentsize > size:
        return "EOF reading the program headers"  # file.go:478
    ph = struct.Struct(e + ("IIQQQQQQ" if is64 else "IIIIIIII"))
    for i in range(phnum):
        fields = ph.unpack_from(data, phoff + i * phentsize)
        off, filesz = (fields[2], fields[5]) if is64 else (fields[1], fields[4])
        if off >= 1 << 63 or filesz >= 1 << 63:
            return "invalid program header offset or file size"  # file.go:511-516
    if shnum > 0 and shentsize < want_sh:
        return "invalid ELF shentsize"  # file.go:522
    if shoff + shnum * shentsize > size:
        return "EOF reading the section headers"  # file.go:536
    rows = [sh.unpack_from(data, shoff + i * shentsize) for i in range(shnum)]
    for _, _, flags, _, off, fsize, _, _, _, _ in rows:
        if off >= 1 << 63 or fsize >= 1 << 63:
            return "invalid section offset or size"  # file.go:573-578
        if flags & 0x800 and (fsize < (24 if is64 else 12) or off + (24 if is64 else 12) > size):
            return "EOF reading a compression header"  # file.go:584-604
    if not rows or shstrndx == 0:
        return None
    _, typ, flags, _, off, fsize, _, _, _, _ = rows[shstrndx]
    if typ != 3:
        return "invalid ELF section name string table type"  # file.go:624
    if flags & 0x800:
        return None  # a compressed name table: not followed here (Go decompresses it)
    if off + fsize > size:
        return "EOF reading the section name table"  # file.go:627
    table = data[off : off + fsize]
    for row in rows:
        if row[0] >= len(table) or table.find(b"\0", row[0]) < 0:
            return "bad section name index"  # file.go:632-636 (getString)
    return None


def compare_buildinfo(
    go: dict[str, Any] | None,
    result: BuildInfoResult | None,
    go_search_bug: bool = False,
    go_elf_refuses: bool = False,
) -> tuple[str, str] | None:
    """None when soinspect's build info is what Go's reader gives, else (which part, what differs)."""
    ours = result.info if result is not None else None
    if go_search_bug:
        return None  # rule 5: Go's bug, whatever it read
    if go is None:
        if ours is None:
            return None
        if ours.source.startswith("segment scan") or ours.format == "buildversion":
            return None  # rules 2 and 3
        if result is not None and result.problems:
            return None  # rule 4
        if go_elf_refuses:
            return None  # rule 6: Go's ELF reader refuses a section table glibc never reads
        return "only-soinspect-reads", f"go reads no build info, soinspect reads {our_fields(ours)}"
    if ours is None:
        return "only-go-reads", f"go reads {go_fields(go)}, soinspect none ({result.reason if result else ''})"
    if result is not None and result.problems:
        return "soinspect-rejects", f"go reads {go_fields(go)}, soinspect rejects it: {result.problems[0]}"
    want, got = collapse_fffd(go_fields(go)), collapse_fffd(our_fields(ours))
    if want == got:
        return None
    diffs = [k for k in want if want[k] != got.get(k)]
    return diffs[0], "; ".join(f"{k}: go {want[k]!r}, soinspect {got[k]!r}" for k in diffs)


# -- pyelftools -------------------------------------------------------------------------------------------


def _enum_value(value: Any, *enums: Mapping[str, int]) -> int:
    if isinstance(value, int):
        return value
    for e in enums:
        if value in e:
            return e[value]
    raise KeyError(value)


def elftools_facts(data: bytes) -> dict[str, Any]:
    """What pyelftools reads from *data*: each of header, segments, sections, dynamic, or absent where
    pyelftools cannot parse that part (any exception it raises there)."""
    from elftools.elf import enums
    from elftools.elf.elffile import ELFFile

    out: dict[str, Any] = {}
    try:
        ef = ELFFile(io.BytesIO(data))
        h = ef.header
        ident = h["e_ident"]
        out["header"] = {
            "elf_class": _enum_value(ident["EI_CLASS"], enums.ENUM_EI_CLASS),
            "data_encoding": _enum_value(ident["EI_DATA"], enums.ENUM_EI_DATA),
            "os_abi": _enum_value(ident["EI_OSABI"], enums.ENUM_EI_OSABI),
            "file_type": _enum_value(h["e_type"], enums.ENUM_E_TYPE),
            "machine": _enum_value(h["e_machine"], enums.ENUM_E_MACHINE),
            "entry": h["e_entry"],
            "phoff": h["e_phoff"],
            "phnum": ef.num_segments(),
            "shoff": h["e_shoff"],
            "shnum": ef.num_sections(),
            "flags": h["e_flags"],
        }
    except Exception:
        return out
    p_types = {**enums.ENUM_P_TYPE_BASE, **enums.ENUM_P_TYPE_ARM, **enums.ENUM_P_TYPE_AARCH64}
    try:
        segs = list(ef.iter_segments())
        out["segments"] = [
            {
                "type": _enum_value(s["p_type"], p_types),
                "flags": s["p_flags"],
                "offset": s["p_offset"],
                "vaddr": s["p_vaddr"],
                "filesz": s["p_filesz"],
                "memsz": s["p_memsz"],
            }
            for s in segs
        ]
    except Exception:
        segs = None
    sh_types = {**enums.ENUM_SH_TYPE_BASE, **enums.ENUM_SH_TYPE_AMD64, **enums.ENUM_SH_TYPE_AARCH64}
    with contextlib.suppress(Exception):  # pyelftools cannot parse the section headers
        out["sections"] = [
            {
                "name": s.name,
                "type": _enum_value(s["sh_type"], sh_types),
                "flags": s["sh_flags"],
                "addr": s["sh_addr"],
                "offset": s["sh_offset"],
                "size": s["sh_size"],
                "entsize": s["sh_entsize"],
            }
            for s in ef.iter_sections()
        ]
    if segs is not None:
        try:
            dyn = [s for s in segs if s["p_type"] == "PT_DYNAMIC"]
            tags: list[dict[str, int]] = []
            if dyn:
                d_tags = {**enums.ENUM_D_TAG, **enums.ENUM_D_TAG_AARCH64}
                for t in dyn[0].iter_tags():  # type: ignore[attr-defined]
                    tags.append({"tag": _enum_value(t.entry.d_tag, d_tags), "value": t.entry.d_val})
            out["dynamic"] = tags
        except Exception:
            pass
    return out


def soinspect_elf_facts(elf: ElfFile) -> dict[str, Any]:
    h = elf.header
    return {
        "header": {k: getattr(h, k) for k in h.__dataclass_fields__},
        "segments": [{k: getattr(s, k) for k in s.__dataclass_fields__} for s in elf.segments],
        "sections": [{k: getattr(s, k) for k in s.__dataclass_fields__} for s in elf.sections],
        "dynamic": [{"tag": e.tag, "value": e.value} for e in elf.dynamic],
    }


def pyelftools_misreads_phdrs(elf: ElfFile) -> bool:
    """Rule 7: program headers of an ``e_phentsize`` smaller than an ``Elf_Phdr`` at ``e_phoff`` 0, which
    pyelftools reads (overlapping) where glibc and Go refuse them."""
    at = 54 if elf.is64 else 42
    phentsize, phnum = struct.unpack_from(elf.endian + "HH", elf.data, at)
    return phnum > 0 and elf.header.phoff == 0 and phentsize < (56 if elf.is64 else 32)


def pyelftools_reads_dynamic_elsewhere(elf: ElfFile) -> bool:
    """Rule 8: more than one PT_DYNAMIC, or its ``p_offset`` is not where the PT_LOAD that maps its
    ``p_vaddr`` has it in the file (or none does)."""
    dyns = [s for s in elf.segments if s.type == PT_DYNAMIC]
    if len(dyns) > 1:
        return True
    if not dyns or dyns[0].filesz == 0:
        return False
    dyn = dyns[0]
    load = next((s for s in elf.segments if s.type == PT_LOAD and s.vaddr <= dyn.vaddr < s.vaddr + s.filesz), None)
    return load is None or load.offset + (dyn.vaddr - load.vaddr) != dyn.offset


def pyelftools_extends_phnum(elf: ElfFile) -> bool:
    """Rule 10: ``e_phnum`` is ``PN_XNUM`` (0xffff). pyelftools (``ELFFile.num_segments``), like Go's
    ``debug/elf`` (file.go:408-453), then takes the count from section 0's ``sh_info``; glibc's loader reads
    ``e_phnum`` itself, as soinspect does: a gcc-built library of 9 program headers with ``e_phnum`` 0xffff
    and section 0's ``sh_info`` 9 fails ``dlopen`` ("cannot read file data") on glibc 2.36
    (``tests/test_regressions.py``)."""
    at = 56 if elf.is64 else 44
    return bool(struct.unpack_from(elf.endian + "H", elf.data, at)[0] == 0xFFFF)


def names_past_their_table(elf: ElfFile) -> list[int]:
    """Rule 9: the sections whose ``sh_name`` is past the end of the name table, or no NUL follows it
    before the table's end (pyelftools reads outside the table)."""
    h, e = elf.header, elf.endian
    at = 58 if elf.is64 else 46
    shentsize, _, shstrndx = struct.unpack_from(e + "HHH", elf.data, at)
    if not elf.sections or not 0 < shstrndx < len(elf.sections):
        return []
    table = elf.sections[shstrndx]
    data = elf.data[table.offset : table.offset + table.size]
    out = []
    for i in range(len(elf.sections)):
        name_at = struct.unpack_from(e + "I", elf.data, h.shoff + i * shentsize)[0]
        if name_at >= len(data) or data.find(b"\0", name_at) < 0:
            out.append(i)
    return out


def pyelftools_reads_file_for_zeros(elf: ElfFile) -> bool:
    """Rule 11: the dynamic table has no DT_NULL inside the file bytes of the PT_LOAD that maps it, and
    that segment's ``p_memsz`` exceeds its ``p_filesz``. pyelftools reads on from the file; glibc reads
    the segment's memory, where the loader has put zeros after the file bytes (a DT_NULL), as soinspect
    does: a gcc-built library whose next file entry is DT_NEEDED loads there, and fails ``dlopen`` over
    that DT_NEEDED where ``p_memsz`` equals ``p_filesz`` (``tests/test_regressions.py``)."""
    dyn = next((s for s in reversed(elf.segments) if s.type == PT_DYNAMIC), None)
    if dyn is None or not elf.dynamic:
        return False
    load = next((s for s in elf.segments if s.type == PT_LOAD and s.vaddr <= dyn.vaddr < s.vaddr + s.filesz), None)
    if load is None or load.memsz <= load.filesz:
        return False
    entsize = 16 if elf.is64 else 8
    return dyn.vaddr + len(elf.dynamic) * entsize > load.vaddr + load.filesz


def section_table_past_the_end(elf: ElfFile) -> bool:
    """Rule 12: the section header table (``e_shnum`` entries, or section 0's ``sh_size`` where that is 0,
    of ``e_shentsize`` bytes at ``e_shoff``) runs past the end of the file. pyelftools reads each entry on
    its own at ``e_shoff + i * e_shentsize``, so it reads the entries whose own bytes are in the file;
    Go's NewFile reads the whole table
    (``saferio.ReadDataAt``, file.go:536) and refuses the file; soinspect, like Go, reads none (glibc never
    reads section headers: it is no refusal)."""
    shentsize = struct.unpack_from(elf.endian + "H", elf.data, 58 if elf.is64 else 46)[0]
    shnum = elf.header.shnum  # e_shnum, or section 0's sh_size where e_shnum is 0
    return elf.header.shoff > 0 and shnum > 0 and elf.header.shoff + shnum * shentsize > len(elf.data)


def no_section_name_table(elf: ElfFile) -> bool:
    """Rule 13: ``e_shstrndx`` is 0 (``SHN_UNDEF``: no section name table). pyelftools takes section 0
    as the name table all the same and reads names from its bytes; Go's NewFile (file.go:617-621) and
    soinspect leave every name ""."""
    at = 62 if elf.is64 else 50
    return bool(struct.unpack_from(elf.endian + "H", elf.data, at)[0] == 0)


def compare_elf(elf: ElfFile) -> list[tuple[str, str]]:
    """(part.field, what differs) for every part pyelftools could parse where soinspect reads otherwise."""
    theirs = elftools_facts(elf.data)
    ours = soinspect_elf_facts(elf)
    if pyelftools_misreads_phdrs(elf):  # rule 7
        theirs.pop("segments", None)
        theirs.pop("dynamic", None)
    if pyelftools_reads_dynamic_elsewhere(elf):  # rule 8
        theirs.pop("dynamic", None)
    if pyelftools_extends_phnum(elf):  # rule 10: their count of program headers is not the loader's
        if "header" in theirs:
            theirs["header"]["phnum"] = ours["header"]["phnum"]
        theirs.pop("segments", None)
        theirs.pop("dynamic", None)
    if pyelftools_reads_file_for_zeros(elf):  # rule 11
        theirs.pop("dynamic", None)
    if section_table_past_the_end(elf):  # rule 12
        theirs.pop("sections", None)
    if "sections" in theirs:  # rules 9 and 13
        past = range(len(theirs["sections"])) if no_section_name_table(elf) else names_past_their_table(elf)
        for i in past:
            if i < len(theirs["sections"]):
                theirs["sections"][i]["name"] = ""
    out: list[tuple[str, str]] = []
    for part, their in theirs.items():
        our = ours[part]
        if our == their:
            continue
        if isinstance(our, dict):
            for k in our:
                if our[k] != their.get(k):
                    out.append((f"{part}.{k}", f"pyelftools {their.get(k)!r}, soinspect {our[k]!r}"))
            continue
        if len(our) != len(their):
            out.append((f"{part}.count", f"pyelftools {len(their)}, soinspect {len(our)}"))
            continue
        for i, (a, b) in enumerate(zip(their, our, strict=True)):
            for k in b:
                if a.get(k) != b[k]:
                    out.append((f"{part}.{k}", f"[{i}] pyelftools {a.get(k)!r}, soinspect {b[k]!r}"))
                    break
            else:
                continue
            break
    return out


if __name__ == "__main__":  # a quick look: python -m fuzz.oracles FILE
    from soinspect.elf.file import load

    for f in sys.argv[1:]:
        print(f, compare_elf(load(f)))

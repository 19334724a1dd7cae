"""Structured mutations of real corpus files: the property tests' mutator (tests/test_fuzz_properties.py).

A mutation sets one of the file's structures (an ELF header field, a program or section header field, a
``.dynamic`` entry, the build info header and its varints, a module data word, the moduledata type
descriptor) to an interesting value (0, all ones, the file size, 2^31, 2^32, 2^63, ...), flips bytes in a
table, cuts the file at a structure's boundary, or splices bytes from elsewhere over a structure. The
coverage-guided harnesses (:mod:`fuzz.harnesses`) steer by coverage instead; this mutator gives the
normal test suite, through hypothesis, damage that is plausible from the first example.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import corpus
from fuzz.overlay import Region
from soinspect.elf import file as _elf
from soinspect.elf.structs import SHT_NOBITS
from soinspect.go import facts

INTERESTING = (
    0,
    1,
    2,
    7,
    8,
    0x10,
    0x40,
    0x7F,
    0x80,
    0xFF,
    0x100,
    0x7FFF,
    0x8000,
    0xFFFF,
    0x10000,
    0x7FFFFFFF,
    0x80000000,
    0xFFFFFFFF,
    1 << 32,
    1 << 40,
    1 << 44,
    (1 << 63) - 1,
    1 << 63,
    (1 << 64) - 1,
)


@dataclass(frozen=True)
class Seed:
    name: str
    data: bytes
    fields: tuple[Region, ...]  # fixed-width integers worth setting to interesting values
    regions: tuple[Region, ...]  # byte ranges worth flipping bytes in
    cuts: tuple[int, ...]  # truncation points


def seed_of(name: str) -> Seed:
    """Map where the structures of a real corpus file are, using soinspect on the pristine bytes."""
    path = corpus.path(name)
    data = Path(path).read_bytes()
    elf = _elf.ElfFile.from_bytes(path, data)
    p = elf.ptrsize
    fields: list[Region] = []
    regions: list[Region] = []
    cuts: set[int] = {0, 1, 4, 16, 52, 63, 64, len(data) - 1, len(data) // 2}
    h = elf.header
    ehdr64 = [("e_type", 16, 2), ("e_machine", 18, 2), ("e_version", 20, 4), ("e_entry", 24, 8),
              ("e_phoff", 32, 8), ("e_shoff", 40, 8), ("e_flags", 48, 4), ("e_ehsize", 52, 2),
              ("e_phentsize", 54, 2), ("e_phnum", 56, 2), ("e_shentsize", 58, 2), ("e_shnum", 60, 2),
              ("e_shstrndx", 62, 2)]  # fmt: skip
    fields += [Region(n, o, w) for n, o, w in ehdr64]
    fields += [Region(f"e_ident[{i}]", i, 1) for i in range(4, 16)]
    for i in range(h.phnum):
        base = h.phoff + i * 56
        for n, o, w in (("p_type", 0, 4), ("p_flags", 4, 4), ("p_offset", 8, 8), ("p_vaddr", 16, 8),
                        ("p_filesz", 32, 8), ("p_memsz", 40, 8), ("p_align", 48, 8)):  # fmt: skip
            fields.append(Region(f"phdr[{i}].{n}", base + o, w))
        cuts.add(base)
    for i in range(h.shnum):
        base = h.shoff + i * 64
        for n, o, w in (("sh_name", 0, 4), ("sh_type", 4, 4), ("sh_flags", 8, 8), ("sh_addr", 16, 8),
                        ("sh_offset", 24, 8), ("sh_size", 32, 8), ("sh_link", 40, 4), ("sh_info", 44, 4),
                        ("sh_entsize", 56, 8)):  # fmt: skip
            fields.append(Region(f"shdr[{i}].{n}", base + o, w))
    for sec in elf.sections:
        if sec.type != SHT_NOBITS and sec.size and sec.offset + sec.size <= len(data):
            cuts.update((sec.offset, sec.offset + sec.size // 2, sec.offset + sec.size))
            if sec.name in (".dynsym", ".dynstr", ".dynamic", ".rela.dyn", ".gnu.hash", ".hash", ".symtab",
                            ".strtab", ".go.buildinfo", ".gopclntab", ".noptrdata", ".data.rel.ro",
                            ".typelink", ".itablink", ".shstrtab", ".gnu.version", ".gnu.version_r"):  # fmt: skip
                regions.append(Region(sec.name, sec.offset, sec.size))
    for seg in elf.segments:
        cuts.update((seg.offset, seg.offset + seg.filesz))
    # Go structures: the build info header and its varints, the module data, type descriptors.
    bi_sec = elf.section(".go.buildinfo")
    if bi_sec is not None:
        fields += [Region("buildinfo.ptrsize", bi_sec.offset + 14, 1), Region("buildinfo.flags", bi_sec.offset + 15, 1)]
        fields += [Region(f"buildinfo.varint[{k}]", bi_sec.offset + 32 + k, 1) for k in range(3)]
        fields += [Region("buildinfo.versptr", bi_sec.offset + 16, 8)]
        fields += [Region("buildinfo.modptr", bi_sec.offset + 24, 8)]
        cuts.update(bi_sec.offset + k for k in (14, 16, 32, 33, 40))
    f = facts.facts_from_bytes(path, data, path)
    if f.go is not None and f.go.moduledata is not None:
        md_off = elf.va_to_offset(f.go.moduledata.addr, 8)
        if md_off is not None:
            size = f.go.layout.size if f.go.layout is not None and f.go.layout.size else 0x300
            regions.append(Region("moduledata", md_off, size))
            fields += [Region(f"moduledata+{k * p:#x}", md_off + k * p, p) for k in range(size // p)]
    for tname in ("type:runtime.moduledata", "type.runtime.moduledata"):
        sym = elf.dynsym_by_name.get(tname) or elf.symtab_by_name.get(tname)
        off = elf.va_to_offset(sym.value, 8) if sym is not None else None
        if off is not None:
            regions.append(Region(tname, off, 4 * p + 16 + 3 * p))
            fields += [Region(f"{tname}+{k * p:#x}", off + k * p, p) for k in range(7)]
    dyn_sec = elf.section(".dynamic")
    if dyn_sec is not None:
        for k in range(dyn_sec.size // 16):
            fields.append(Region(f"dynamic[{k}].d_val", dyn_sec.offset + 16 * k + 8, 8))
            fields.append(Region(f"dynamic[{k}].d_tag", dyn_sec.offset + 16 * k, 8))
    fields = [fl for fl in fields if fl.offset >= 0 and fl.offset + fl.length <= len(data)]
    return Seed(name, data, tuple(fields), tuple(regions), tuple(sorted(c for c in cuts if 0 <= c < len(data))))


def mutate(seed: Seed, rng: random.Random, buf: bytearray) -> tuple[str, list[tuple[int, bytes]], int]:
    """Damage *buf* (a copy of the seed) in place: (description, undo list, length to keep)."""
    data = seed.data
    op = rng.random()
    undo: list[tuple[int, bytes]] = []

    def put(off: int, raw: bytes) -> None:
        undo.append((off, bytes(buf[off : off + len(raw)])))
        buf[off : off + len(raw)] = raw

    if op < 0.55:
        n = 1 if rng.random() < 0.8 else rng.randint(2, 4)
        desc = []
        for _ in range(n):
            fl = rng.choice(seed.fields)
            mask = (1 << (8 * fl.length)) - 1
            r = rng.random()
            if r < 0.6:
                v = rng.choice((*INTERESTING, len(data), len(data) - 1, len(data) + 1))
            elif r < 0.8:
                old = int.from_bytes(data[fl.offset : fl.offset + fl.length], "little")
                v = old + rng.choice((-1, 1, -8, 8, -0x1000, 0x1000, 1 << 20))
            else:
                v = rng.getrandbits(8 * fl.length)
            put(fl.offset, (v & mask).to_bytes(fl.length, "little"))
            desc.append(f"{fl.name}={v & mask:#x}")
        return "set " + ", ".join(desc), undo, len(data)
    if op < 0.85 and seed.regions:
        reg = rng.choice(seed.regions)
        desc = []
        for _ in range(rng.randint(1, 8)):
            off = reg.offset + rng.randrange(max(1, reg.length))
            if off >= len(data):
                continue
            b = rng.choice((0, 0xFF, 0x80, 0x7F, rng.getrandbits(8)))
            put(off, bytes([b]))
            desc.append(f"{off:#x}={b:#x}")
        return f"bytes in {reg.name}: " + ", ".join(desc), undo, len(data)
    if op < 0.95:
        cut = rng.choice(seed.cuts) + rng.choice((0, 0, -1, 1, -8, 8))
        cut = max(0, min(cut, len(data)))
        return f"truncate at {cut:#x}", undo, cut
    # splice: copy a chunk from elsewhere in the file over a structure
    reg = rng.choice(seed.regions or (Region("file", 0, len(data)),))
    n = rng.choice((8, 16, 64, 256))
    src = rng.randrange(max(1, len(data) - n))
    dst = reg.offset + rng.randrange(max(1, reg.length))
    if dst + n <= len(data):
        put(dst, data[src : src + n])
    return f"splice {n} bytes from {src:#x} to {dst:#x} in {reg.name}", undo, len(data)

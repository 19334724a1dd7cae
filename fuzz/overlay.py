"""Fuzz inputs that steer at one structure of a real file: a template, a region, and the bytes laid over it.

A corpus plugin is 1 to 5 MB; the build info is 200 bytes of it, the module data 600. A fuzzer mutating the
whole file spends nearly every mutation on code bytes no reader looks at. So an input of the ELF-based
harnesses is small and names what it damages::

    byte 0   template: which corpus file (index into the harness's sorted list, modulo its length)
    byte 1   region: which structure of that file (index into the template's regions, modulo)
    byte 2   operation: bit 0 set: cut the file right after the overlay (a truncation at that point)
    bytes 3- the new bytes of the region, written over it from its first byte (at most the region's length)

The mutant is the template with the overlay applied: a real file everywhere else, so every reader reaches
the damaged structure the way it would in a real file. Each harness's seeds are the pristine bytes of
every region of every template, so the fuzzer starts from every corpus file.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))  # tests/corpus.py: the materialised, sha-verified corpus

import platforms  # noqa: E402  (tests/platforms.py: the cross-platform plugins, built and sha-verified)

import corpus  # noqa: E402
from soinspect.elf.file import ElfFile  # noqa: E402
from soinspect.elf.structs import SHT_NOBITS, ElfLayout  # noqa: E402
from soinspect.errors import SoinspectError  # noqa: E402

#: longest overlay: the first 4 KiB of a region (a string table or symbol table is longer; its head is
#: where the fuzzer's damage matters, and libFuzzer's mutations stay cheap)
MAX_OVERLAY = 4096
HEADER = 3
MAX_LEN = HEADER + MAX_OVERLAY
CUT = 0x01
#: a comma-separated list of corpus file names: only those are templates (the short runs in CI)
TEMPLATES_ENV = "SOINSPECT_FUZZ_TEMPLATES"


@dataclass(frozen=True)
class Region:
    name: str
    offset: int
    length: int


@dataclass(frozen=True)
class Template:
    name: str
    data: bytes
    #: the pristine file's headers as the LIEF door read them (None: the file is not ELF soinspect parses)
    layout: ElfLayout | None
    regions: tuple[Region, ...]
    #: byte ranges LIEF reads (ELF header, program and section headers, the dynamic table): an overlay that
    #: touches one needs the headers parsed again; any other overlay reuses ``layout``
    header_ranges: tuple[tuple[int, int], ...] = field(default=())


@dataclass(frozen=True)
class Mutant:
    template: Template
    region: Region
    data: bytes
    #: the overlay touched bytes LIEF reads, or cut the file: the headers must be parsed again
    reparse: bool

    def elf(self, path: str) -> ElfFile:
        """The mutant as an :class:`ElfFile`: raises soinspect's own error for a file it cannot parse."""
        layout = self.template.layout
        if self.reparse or layout is None:
            return ElfFile.from_bytes(path, self.data)
        return ElfFile(path, self.data, layout)

    @property
    def describe(self) -> str:
        return f"{self.template.name}: {self.region.name} at {self.region.offset:#x}"


RegionPicker = Callable[[ElfFile], list[Region]]


def region(name: str, offset: int, length: int, size: int) -> Region | None:
    if offset < 0 or offset >= size or length <= 0:
        return None
    return Region(name, offset, min(length, MAX_OVERLAY, size - offset))


def section_region(elf: ElfFile, name: str) -> Region | None:
    sec = elf.section(name)
    if sec is None or sec.type == SHT_NOBITS:
        return None
    return region(name, sec.offset, sec.size, len(elf.data))


def va_region(elf: ElfFile, name: str, va: int, length: int) -> Region | None:
    off = elf.va_to_offset(va, 1)
    return None if off is None else region(name, off, length, len(elf.data))


def _header_ranges(elf: ElfFile) -> tuple[tuple[int, int], ...]:
    h = elf.header
    ranges = [(0, 64), (h.phoff, h.phoff + 56 * h.phnum), (h.shoff, h.shoff + 64 * h.shnum)]
    for s in elf.segments:
        if s.type in (2, 3):  # PT_DYNAMIC, PT_INTERP
            ranges.append((s.offset, s.offset + s.filesz))
    dyn = elf.section(".dynamic")
    if dyn is not None:
        ranges.append((dyn.offset, dyn.offset + dyn.size))
    for name in (".shstrtab", ".dynstr", ".interp"):  # section names; LIEF resolves DT_NEEDED names
        sec = elf.section(name)
        if sec is not None:
            ranges.append((sec.offset, sec.offset + sec.size))
    return tuple(ranges)


class Templates:
    """Every corpus file (in name order) that *keep* accepts, with the regions *pick* finds in it."""

    def __init__(self, pick: RegionPicker, keep: Callable[[str, ElfFile | None], bool] | None = None) -> None:
        self.items: list[Template] = []
        only = os.environ.get(TEMPLATES_ENV)
        for name, file in _template_files():
            if only and name not in only.split(","):
                continue
            data = Path(file).read_bytes()
            try:
                elf: ElfFile | None = ElfFile.from_bytes(name, data)
            except SoinspectError:
                elf = None
            if keep is not None and not keep(name, elf):
                continue
            regions = [r for r in (pick(elf) if elf is not None else []) if r is not None]
            if not regions:
                regions = [Region("head", 0, min(MAX_OVERLAY, len(data)))]
            layout = None
            ranges: tuple[tuple[int, int], ...] = ()
            if elf is not None:
                layout = ElfLayout(elf.header, elf.sections, elf.segments, elf.dynamic)
                ranges = _header_ranges(elf)
            self.items.append(Template(name, data, layout, tuple(dict.fromkeys(regions)), ranges))

    def mutant(self, data: bytes) -> Mutant | None:
        """The file an input stands for; None for an input shorter than its 3-byte header."""
        if len(data) < HEADER or not self.items:
            return None
        t = self.items[data[0] % len(self.items)]
        r = t.regions[data[1] % len(t.regions)]
        payload = data[HEADER : HEADER + r.length]
        buf = bytearray(t.data)
        end = r.offset + len(payload)
        buf[r.offset : end] = payload
        cut = bool(data[2] & CUT)
        if cut:
            del buf[end:]
        touched = cut or any(r.offset < hi and lo < end for lo, hi in t.header_ranges)
        return Mutant(t, r, bytes(buf), touched)

    def patch(self, data: bytes) -> dict[str, object] | None:
        """*data* as a regression seed that does not depend on the template order: the corpus file, where the
        overlay goes, its bytes, and whether the file is cut after them (:func:`apply_patch` undoes it)."""
        m = self.mutant(data)
        if m is None:
            return None
        payload = data[HEADER : HEADER + m.region.length]
        return {"base": m.template.name, "region": m.region.name, "offset": m.region.offset,
                "hex": payload.hex(), "cut": bool(data[2] & CUT)}  # fmt: skip

    def seeds(self) -> Iterator[tuple[str, bytes]]:
        """(name, input) of every region of every template, pristine."""
        for ti, t in enumerate(self.items):
            for ri, r in enumerate(t.regions):
                yield f"{t.name}.{r.name.strip('.').replace(':', '_').replace('/', '_')}", (
                    bytes([ti % 256, ri % 256, 0]) + t.data[r.offset : r.offset + r.length]
                )


def _template_files() -> list[tuple[str, str]]:
    """(name, path) of every template: the corpus files, then the cross-platform plugins."""
    return [(name, corpus.path(name)) for name in corpus.names()] + platforms.seed_files()


def _template_path(name: str) -> str:
    if name.startswith("platforms/"):
        return platforms.path(name.removeprefix("platforms/"))
    return corpus.path(name)


def apply_patch(seed: dict[str, object]) -> bytes:
    """The file a patch seed (:meth:`Templates.patch`) stands for."""
    base, offset, payload = str(seed["base"]), seed["offset"], bytes.fromhex(str(seed["hex"]))
    assert isinstance(offset, int)
    buf = bytearray(Path(_template_path(base)).read_bytes())
    buf[offset : offset + len(payload)] = payload
    if seed["cut"]:
        del buf[offset + len(payload) :]
    return bytes(buf)

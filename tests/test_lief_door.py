"""The LIEF door (soinspect/elf/_lief.py) across the supported LIEF releases (0.15.1 up to 1.0.x).

CI runs the whole suite at both ends of the range; these tests pin what the door does about the ways the
releases differ. The corpus tests cover the rest: hdr-class32.so (EI_CLASS against e_machine) and
greet-truncated.so (a PT_LOAD cut by the end of the file) give the same report at every release.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import corpus
from soinspect.elf import _lief
from soinspect.elf import file as _elf
from soinspect.elf.structs import ElfLayout
from soinspect.errors import NotELFError


def _served(data: bytes, requests: list[tuple[int, int]]) -> _lief.ReadInto:
    def read_into(buffer: memoryview, offset: int) -> int:
        requests.append((offset, len(buffer)))
        chunk = data[offset : offset + len(buffer)]
        buffer[: len(chunk)] = chunk
        return len(chunk)

    return read_into


def test_lief_reads_no_more_than_the_checked_size() -> None:
    data = Path(corpus.path("greet.so")).read_bytes()
    requests: list[tuple[int, int]] = []
    layout = _lief.parse_layout("greet.so", len(data), _served(data, requests), lambda o, n: data[o : o + n])
    assert layout.header.phnum == len(layout.segments) > 0
    assert requests, "LIEF read nothing"
    assert all(off >= 0 and off + n <= len(data) for off, n in requests)


def test_a_file_that_grew_is_read_only_up_to_its_checked_size() -> None:
    """The stream's end is the size soinspect checked against --max-size, whatever the bytes behind it."""
    data = Path(corpus.path("greet.so")).read_bytes()
    requests: list[tuple[int, int]] = []
    grown = data + b"\0" * (1 << 20)
    _lief.parse_layout("greet.so", len(data), _served(grown, requests), lambda o, n: grown[o : min(o + n, len(data))])
    assert max(off + n for off, n in requests) <= len(data)


def test_segments_past_the_end_of_the_file_are_kept() -> None:
    """glibc maps every PT_LOAD, so soinspect must see the one a truncated file cuts (LIEF 0.15 drops it
    and every segment after it)."""
    elf = _elf.load(corpus.path("greet-truncated.so"))
    assert len(elf.segments) == elf.header.phnum == 10
    assert any(s.offset + s.filesz > len(elf.data) for s in elf.segments)


def test_a_file_that_reports_no_size_is_judged_by_its_bytes() -> None:
    """Files in /proc are regular files of size 0 that still have bytes: LIEF's read from the descriptor
    sees nothing, so the bytes that were read are parsed instead (a text file, not an empty one)."""
    data, parsed = _elf.read_and_parse("/proc/self/maps")
    assert data
    assert isinstance(parsed, NotELFError)
    assert "a text file" in parsed.problem


def test_a_file_that_changed_after_lief_read_it_is_parsed_again_from_the_bytes_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The layout and the bytes are always one view of one file: when the bytes read after LIEF differ in
    size from what LIEF read, LIEF parses those bytes."""
    real_read_all = _elf._read_all
    reparsed: list[int] = []
    real_parse_bytes = _elf.ElfFile.parse_bytes

    def grown(path: str, fd: int, size: int, max_size: int) -> bytes:
        return real_read_all(path, fd, size, max_size) + b"\0" * 4096

    def parse_bytes(path: str, data: bytes) -> ElfLayout:
        reparsed.append(len(data))
        return real_parse_bytes(path, data)

    monkeypatch.setattr(_elf, "_read_all", grown)
    monkeypatch.setattr(_elf.ElfFile, "parse_bytes", staticmethod(parse_bytes))
    path = corpus.path("greet.so")
    data, parsed = _elf.read_and_parse(path)
    assert reparsed == [len(data)] == [os.path.getsize(path) + 4096]
    assert isinstance(parsed, ElfLayout)


def test_a_type_lief_cannot_name_is_read_alike_at_every_release() -> None:
    """A section type, a segment type and a dynamic tag that LIEF's enums do not name: the file's values,
    at every release. The door used to reject such a header, but the releases name different sets (the
    fuzz inputs replayed at both ends: 1.0 refused 24 that 0.15 took), so a file got two answers; glibc
    skips types it does not know and Go's debug/elf keeps them."""
    data = bytearray(Path(corpus.path("greet.so")).read_bytes())
    shoff = int.from_bytes(data[0x28:0x30], "little")
    at = shoff + 64 * 1 + 4  # sh_type of section 1
    data[at : at + 4] = (0x685F6F66).to_bytes(4, "little")
    phoff = int.from_bytes(data[0x20:0x28], "little")
    phnum = int.from_bytes(data[0x38:0x3A], "little")
    note = next(i for i in range(phnum) if data[phoff + 56 * i] == 4)  # a PT_NOTE: nothing reads it
    data[phoff + 56 * note : phoff + 56 * note + 4] = (0x08000000).to_bytes(4, "little")
    elf = _elf.ElfFile.from_bytes("greet-mutant.so", bytes(data))
    dyn = next(s for s in elf.segments if s.type == 2)
    at = dyn.offset + 16 * (len(elf.dynamic) - 2)  # the entry before DT_NULL
    data[at : at + 8] = (0x7FFF0000).to_bytes(8, "little")
    elf = _elf.ElfFile.from_bytes("greet-mutant.so", bytes(data))
    assert elf.sections[1].type == 0x685F6F66
    assert elf.segments[note].type == 0x08000000
    assert elf.dynamic[-2].tag == 0x7FFF0000


_NONE_RETURNS = """
import sys
from soinspect.elf import _lief
from soinspect.errors import MalformedError

data = b"not an ELF file, which LIEF cannot identify" * 8
def read_into(buffer, offset):
    chunk = data[offset : offset + len(buffer)]
    buffer[: len(chunk)] = chunk
    return len(chunk)

before = sys.getrefcount(None)
for _ in range(N):
    try:
        _lief.parse_layout("garbage", len(data), read_into, lambda o, n: data[o : o + n])
    except MalformedError:
        pass
    else:
        raise SystemExit("LIEF parsed it")
print(sys.getrefcount(None) - before, _lief._NONE_GIVEN_BACK[0], _lief._lief().__version__)
"""


def test_none_returns_of_lief_do_not_use_up_nones_references() -> None:
    """LIEF 0.15 and 0.16 return None without its reference (each None return lowers None's count by one;
    on CPython 3.11 the interpreter then aborts, at the latest at exit, "Fatal Python error:
    none_dealloc"). The door gives each one back: a few hundred None returns in one process, and the
    process ends normally with None's count where it was (held by a thread that never ends; no ctypes)."""
    import subprocess
    import sys

    n = 400
    proc = subprocess.run(
        [sys.executable, "-c", f"N = {n}\n" + _NONE_RETURNS], capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    delta, given_back, version = proc.stdout.split()
    assert int(delta) >= 0
    stealing = version.startswith(("0.15.", "0.16.")) and sys.version_info < (3, 12)
    assert int(given_back) == (n if stealing else 0)

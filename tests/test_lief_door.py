"""The LIEF door (soinspect/elf/_lief.py) across the supported LIEF releases (0.15.1 up to 1.0.x).

CI runs the whole suite at both ends of the range; these tests pin what the door does about the ways the
releases differ. The corpus tests cover the rest: hdr-class32.so (EI_CLASS against e_machine) and
greet-truncated.so (a PT_LOAD cut by the end of the file) give the same report at every release.
"""

from __future__ import annotations

from pathlib import Path

import corpus
from soinspect.elf import _lief
from soinspect.elf import file as _elf


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
    layout = _lief.parse_layout("greet.so", len(data), _served(data, requests))
    assert layout.header.phnum == len(layout.segments) > 0
    assert requests, "LIEF read nothing"
    assert all(off >= 0 and off + n <= len(data) for off, n in requests)


def test_a_file_that_grew_is_read_only_up_to_its_checked_size() -> None:
    """The stream's end is the size soinspect checked against --max-size, whatever the bytes behind it."""
    data = Path(corpus.path("greet.so")).read_bytes()
    requests: list[tuple[int, int]] = []
    grown = data + b"\0" * (1 << 20)
    _lief.parse_layout("greet.so", len(data), _served(grown, requests))
    assert max(off + n for off, n in requests) <= len(data)


def test_segments_past_the_end_of_the_file_are_kept() -> None:
    """glibc maps every PT_LOAD, so soinspect must see the one a truncated file cuts (LIEF 0.15 drops it
    and every segment after it)."""
    elf = _elf.load(corpus.path("greet-truncated.so"))
    assert len(elf.segments) == elf.header.phnum == 10
    assert any(s.offset + s.filesz > len(elf.data) for s in elf.segments)

"""Each bad input a user meets: soinspect answers with a report or its own error, never hangs or crashes.

Inputs that could block or hang (a FIFO, a device) are run through :func:`soinspect.cli.pool.run_many`
with a short timeout, so a regression fails the test instead of hanging the suite.
"""

from __future__ import annotations

import itertools
import os
import struct
import threading
import weakref
from pathlib import Path
from typing import Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import corpus
from soinspect.cli import command as cli
from soinspect.cli import pool as _isolate
from soinspect.elf import file as _elf
from soinspect.elf.structs import ELFCLASS32, ELFDATA2MSB
from soinspect.errors import FileAccessError, FileTooLargeError, ParserCrashError, SoinspectError
from soinspect.verdict import audit as api
from soinspect.verdict.report import Report

QUICK = _isolate.Limits(timeout=30, cpu_seconds=30)


def _audit_bounded(path: str) -> object:
    [result] = _isolate.run_many([_isolate.Job(api.audit, path)], workers=1, limits=QUICK)
    return result


def _cli_one_line(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, err


def test_missing_file() -> None:
    with pytest.raises(FileAccessError, match="no such file"):
        api.audit("/nonexistent/plugin.so")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(FileAccessError, match="directory"):
        api.audit(str(tmp_path))


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.so"
    p.write_bytes(b"")
    r = api.audit(str(p))
    assert not r.loadable
    assert "empty" in r.verdict.reason or "empty" in str(r.checks)


def test_non_elf_file() -> None:
    r = api.audit(corpus.path("not-elf.txt"))
    assert not r.loadable


def test_symlink_loop(tmp_path: Path) -> None:
    a, b = tmp_path / "a.so", tmp_path / "b.so"
    a.symlink_to(b)
    b.symlink_to(a)
    with pytest.raises(FileAccessError, match="symbolic link loop"):
        api.audit(str(a))


def _audit_as_nobody(path: str) -> str:
    """In a forked worker: drop to uid/gid 65534 (nobody), then audit; return the error text."""
    os.setgid(65534)
    os.setuid(65534)
    try:
        api.audit(path)
    except FileAccessError as exc:
        return str(exc)
    return "read it"


def test_no_read_permission(tmp_path: Path) -> None:
    p = tmp_path / "secret.so"
    p.write_bytes(Path(corpus.path("libplain.so")).read_bytes())
    p.chmod(0)
    if os.geteuid() != 0:
        with pytest.raises(FileAccessError, match="permission denied"):
            api.audit(str(p))
        return
    # root reads a mode-000 file anyway: drop privileges in a worker process to see the refusal.
    [msg] = _isolate.run_many([_isolate.Job(_audit_as_nobody, str(p))], workers=1, limits=QUICK)
    assert isinstance(msg, str) and "permission denied" in msg


def test_fifo_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.so"
    os.mkfifo(fifo)
    result = _audit_bounded(str(fifo))
    assert isinstance(result, FileAccessError), result
    assert "FIFO" in str(result) or "not a regular file" in str(result)


def test_char_device() -> None:
    result = _audit_bounded("/dev/zero")
    assert isinstance(result, FileAccessError), result
    assert "device" in str(result)


def test_truncated_plugin() -> None:
    r = api.audit(corpus.path("greet-truncated.so"))
    assert not r.loadable


def _with_header_byte(tmp_path: Path, name: str, offset: int, value: int) -> str:
    data = bytearray(Path(corpus.path("greet.so")).read_bytes())
    data[offset] = value
    p = tmp_path / name
    p.write_bytes(bytes(data))
    return str(p)


def test_32bit_elf(tmp_path: Path) -> None:
    # gcc -m32 has no 32-bit libc here; flipping EI_CLASS makes a 32-bit ELF whose headers are garbage.
    r = api.audit(_with_header_byte(tmp_path, "c32.so", 4, ELFCLASS32))
    assert not r.loadable


def test_big_endian_elf(tmp_path: Path) -> None:
    r = api.audit(_with_header_byte(tmp_path, "be.so", 5, ELFDATA2MSB))
    assert not r.loadable


def test_huge_sparse_file_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "huge.so"
    with open(p, "wb") as fh:
        fh.truncate(4 << 30)
    with pytest.raises(FileTooLargeError, match="limit"):
        api.audit(str(p))
    code, err = _cli_one_line(capsys, str(p))
    assert code == cli.EXIT_ERROR  # documented: a file over --max-size is not read: exit 2
    assert len(err.strip().splitlines()) == 1 and "huge.so" in err


def test_file_changing_while_read(tmp_path: Path) -> None:
    src = Path(corpus.path("libplain.so")).read_bytes()
    p = tmp_path / "moving.so"
    p.write_bytes(src)
    stop = threading.Event()

    def churn() -> None:
        n = 0
        while not stop.is_set():  # bounded by the test below setting stop
            with open(p, "r+b") as fh:
                fh.truncate(len(src) // (2 + n % 3))
                fh.seek(0)
                fh.write(src)
            n += 1

    t = threading.Thread(target=churn)
    t.start()
    try:
        for _ in range(30):
            try:
                r = api.audit(str(p))
            except SoinspectError:
                continue
            assert isinstance(r, Report)
    finally:
        stop.set()
        t.join()


@pytest.mark.parametrize("fault,signame", [("segv", "SIGSEGV"), ("abort", "SIGABRT")])
def test_worker_crash_is_that_files_error(fault: str, signame: str, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = [corpus.path("greet.so"), corpus.path("libplain.so"), corpus.path("not-elf.txt")]
    monkeypatch.setenv(_isolate.FAULT_ENV, f"{fault}:{paths[1]}")
    results = _isolate.run_many([_isolate.Job(api.audit, p) for p in paths], workers=2, limits=QUICK)
    assert isinstance(results[0], Report) and results[0].loadable
    assert isinstance(results[1], ParserCrashError)
    assert results[1].kind == "parser-crash" and signame in str(results[1]) and paths[1] in str(results[1])
    assert isinstance(results[2], Report) and not results[2].loadable


def test_jobs_queued_behind_a_crash_go_to_the_next_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker holds its job and the next (pool.QUEUE_DEPTH): when it dies on the first, the one it had
    not started is judged by its replacement, and every result is in input order."""
    assert _isolate.QUEUE_DEPTH == 2
    paths = [corpus.path("libplain.so"), corpus.path("greet.so"), corpus.path("not-elf.txt"), corpus.path("greet.so")]
    monkeypatch.setenv(_isolate.FAULT_ENV, f"segv:{paths[0]}")
    results = _isolate.run_many([_isolate.Job(api.audit, p) for p in paths], workers=1, limits=QUICK)
    assert isinstance(results[0], ParserCrashError) and "SIGSEGV" in str(results[0])
    assert isinstance(results[1], Report) and results[1].loadable and results[1].path == paths[1]
    assert isinstance(results[2], Report) and not results[2].loadable and results[2].path == paths[2]
    assert isinstance(results[3], Report) and results[3].loadable


def test_workers_are_sent_job_numbers_not_pickled_jobs() -> None:
    """A worker is forked with the job list in its memory and sent each job's number: a job holding
    what cannot pickle (a lambda) still runs in a worker, and the replies come back in input order."""
    double = lambda path, **_: path * 2  # noqa: E731  (a lambda on purpose: it cannot be pickled)
    jobs = [_isolate.Job(double, p, {"unpicklable": lambda: None}) for p in ("a", "b", "c", "d", "e")]
    assert _isolate.run_many(jobs, workers=2, limits=QUICK) == ["aa", "bb", "cc", "dd", "ee"]


def test_a_reply_that_does_not_pickle_is_a_bug_named_with_its_file() -> None:
    """A job's result that cannot be sent back is soinspect's bug (WorkerError naming the file and the
    traceback), not a worker that died for no reason."""
    jobs = [_isolate.Job(lambda path, **_: (lambda: path), "unsendable.so")]
    with pytest.raises(_isolate.WorkerError, match=r"(?s)unsendable\.so: internal error.*pickle"):
        _isolate.run_many(jobs, workers=1, limits=QUICK)


def test_a_worker_holds_no_end_of_another_workers_pipes() -> None:
    """Each worker's job pipe is written by the parent alone: when the parent closes it, that worker sees
    end-of-file and exits, even while a worker forked after it is alive (a worker that inherited the
    other's pipe end would keep it waiting for ever, should the parent die)."""
    pool = _isolate._Pool([_isolate.Job(str, "x")], 2, QUICK, None)
    first = pool._start()
    second = pool._start()
    try:
        first.close()
        first.process.join(10)
        assert first.process.exitcode == 0
        assert second.process.is_alive()
    finally:
        pool._stop([first, second])
    assert second.process.exitcode == 0


def test_worker_hang_is_that_files_error(monkeypatch: pytest.MonkeyPatch) -> None:
    paths = [corpus.path("libplain.so"), corpus.path("not-elf.txt")]
    monkeypatch.setenv(_isolate.FAULT_ENV, f"hang:{paths[0]}")
    results = _isolate.run_many(
        [_isolate.Job(api.audit, p) for p in paths], workers=1, limits=_isolate.Limits(timeout=3)
    )
    assert isinstance(results[0], ParserCrashError) and "did not finish within 3 s" in str(results[0])
    assert isinstance(results[1], Report)


def test_worker_errors_keep_their_text_and_order() -> None:
    paths = ["/nonexistent/a.so", corpus.path("libplain.so"), "/nonexistent/b.so"]
    isolated = _isolate.run_many([_isolate.Job(api.audit, p) for p in paths], workers=2, limits=QUICK)
    inline = _isolate.run_many([_isolate.Job(api.audit, p) for p in paths], workers=0)
    assert [str(x) if isinstance(x, SoinspectError) else x.path for x in isolated] == [
        str(x) if isinstance(x, SoinspectError) else x.path for x in inline
    ]


def test_regression_name_index_leaked_every_file() -> None:
    """functools.cache on ElfFile._name_index kept every ElfFile alive: 0.3 MB per file in a long scan."""
    elf = _elf.ElfFile.from_bytes("greet.so", Path(corpus.path("greet.so")).read_bytes())
    elf.find_symbol("runtime.buildVersion", "symtab")
    ref = weakref.ref(elf)
    del elf
    assert ref() is None


@pytest.mark.parametrize("name", ["greet.so", "types.so", "cgo-demo.so", "host-1.27.3", "greet-1.19.so"])
def test_symbols_with_prefix_is_the_first_definition_of_each_name_in_table_order(name: str) -> None:
    """ElfFile.symbols_with_prefix (a prefix's many offsets in one pass over the first-index dictionary)
    against the definition, symbol by symbol over the whole table: the first defined symbol of each name
    that starts with the prefix, in table order."""
    elf = _elf.ElfFile.from_bytes(name, Path(corpus.path(name)).read_bytes())
    for table in ("dynsym", "symtab"):
        raw, strtab = elf._table(table)
        every = list(elf._iter_symbols(raw, strtab))
        for prefix in ("go:link.pkghashbytes.", "runtime.", "type:", "main.", "go:", "x"):
            want: dict[str, object] = {}
            for sym in every:
                if sym.defined and sym.name.startswith(prefix) and sym.name not in want:
                    want[sym.name] = sym
            assert elf.symbols_with_prefix(prefix, table) == list(want.values()), (table, prefix)


_NAMES = [
    "go:link.pkghashbytes.a",
    "go:link.pkghashbytes.b",
    "go.link.pkghashbytes.a",
    "runtime.x",
    "x",
    "type:x",
    "b",
    "runtime.lastmoduledatap",
    "local.moduledata",
    "moduledata",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.tuples(st.sampled_from(range(len(_NAMES))), st.booleans(), st.booleans()), max_size=60),
    few=st.sampled_from([0, 1, 32]),
    big_endian=st.booleans(),
    gap=st.sampled_from([0, 256, 65536]),
)
def test_symbol_lookups_are_the_first_in_table_order(
    rows: list[tuple[int, bool, bool]], few: int, big_endian: bool, gap: int
) -> None:
    """find_symbol and symbols_with_prefix on made-up tables (names repeated, undefined before defined, a
    name at two offsets of the string table and one sharing another's tail), by searching the packed names
    for each offset and by one pass over the candidates alike: the first symbol of that name in table order
    (the first defined one where asked), against the definition read symbol by symbol. The second copy of
    the names lies *gap* bytes after the first, so the two offsets of a name share their low byte (256)
    or their two low bytes (65536): candidates that are not the symbol."""
    block = b"".join(n.encode() + b"\0" for n in _NAMES)
    strtab = b"\0" + block + bytes(max(0, gap - len(block))) + block
    second = {i: strtab.index(n.encode() + b"\0", strtab.index(n.encode() + b"\0") + 1) for i, n in enumerate(_NAMES)}
    e = ">" if big_endian else "<"
    raw = b""
    for which, defined, later in rows:
        offset = second[which] if later else strtab.index(_NAMES[which].encode() + b"\0")
        raw += struct.pack(e + "IBBHQQ", offset, 0x12, 0, 7 if defined else 0, 0x1000 + len(raw), 8)
    elf = _elf.ElfFile.from_bytes("greet.so", Path(corpus.path("greet.so")).read_bytes())
    elf.little, elf.endian = not big_endian, e
    elf.__dict__.update(dynsym_raw=raw, dynstr=strtab)
    elf._FEW_OFFSETS = few  # 0: always the pass over the candidates; 32: always the searches
    every = list(elf._iter_symbols(raw, strtab))
    for name in [*_NAMES, "go:link", "absent", "go:link.absent", "lastmoduledata", "absent.moduledata"]:
        for defined in (True, False):
            want = next((s for s in every if s.name == name and (s.defined or not defined)), None)
            assert elf.find_symbol(name, defined=defined) == want, (name, defined)
    for prefix in ("go:link.pkghashbytes.", "go.link.pkghashbytes.", "x", "", "type:", "runtime.x", "local.module"):
        firsts: dict[str, _elf.Symbol] = {}
        for sym in every:
            if sym.defined and sym.name.startswith(prefix) and sym.name not in firsts:
                firsts[sym.name] = sym
        assert elf.symbols_with_prefix(prefix) == list(firsts.values()), prefix
        assert elf.values_with_prefix(prefix) == [(s.name, s.value, s.size) for s in firsts.values()], prefix


@pytest.mark.parametrize("name", ["greet.so", "types.so", "greet-1.23.9-sw.so"])
def test_read_words_every_reads_only_those_words_as_pointers(name: str) -> None:
    """``read_words(every=3)`` reads words 0, 3, 6, ... as read_ptr does and the others as the bytes hold
    them (``at=(0, 1)``: words 0, 1, 3, 4, ...); the module data layout's (name, offset) pairs are
    struct_fields' names and offsets. On the fields array of the plugin's own runtime.moduledata type,
    whose Typ words are relocated (so a reading that relocated them too, or none, would differ)."""
    from soinspect.go import gotypes

    elf = _elf.load(corpus.path(name))
    sym = elf.find_symbol("type:runtime.moduledata")
    assert sym is not None
    p = elf.ptrsize
    base = sym.value + gotypes.header_size(elf) + p
    data, count = elf.read_ptr(base), elf.read_uint(base + p, p)
    assert data is not None and count is not None and count > 10
    every = elf.read_words(data, 3 * count)
    names = elf.read_words(data, 3 * count, every=3)
    assert every is not None and names is not None
    assert names[0] == every[0]
    for i in range(3 * count):
        want = elf.read_ptr(data + i * p) if i % 3 == 0 else every[0][i]
        assert names[1][i] == want, i
    assert any(every[1][i] != every[0][i] for i in range(1, 3 * count, 3)), "no Typ word is relocated"
    both = elf.read_words(data, 3 * count, every=3, at=(0, 1))  # Name and Typ as pointers, Offset as it is
    assert both is not None and both[0] == every[0]
    assert both[1] == [every[1][i] if i % 3 < 2 else every[0][i] for i in range(3 * count)]
    assert elf.read_words(data, 3 * count, every=3, at=(3,)) is None  # a field past the record
    fields = gotypes.struct_fields(elf, sym.value)
    assert fields is not None
    assert gotypes.struct_field_offsets(elf, sym.value) == [(f.name, f.offset) for f in fields]


def _pcheader_magics_by_definition(elf: _elf.ElfFile) -> list[int]:
    """What _scan_pclntab_magic must give, read position by position: in segment order, then magic order,
    then by address, every pointer-aligned ``magic 00 00 minLC ptrsize`` (minLC 1, 2 or 4), 64 at most."""
    from soinspect.go.module import PCLNTAB_MAGICS

    out: list[int] = []
    order: Literal["little", "big"] = "little" if elf.little else "big"
    for seg in elf.segments:
        if seg.type != 1:
            continue
        start, end = seg.offset, min(seg.offset + seg.filesz, len(elf.data))
        for magic in PCLNTAB_MAGICS:
            for i in range(start, end - 7):
                head = elf.data[i : i + 8]
                va = seg.vaddr + (i - start)
                if (
                    head[:4] == magic.to_bytes(4, order)
                    and head[4:6] == b"\0\0"
                    and head[6] in (1, 2, 4)
                    and head[7] == elf.ptrsize
                    and va % elf.ptrsize == 0
                ):
                    if len(out) == 64:
                        return out
                    out.append(va)
    return out


_PCHEADER_VALID = [
    m + b"\0\0" + bytes([lc, ptr])
    for m in (b"\xf1\xff\xff\xff", b"\xf0\xff\xff\xff", b"\xfa\xff\xff\xff", b"\xff\xff\xff\xf1", b"\xff\xff\xff\xfa")
    for lc in (1, 2, 4)
    for ptr in (4, 8)
]  # little-endian magics, and big-endian ones (their bytes the other way round)
_PCHEADER_PIECES = [
    *_PCHEADER_VALID,
    *_PCHEADER_VALID,
    b"\xf1\xff\xff\xff\x00\x00\x03\x08", b"\xff\xff\xff\x00\x00\x01\x08", b"\xf1\xff\xff\xff\xff\x00\x00\x01\x08",
    b"\xf2\xff\xff\xff\x00\x00\x01\x08", b"\xf1\xff\xff\xff\x00\x01\x01\x08",
    bytes(8), b"\x00", b"\xff", b"\x00\x00\x00",
]  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pieces=st.lists(st.sampled_from(_PCHEADER_PIECES), min_size=4, max_size=60),
    cuts=st.lists(st.integers(0, 60), max_size=5),
    big_endian=st.booleans(),
    is64=st.booleans(),
    shift=st.integers(0, 7),
)
def test_pcheader_magic_scan_is_its_definition(
    pieces: list[bytes], cuts: list[int], big_endian: bool, is64: bool, shift: int
) -> None:
    """The pcHeader magic scan (a regular expression over each PT_LOAD, little-endian) finds what reading
    every position finds: made-up segments of real magics, near misses (a bad minLC, a magic off by one
    byte, a pointer size of the other class) and filler, at every alignment, cut at the segment ends."""
    from soinspect.elf.structs import DynEntry, ElfHeader, ElfLayout, Segment
    from soinspect.go.module import _scan_pclntab_magic

    data = bytes(shift) + b"".join(pieces)
    starts = [shift + sum(map(len, pieces[:k])) for k in range(len(pieces) + 1)]  # segments cut between pieces
    bounds = sorted({0, len(data)} | {starts[min(c, len(pieces))] - (c % 2 if c > len(pieces) else 0) for c in cuts})
    segments = tuple(
        Segment(type=2 if k % 3 == 2 else 1, flags=6, offset=a, vaddr=0x1000 * (k + 1) + (a + k) % 8, filesz=b - a,
                memsz=b - a)
        for k, (a, b) in enumerate(itertools.pairwise(bounds))
    )
    header = ElfHeader(2 if is64 else 1, 2 if big_endian else 1, 0, 3, 62, 0, 0, len(segments), 0, 0, 0)
    elf = _elf.ElfFile("made-up.so", data, ElfLayout(header, (), segments, tuple[DynEntry, ...]()))
    assert _scan_pclntab_magic(elf) == _pcheader_magics_by_definition(elf)


@pytest.mark.parametrize(
    "tail,want",
    [(b"\x05", (5, 1)), (b"\x85\x01", (133, 2)), (b"\x85", None), (b"\x85\x85\x85", None), (b"", None)],
)
def test_a_name_length_at_the_end_of_a_segment(tail: bytes, want: tuple[int, int] | None) -> None:
    """A uvarint whose four bytes are not all mapped is read as far as the segment goes: a length that
    ends inside it is read, one cut by its end is unreadable."""
    from soinspect.elf.structs import ElfHeader, ElfLayout, Segment
    from soinspect.go.gotypes import _uvarint

    data = bytes(16) + tail
    segment = Segment(type=1, flags=4, offset=0, vaddr=0x1000, filesz=len(data), memsz=len(data))
    elf = _elf.ElfFile("made-up.so", data, ElfLayout(ElfHeader(2, 1, 0, 3, 62, 0, 0, 1, 0, 0, 0), (), (segment,), ()))
    assert _uvarint(elf, 0x1000 + 16) == want
    assert _uvarint(elf, 0x1000 + 12) == (0, 1)  # four zero bytes, all mapped: the one-read path


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pieces=st.lists(
        st.one_of(
            st.binary(max_size=12).map(lambda b: b"\x01" + bytes([len(b)]) + b),  # a name
            st.just(b"\x00\x85\x01" + b"n" * 133),  # a two-byte length
            st.just(b"\x00\xff\xff\xff"),  # a length running past the segment
            st.binary(max_size=5),
        ),
        max_size=12,
    ),
    cut=st.integers(0, 200),
    picks=st.lists(st.integers(-20, 400), max_size=12),
    far=st.booleans(),
)
def test_read_names_is_read_name_of_each(pieces: list[bytes], cut: int, picks: list[int], far: bool) -> None:
    """read_names (the names from one read of the bytes they lie in) gives read_name of each address:
    names whose bytes run past that read or the segment, lengths cut by its end, addresses outside it, in
    a gap between two segments, or a megabyte apart (each name then read on its own)."""
    from soinspect.elf.structs import ElfHeader, ElfLayout, Segment
    from soinspect.go.gotypes import read_name, read_names

    data = b"".join(pieces)
    cut = min(cut, len(data))
    segments = (
        Segment(type=1, flags=4, offset=0, vaddr=0x1000, filesz=cut, memsz=cut),
        Segment(type=1, flags=4, offset=cut, vaddr=0x1000 + cut + 16, filesz=len(data) - cut, memsz=len(data) - cut),
    )
    header = ElfHeader(2, 1, 0, 3, 62, 0, 0, 2, 0, 0, 0)
    elf = _elf.ElfFile("made-up.so", data, ElfLayout(header, (), segments, ()))
    addrs = [0x1000 + p for p in picks] + ([0x1000 + (2 << 20)] if far else [])
    assert read_names(elf, addrs) == [read_name(elf, a) for a in addrs]


@pytest.mark.parametrize("filesz", [None, 0])
def test_pt_load_offset_past_any_index(tmp_path: Path, filesz: int | None) -> None:
    """Regression (found by the structured-mutation property test): a PT_LOAD whose p_offset is 2**63-1, in a
    plugin with no section headers (so module data is found by scanning the segments for the pcHeader
    magic). The scan handed that offset to a regular expression's search, which raised OverflowError, and the
    file was reported as soinspect's own crash; now a segment with no byte in the file is not scanned."""
    data = bytearray(Path(corpus.path("greet-noshdr.so")).read_bytes())
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    (phnum,) = struct.unpack_from("<H", data, 0x38)
    first_load = next(phoff + i * 56 for i in range(phnum) if struct.unpack_from("<I", data, phoff + i * 56)[0] == 1)
    struct.pack_into("<Q", data, first_load + 8, 0x7FFF_FFFF_FFFF_FFFF)
    if filesz is not None:
        struct.pack_into("<Q", data, first_load + 32, filesz)
    bad = tmp_path / "offset.so"
    bad.write_bytes(data)
    report = api.audit(str(bad))
    assert not report.loadable
    assert "OverflowError" not in report.verdict.reason and "unexpected" not in report.verdict.reason

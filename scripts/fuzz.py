#!/usr/bin/env python3
"""Long-run structured fuzzing of soinspect on mutated real Go plugins (outside the normal test suite).

    python scripts/fuzz.py --mutants 1000000 --workers 2 --out fuzz-out

Every mutant is a real corpus file with one structured damage: an ELF header field, a program or
section header field, bytes of .dynsym/.dynstr/.dynamic/relocations, the build info header or its
varints, the Go module data, a type descriptor, set to an interesting value (0, all ones, the file size,
2^31, 2^32, 2^63, ...), or bytes flipped there, or the file truncated at an interesting boundary. Mutant
number i is a pure function of (--seed, i), so any failure is reproducible from its number alone (and is
also written out as a seed file).

Every mutant goes through the fact readers, as ``facts.read_facts`` does: the LIEF door (where native
code could crash), the ELF reader, the build info reader, the Go module data and, for a plugin, the type
reader that gives its symbols' Go types. Every --full-every'th mutant also goes through the rest of the
pipeline: checks, loader model, report and its JSON document (7.6 ms CPU against 5.4 ms).

Bounds: each worker runs under RLIMIT_AS (--memory). A mutant still running after --timeout seconds is
stopped inside its worker by SIGALRM and counted as a hang (the worker goes on with the next mutant, so
one slow mutant never holds up its chunk); a worker whose current mutant has not changed for twice
--timeout (at least --timeout + 2 s: stuck in native code, where the alarm cannot interrupt) is killed
by the parent: also a hang. A worker that dies (a signal, MemoryError outside the readers) is a crash.
Either way the rest of its chunk is run again by a new worker without that mutant. Outcomes:

* clean: facts (and, on the full path, a report) came back with no error;
* error kinds: soinspect's own documented error (not-elf, truncated, malformed, ...);
* contained: soinspect's own error, but made by the last-resort choke point from an unexpected Python
  exception (a reader missed a check): a bug, saved as a seed;
* traceback: an exception that is not soinspect's own escaped: a bug, saved as a seed;
* memory: MemoryError under the worker's RLIMIT_AS: a bug, saved as a seed;
* crash / hang: as above: saved as a seed.

The run is resumable: progress and totals go to ``<out>/state.json`` every 10 s (with a line on stdout
naming the mutant each worker is on and for how long); running the same command again continues where
it stopped.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import multiprocessing
import multiprocessing.connection
import os
import random
import resource
import signal
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# tests/corpus.py (decompressed, sha-verified corpus files), loaded by path: a bare "import corpus"
# would find the corpus/ data directory as a namespace package.
_spec = importlib.util.spec_from_file_location("soinspect_tests_corpus", ROOT / "tests" / "corpus.py")
assert _spec is not None and _spec.loader is not None
corpus = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(corpus)
from soinspect.elf import file as _elf  # noqa: E402
from soinspect.elf.targets import DEFAULT_TARGET  # noqa: E402
from soinspect.errors import InvalidFileError, SoinspectError  # noqa: E402
from soinspect.go import facts  # noqa: E402
from soinspect.go.facts import read_symbols  # noqa: E402
from soinspect.loader.process import Process, implicit_host  # noqa: E402
from soinspect.output.json import document  # noqa: E402
from soinspect.verdict import audit as api  # noqa: E402
from soinspect.verdict.checks import Policy  # noqa: E402

#: Real corpus files mutated: plugins of several Go versions and shapes, plus a c-shared library.
SEEDS = (
    "greet.so",
    "greet-1.19.so",
    "greet-1.25.5.so",
    "greet-stripped.so",
    "greet-noshdr.so",
    "greet-arm64.so",
    "types.so",
    "cshared.so",
)
CHUNK = 250
#: outcomes that are bugs (each saved as a seed file)
FAILURES = ("crash", "hang", "memory", "traceback", "contained")
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
class Field:
    name: str
    offset: int
    width: int


@dataclass(frozen=True)
class Seed:
    name: str
    data: bytes
    fields: tuple[Field, ...]  # fixed-width integers worth setting to interesting values
    regions: tuple[Field, ...]  # byte ranges worth flipping bytes in
    cuts: tuple[int, ...]  # truncation points


def _seed(name: str) -> Seed:
    """Map where the structures of a real corpus file are, using soinspect on the pristine bytes."""
    path = corpus.path(name)
    data = Path(path).read_bytes()
    elf = _elf.ElfFile.from_bytes(path, data)
    p = elf.ptrsize
    fields: list[Field] = []
    regions: list[Field] = []
    cuts: set[int] = {0, 1, 4, 16, 52, 63, 64, len(data) - 1, len(data) // 2}
    h = elf.header
    ehdr64 = [("e_type", 16, 2), ("e_machine", 18, 2), ("e_version", 20, 4), ("e_entry", 24, 8),
              ("e_phoff", 32, 8), ("e_shoff", 40, 8), ("e_flags", 48, 4), ("e_ehsize", 52, 2),
              ("e_phentsize", 54, 2), ("e_phnum", 56, 2), ("e_shentsize", 58, 2), ("e_shnum", 60, 2),
              ("e_shstrndx", 62, 2)]  # fmt: skip
    fields += [Field(n, o, w) for n, o, w in ehdr64]
    fields += [Field(f"e_ident[{i}]", i, 1) for i in range(4, 16)]
    for i in range(h.phnum):
        base = h.phoff + i * 56
        for n, o, w in (("p_type", 0, 4), ("p_flags", 4, 4), ("p_offset", 8, 8), ("p_vaddr", 16, 8),
                        ("p_filesz", 32, 8), ("p_memsz", 40, 8), ("p_align", 48, 8)):  # fmt: skip
            fields.append(Field(f"phdr[{i}].{n}", base + o, w))
        cuts.add(base)
    for i in range(h.shnum):
        base = h.shoff + i * 64
        for n, o, w in (("sh_name", 0, 4), ("sh_type", 4, 4), ("sh_flags", 8, 8), ("sh_addr", 16, 8),
                        ("sh_offset", 24, 8), ("sh_size", 32, 8), ("sh_link", 40, 4), ("sh_info", 44, 4),
                        ("sh_entsize", 56, 8)):  # fmt: skip
            fields.append(Field(f"shdr[{i}].{n}", base + o, w))
    for sec in elf.sections:
        if sec.type != _elf.SHT_NOBITS and sec.size and sec.offset + sec.size <= len(data):
            cuts.update((sec.offset, sec.offset + sec.size // 2, sec.offset + sec.size))
            if sec.name in (".dynsym", ".dynstr", ".dynamic", ".rela.dyn", ".gnu.hash", ".hash", ".symtab",
                            ".strtab", ".go.buildinfo", ".gopclntab", ".noptrdata", ".data.rel.ro",
                            ".typelink", ".itablink", ".shstrtab", ".gnu.version", ".gnu.version_r"):  # fmt: skip
                regions.append(Field(sec.name, sec.offset, sec.size))
    for seg in elf.segments:
        cuts.update((seg.offset, seg.offset + seg.filesz))
    # Go structures: the build info header and its varints, the module data, type descriptors.
    bi_sec = elf.section(".go.buildinfo")
    if bi_sec is not None:
        fields += [Field("buildinfo.ptrsize", bi_sec.offset + 14, 1), Field("buildinfo.flags", bi_sec.offset + 15, 1)]
        fields += [Field(f"buildinfo.varint[{k}]", bi_sec.offset + 32 + k, 1) for k in range(3)]
        fields += [Field("buildinfo.versptr", bi_sec.offset + 16, 8), Field("buildinfo.modptr", bi_sec.offset + 24, 8)]
        cuts.update(bi_sec.offset + k for k in (14, 16, 32, 33, 40))
    f = facts.facts_from_bytes(path, data, path)
    if f.go is not None and f.go.moduledata is not None:
        md_off = elf.va_to_offset(f.go.moduledata.addr, 8)
        if md_off is not None:
            size = f.go.layout.size if f.go.layout is not None and f.go.layout.size else 0x300
            regions.append(Field("moduledata", md_off, size))
            fields += [Field(f"moduledata+{k * p:#x}", md_off + k * p, p) for k in range(size // p)]
    for tname in ("type:runtime.moduledata", "type.runtime.moduledata"):
        sym = elf.dynsym_by_name.get(tname) or elf.symtab_by_name.get(tname)
        off = elf.va_to_offset(sym.value, 8) if sym is not None else None
        if off is not None:
            regions.append(Field(tname, off, 4 * p + 16 + 3 * p))
            fields += [Field(f"{tname}+{k * p:#x}", off + k * p, p) for k in range(7)]
    dyn_sec = elf.section(".dynamic")
    if dyn_sec is not None:
        for k in range(dyn_sec.size // 16):
            fields.append(Field(f"dynamic[{k}].d_val", dyn_sec.offset + 16 * k + 8, 8))
            fields.append(Field(f"dynamic[{k}].d_tag", dyn_sec.offset + 16 * k, 8))
    fields = [fl for fl in fields if fl.offset >= 0 and fl.offset + fl.width <= len(data)]
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
            mask = (1 << (8 * fl.width)) - 1
            r = rng.random()
            if r < 0.6:
                v = rng.choice((*INTERESTING, len(data), len(data) - 1, len(data) + 1))
            elif r < 0.8:
                old = int.from_bytes(data[fl.offset : fl.offset + fl.width], "little")
                v = old + rng.choice((-1, 1, -8, 8, -0x1000, 0x1000, 1 << 20))
            else:
                v = rng.getrandbits(8 * fl.width)
            put(fl.offset, (v & mask).to_bytes(fl.width, "little"))
            desc.append(f"{fl.name}={v & mask:#x}")
        return "set " + ", ".join(desc), undo, len(data)
    if op < 0.85 and seed.regions:
        reg = rng.choice(seed.regions)
        desc = []
        for _ in range(rng.randint(1, 8)):
            off = reg.offset + rng.randrange(max(1, reg.width))
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
    reg = rng.choice(seed.regions or (Field("file", 0, len(data)),))
    n = rng.choice((8, 16, 64, 256))
    src = rng.randrange(max(1, len(data) - n))
    dst = reg.offset + rng.randrange(max(1, reg.width))
    if dst + n <= len(data):
        put(dst, data[src : src + n])
    return f"splice {n} bytes from {src:#x} to {dst:#x} in {reg.name}", undo, len(data)


#: one scratch copy of each seed per process: a mutant is made in place, copied out once, then undone
_SCRATCH: dict[str, bytearray] = {}


def mutant(seeds: list[Seed], master: int, index: int) -> tuple[str, bytes, str]:
    rng = random.Random(master * 1_000_003 + index)
    seed = seeds[rng.randrange(len(seeds))]
    buf = _SCRATCH.get(seed.name)
    if buf is None:
        buf = _SCRATCH[seed.name] = bytearray(seed.data)
    desc, undo, keep = mutate(seed, rng, buf)
    data = bytes(memoryview(buf)[:keep])
    for off, raw in reversed(undo):
        buf[off : off + len(raw)] = raw
    return seed.name, data, desc


# -- worker ---------------------------------------------------------------------------------------------

_POLICY = Policy(target=DEFAULT_TARGET, strict=False, ignore=frozenset())


def run_one(name: str, data: bytes, full: bool) -> str:
    """Outcome of one mutant: ``clean``, an error kind, ``contained``, ``traceback`` or ``memory``.

    Every mutant goes through the fact readers (LIEF, ELF, build info, module data, and the type
    reader for a plugin's symbols); a *full* one also through the loader model, the report and its
    JSON document.
    """
    path = f"mutant-of-{name}"
    try:
        f = facts.facts_from_bytes(path, data, path)
        read_symbols(f)
        if full:
            verdict = Process(implicit_host(f, DEFAULT_TARGET)).open(f)
            json.dumps(document([api.build_report(f, _POLICY, verdict)]))
        if f.invalid is not None:
            cause = f.invalid.__cause__
            if cause is not None and not isinstance(cause, SoinspectError):
                return "contained"
            return f.invalid.kind
        return "clean"
    except InvalidFileError as exc:
        return exc.kind
    except MemoryError:
        return "memory"
    except Exception:
        return "traceback"


#: test hook: the worker that reaches this mutant number blocks SIGALRM and sleeps, as a worker stuck in
#: native code would (tests/test_regressions.py shows the parent reports it as a hang and goes on)
STUCK_ENV = "SOINSPECT_FUZZ_TEST_STUCK"


def _stuck() -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    while True:
        time.sleep(3600)


class Overtime(BaseException):
    """Raised in a worker by SIGALRM when one mutant runs past --timeout (not an Exception: nothing
    in soinspect can swallow it)."""


def _overtime(signum: int, frame: Any) -> None:
    raise Overtime


def _where(exc: BaseException) -> str:
    """Where the alarm interrupted: the frame below the handler."""
    tb = traceback.extract_tb(exc.__traceback__)[:-1]
    return f"{tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno} {tb[-1].name}" if tb else "?"


def worker(
    conn: Any, seeds_names: list[str], master: int, full_every: int, memory: int, timeout: float, current: Any
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGALRM, _overtime)
    resource.setrlimit(resource.RLIMIT_AS, (memory, resource.getrlimit(resource.RLIMIT_AS)[1]))
    seeds = [_seed(n) for n in seeds_names]
    parent = os.getppid()
    conn.send(("ready", None))
    while True:
        # A worker forked later holds a copy of this pipe's other end, so the parent's death is not an
        # EOF here: check for it, so that no worker outlives a killed run.
        while not conn.poll(1.0):
            if os.getppid() != parent:
                return
        msg = conn.recv()
        if msg is None:
            return
        start, end = msg
        counts: Counter[str] = Counter()
        failures: list[tuple[int, str, str]] = []
        slowest = (0.0, -1, "")
        for i in range(start, end):
            current.value = i
            name, data, desc = mutant(seeds, master, i)
            if os.environ.get(STUCK_ENV) == str(i):
                _stuck()
            t = time.perf_counter()
            # A mutant that runs past --timeout in Python code is stopped here by SIGALRM and is a
            # hang; one stuck in native code (where the handler cannot run) is killed by the parent.
            signal.setitimer(signal.ITIMER_REAL, timeout)
            try:
                outcome = run_one(name, data, i % full_every == 0)
                note = ""
            except Overtime as exc:
                outcome, note = "hang", f" [stopped after {timeout:g} s in {_where(exc)}]"
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            dt = time.perf_counter() - t
            counts[outcome] += 1
            if dt > slowest[0]:
                slowest = (dt, i, f"{name}: {desc}")
            if outcome in FAILURES:
                failures.append((i, outcome, f"{name}: {desc}{note}"))
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        conn.send(("done", (start, end, dict(counts), failures, slowest, rss)))


# -- parent ---------------------------------------------------------------------------------------------


def _stop(signum: int, frame: Any) -> None:
    raise SystemExit(f"fuzz: stopped by {signal.Signals(signum).name}; run the same command again to go on")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mutants", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--full-every", type=int, default=16, help="every Nth mutant runs the whole pipeline")
    ap.add_argument("--timeout", type=float, default=5.0, help="seconds before one mutant counts as a hang")
    ap.add_argument("--memory", type=int, default=3 << 30, help="RLIMIT_AS of each worker in bytes")
    ap.add_argument("--out", default=str(ROOT / "fuzz-out"))
    args = ap.parse_args(argv)
    out = Path(args.out)
    (out / "seeds").mkdir(parents=True, exist_ok=True)
    state_path = out / "state.json"
    key = {"seed": args.seed, "full_every": args.full_every, "seeds": list(SEEDS)}
    state: dict[str, Any] = {"key": key, "done": [], "counts": {}, "failures": [], "slowest": [0.0, -1, ""],
                             "peak_rss": 0, "elapsed": 0.0}  # fmt: skip
    if state_path.exists():
        old = json.loads(state_path.read_text())
        if old.get("key") == key:
            state = old
    todo = _remaining(args.mutants, [tuple(x) for x in state["done"]])
    todo.reverse()  # a stack: pop() gives the lowest chunk first
    counts: Counter[str] = Counter(state["counts"])
    seeds = [_seed(n) for n in SEEDS]  # the parent regenerates a failing mutant to save it
    ctx = multiprocessing.get_context("fork")
    t0 = time.monotonic() - state["elapsed"]
    last_print = 0.0
    # A mutant stuck in Python is stopped by the worker's own alarm after --timeout; the parent kills
    # a worker whose current mutant has not changed for longer than that (stuck in native code).
    kill_after = args.timeout + max(2.0, args.timeout)

    def start() -> dict[str, Any]:
        a, b = ctx.Pipe()
        cur = ctx.Value("q", -1, lock=False)
        wargs = (b, list(SEEDS), args.seed, args.full_every, args.memory, args.timeout, cur)
        p = ctx.Process(target=worker, args=wargs)
        p.start()
        b.close()
        if not a.poll(120) or a.recv()[0] != "ready":
            raise SystemExit("fuzz: a worker did not start within 120 s")
        return {"p": p, "conn": a, "cur": cur, "chunk": None, "last_cur": -1, "cur_since": time.monotonic()}

    def save_failure(i: int, outcome: str, desc: str) -> None:
        name, data, d = mutant(seeds, args.seed, i)
        fn = out / "seeds" / f"{outcome}-{args.seed}-{i}-{name}"
        fn.write_bytes(data)
        state["failures"].append([i, outcome, desc or f"{name}: {d}", str(fn)])
        print(f"FAILURE #{i} {outcome}: {desc or d} -> {fn}", flush=True)

    def give(w: dict[str, Any]) -> None:
        w["chunk"] = todo.pop() if todo else None
        if w["chunk"] is not None:
            w["conn"].send(w["chunk"])
            w["last_cur"], w["cur_since"] = -1, time.monotonic()

    def checkpoint() -> None:
        state["counts"] = dict(counts)
        state["elapsed"] = time.monotonic() - t0
        tmp = state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        os.replace(tmp, state_path)

    workers = [start() for _ in range(args.workers)]
    for w in workers:
        give(w)
    try:
        while any(w["chunk"] is not None for w in workers):
            busy = [w for w in workers if w["chunk"] is not None]
            ready = multiprocessing.connection.wait([w["conn"] for w in busy] + [w["p"].sentinel for w in busy], 1.0)
            now = time.monotonic()
            for k, w in enumerate(workers):
                if w["chunk"] is None:
                    continue
                cur = w["cur"].value
                if cur != w["last_cur"]:
                    w["last_cur"], w["cur_since"] = cur, now
                stuck = now - w["cur_since"] > kill_after
                if w["conn"] in ready:
                    try:
                        kind, (s, e, c, fails, slow, rss) = w["conn"].recv()
                    except (EOFError, OSError):
                        kind = "dead"
                    if kind == "done":
                        counts.update(c)
                        for i, outcome, desc in fails:
                            save_failure(i, outcome, desc)
                        if slow[0] > state["slowest"][0]:
                            state["slowest"] = list(slow)
                        state["peak_rss"] = max(state["peak_rss"], rss)
                        state["done"].append([s, e])
                        give(w)
                        continue
                if w["p"].sentinel in ready or stuck or not w["p"].is_alive():
                    if stuck:
                        w["p"].kill()
                    w["p"].join(5)
                    code = w["p"].exitcode
                    i = w["cur"].value
                    s, e = w["chunk"]
                    if i < s:  # died before its first mutant: run the chunk again
                        todo.append((s, e))
                    else:
                        outcome = "hang" if stuck else "crash"
                        counts[outcome] += 1
                        what = f"no progress for {kill_after:g} s, killed" if stuck else f"worker died, exit {code}"
                        save_failure(i, outcome, f"{outcome} ({what})")
                        # the rest of the chunk runs again without the failing mutant; the mutants of
                        # [s, i) were counted by no one either (a chunk reports only when it ends)
                        state["done"].append([i, i + 1])
                        todo.extend(c for c in ((s, i), (i + 1, e)) if c[0] < c[1])
                    workers[k] = start()
                    give(workers[k])
            if now - last_print > 10:
                last_print = now
                checkpoint()
                run = sum(counts.values())
                flight = ", ".join(f"#{w['last_cur']} for {now - w['cur_since']:.1f} s" for w in workers if w["chunk"])
                print(f"[{now - t0:7.0f} s] {run} mutants, {run / max(1e-9, now - t0):.0f}/s, {dict(counts)}; "
                      f"in flight: {flight}", flush=True)  # fmt: skip
    finally:
        for w in workers:
            if w["p"].is_alive():
                with contextlib.suppress(OSError):
                    w["conn"].send(None)
                w["p"].join(5)
                if w["p"].is_alive():
                    w["p"].kill()
        checkpoint()
    report(state, counts, args)
    return 1 if any(counts[k] for k in FAILURES) else 0


def _remaining(total: int, done: list[tuple[int, ...]]) -> list[tuple[int, int]]:
    """Chunks of [0, total) not yet covered by the *done* ranges (whole chunks and re-run pieces)."""
    covered = sorted((s, e) for s, e in done)
    todo: list[tuple[int, int]] = []
    for start in range(0, total, CHUNK):
        gaps = [(start, min(start + CHUNK, total))]
        for s, e in covered:
            if e <= start or s >= start + CHUNK:
                continue
            gaps = [piece for gs, ge in gaps for piece in ((gs, min(ge, s)), (max(gs, e), ge)) if piece[0] < piece[1]]
        todo += gaps
    return todo


def report(state: dict[str, Any], counts: Counter[str], args: argparse.Namespace) -> None:
    run = sum(counts.values())
    errors = {k: v for k, v in counts.items() if k != "clean" and k not in FAILURES}
    full = (run + args.full_every - 1) // args.full_every
    print(f"mutants run:       {run} (all through the fact readers, about {full} also the whole pipeline)")
    print(f"clean results:     {counts['clean']}")
    print(f"errors by kind:    {json.dumps(dict(sorted(errors.items())))}")
    print(f"crashes:           {counts['crash']}")
    print(f"hangs:             {counts['hang']}")
    print(f"tracebacks:        {counts['traceback']} (plus {counts['contained']} contained by the choke point)")
    print(f"out of memory:     {counts['memory']} (RLIMIT_AS {args.memory >> 20} MiB)")
    slow = state["slowest"]
    print(f"slowest mutant:    {slow[0] * 1000:.1f} ms, #{slow[1]} ({slow[2]})")
    print(f"peak worker RSS:   {state['peak_rss'] / (1 << 20):.0f} MiB")
    print(f"elapsed:           {state['elapsed']:.0f} s on {args.workers} workers "
          f"({run / max(1e-9, state['elapsed']):.0f} mutants/s)")  # fmt: skip
    for fail in state["failures"][:20]:
        print(f"failure: #{fail[0]} {fail[1]}: {fail[2]} -> {fail[3]}")


if __name__ == "__main__":
    # SIGTERM (and SIGINT, which a shell's background job ignores) end the run through its checkpoint
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    sys.exit(main())

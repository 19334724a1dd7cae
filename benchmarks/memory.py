"""Memory of one audit against the file's size, printed as figures (never asserted by a test).

For each file, a child forked from a warm process (soinspect and LIEF imported, one audit already done,
so the sysroot's libc is parsed and cached) resets its peak RSS (``/proc/self/clear_refs``), then runs
one stage and reports:

* ``rss``: the growth of the peak resident set (``VmHWM`` after minus ``VmRSS`` before): everything,
  LIEF's C++ allocations included;
* ``py``: the peak of Python allocations (``tracemalloc``): the bytes of the file and what soinspect's
  readers build from them.

Stages: ``lief`` (``_lief.parse_layout`` on bytes already read: LIEF's own copy and its objects),
``facts`` (``facts.read_facts``: read the file and run every reader) and ``audit`` (``soinspect.audit``:
facts, checks, loader model, report). The fixed overhead is the RSS of the warm process itself.

Usage: python benchmarks/memory.py [FILE ...]   (default: the corpus plugins, decompressed)
"""

from __future__ import annotations

import json
import os
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import corpus  # noqa: E402
from soinspect.elf import _lief  # noqa: E402
from soinspect.go import facts  # noqa: E402
from soinspect.verdict import audit as api  # noqa: E402

MIB = 1 << 20


def _status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _stages(path: str) -> dict[str, Callable[[], Any]]:
    return {
        "lief": lambda: _lief.parse_layout(path, len(_PRELOADED[path]), _copy_from(_PRELOADED[path])),
        "facts": lambda: facts.read_facts(path),
        "audit": lambda: api.audit(path),
    }


def _copy_from(data: bytes) -> _lief.ReadInto:
    def read_into(buffer: memoryview, offset: int) -> int:
        chunk = data[offset : offset + len(buffer)]
        buffer[: len(chunk)] = chunk
        return len(chunk)

    return read_into


#: the bytes of each file, read in the parent before forking, for the ``lief`` stage only
_PRELOADED: dict[str, bytes] = {}


def measure(path: str, stage: str) -> tuple[int, int]:
    """(peak RSS growth, peak traced Python bytes) of *stage* on *path*, in a forked child."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        try:
            os.close(rfd)
            fn = _stages(path)[stage]
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")  # reset VmHWM to the current RSS
            before = _status("VmRSS")
            tracemalloc.start()
            result = fn()
            _, py_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            rss = _status("VmHWM") - before
            del result
            os.write(wfd, json.dumps([rss, py_peak]).encode())
        finally:
            os._exit(0)
    os.close(wfd)
    with os.fdopen(rfd) as r:
        raw = r.read()
    os.waitpid(pid, 0)
    rss, py = json.loads(raw)
    return int(rss), int(py)


def main(argv: list[str]) -> int:
    paths = argv or [corpus.path(n) for n in corpus.names("go-plugin")]
    _lief._lief()
    api.audit(corpus.path("greet.so"))  # warm: lazy imports, the sysroot's libc parsed and cached
    fixed = _status("VmRSS")
    print(f"fixed overhead (warm process: Python, soinspect, LIEF, sysroot cache): {fixed / MIB:.0f} MiB RSS")
    print(f"{'file':28s} {'size':>8s}  {'lief rss':>9s}  {'facts rss':>10s} {'py':>6s}  {'audit rss':>10s} {'py':>6s}")
    worst = 0.0
    for p in sorted(paths, key=os.path.getsize):
        size = os.path.getsize(p)
        _PRELOADED[p] = Path(p).read_bytes()
        row = {stage: measure(p, stage) for stage in ("lief", "facts", "audit")}
        del _PRELOADED[p]
        worst = max(worst, row["audit"][0] / size)
        print(
            f"{Path(p).name:28s} {size / MIB:6.2f}Mi  {row['lief'][0] / size:8.2f}x  "
            f"{row['facts'][0] / size:9.2f}x {row['facts'][1] / size:5.2f}x  "
            f"{row['audit'][0] / size:9.2f}x {row['audit'][1] / size:5.2f}x"
        )
    print(f"worst audit: fixed {fixed / MIB:.0f} MiB + {worst:.2f}x the file size (peak RSS growth)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

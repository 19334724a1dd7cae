"""Cold-start speed of the soinspect command against `go version -m`, printed as figures (never asserted).

Measures, in one run:
1. the cold CLI: ``soinspect FILE`` as a whole fresh process (start-up, ``import lief``, the audit, the
   table on stdout, exit) on a typical plugin (default: the corpus's greet.so, 2.4 MB), against
   ``go version -m FILE`` on the same file. The two run in turn, A B A B ..., so that a machine whose speed
   drifts slows both alike; printed: each one's median wall time, the ratio of the medians and the median
   of the pair-by-pair ratios (target, issue 13: at most 12x);
2. the per-file time of a full audit inside one warm process over the corpus plugins, against the
   per-file time of one ``go version -m DIR`` over the same files.

Usage: python benchmarks/bench.py [--runs N] [FILE]
The Go binary is $SOINSPECT_GO or /opt/sgo/1.27.3/bin/go. The soinspect command is the ``soinspect``
script beside this Python (``pip install .``), else ``python -P -m soinspect``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

import bigplugin  # noqa: E402

import corpus  # noqa: E402

ENV = dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="")


def soinspect_cli() -> list[str]:
    script = Path(sys.executable).parent / "soinspect"
    return [str(script)] if script.exists() else [sys.executable, "-P", "-m", "soinspect"]


def install_note() -> str:
    """What the soinspect being measured is: an editable install (``pip install -e``) pays its import
    finder on every start (about 0.09 s here), which a user's ``pip install .`` does not; where there is
    no compiled bytecode (an editable install or ``--no-compile``, with ``PYTHONDONTWRITEBYTECODE`` set as
    on this machine, so that none is ever written) every start compiles every module (about 0.1 s)."""
    script = soinspect_cli()[0]
    code = (
        "import importlib.util, os, soinspect, lief; f = soinspect.__file__; "
        "print(f, lief.__version__, os.path.exists(importlib.util.cache_from_source(f)))"
    )
    python = str(Path(script).parent / "python") if script.endswith("soinspect") else sys.executable
    out = subprocess.run([python, "-P", "-c", code], capture_output=True, text=True, check=False).stdout.split()
    if len(out) != 3:
        return "soinspect: cannot tell which install this is"
    where, lief, compiled = out
    kind = "editable install of this checkout" if where.startswith(str(ROOT)) else "regular install"
    note = "" if kind == "regular install" else " (its import finder is in every start: users run `pip install .`)"
    if compiled != "True":
        note += (
            "; NO COMPILED BYTECODE: every start compiles soinspect from source (`pip install .`"
            " compiles it at install)"
        )
    return f"soinspect: {kind}, LIEF {lief.rstrip('-')}, bytecode {'compiled' if compiled == 'True' else 'none'}{note}"


def run(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of *cmd* as a whole process, its reaped children included."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0  # reaped here: keep Popen from waiting again
    return time.perf_counter() - t, usage.ru_utime + usage.ru_stime


def wall(cmd: list[str]) -> float:
    return run(cmd)[0]


def paired(a: list[str], b: list[str], runs: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """*runs* (wall, CPU) times of each, A B A B ..., after one warm-up of each (page cache, .pyc files)."""
    run(a)
    run(b)
    ta, tb = [], []
    for _ in range(runs):
        ta.append(run(a))
        tb.append(run(b))
    return ta, tb


def report(
    label: str, ta: list[tuple[float, float]], tb: list[tuple[float, float]], target: float | None = None
) -> None:
    """Medians of wall and CPU time of A (soinspect) and B (go version -m), and their ratios."""
    wa, wb = [w for w, _ in ta], [w for w, _ in tb]
    ca, cb = statistics.median(c for _, c in ta), statistics.median(c for _, c in tb)
    ma, mb = statistics.median(wa), statistics.median(wb)
    pair = statistics.median(x / y for x, y in zip(wa, wb, strict=True))
    print(f"  {label:44s} wall median {ma:7.3f} s (min {min(wa):.3f}, max {max(wa):.3f}), CPU {ca:.3f} s")
    print(f"  {'go version -m, same input':44s} wall median {mb:7.3f} s (min {min(wb):.3f}, max {max(wb):.3f}), "
          f"CPU {cb:.3f} s")
    aim = f"; target: at most {target:g}x" if target else ""
    print(f"  ratio: {ma / mb:.1f}x (wall, medians), {pair:.1f}x (wall, median of pairs), {ca / cb:.1f}x (CPU){aim}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file", nargs="?")
    ap.add_argument("--runs", type=int, default=11)
    args = ap.parse_args()
    go = bigplugin.go_binary()
    target = args.file or corpus.path("greet.so")
    print(install_note())
    print(f"cold CLI: {' '.join(soinspect_cli())} FILE, FILE = {target} ({os.path.getsize(target) / 1e6:.1f} MB), "
          f"{args.runs} pairs")
    ta, tb = paired([*soinspect_cli(), target], [go, "version", "-m", target], args.runs)
    report("soinspect FILE (whole process)", ta, tb, 12)

    import soinspect

    files = [corpus.path(n) for n in corpus.names("go-plugin")]
    soinspect.audit(files[0])  # warm: import lief, the sysroot's libc
    best = min(_timed(lambda: [soinspect.audit(f, digest=False) for f in files]) for _ in range(5))
    with tempfile.TemporaryDirectory() as d:
        for f in files:
            os.symlink(f, os.path.join(d, os.path.basename(f)))
        go_dir = min(wall([go, "version", "-m", d]) for _ in range(5))
    n = len(files)
    print(f"warm, in one process, {n} corpus plugins: soinspect.audit {best / n * 1000:.2f} ms per file; "
          f"go version -m DIR {go_dir / n * 1000:.2f} ms per file (one process, start-up included)")


def _timed(fn: object) -> float:
    t = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - t


if __name__ == "__main__":
    main()

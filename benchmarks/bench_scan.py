"""Directory-scan speed: files per second of ``soinspect DIR`` on 1 worker and on 2 workers (the
crash-contained pool, both cores), against ``go version -m DIR`` on the same directory, in one run.
Printed as figures, never asserted by a test.

Each figure is the best of ``--repeat`` runs of a fresh CLI process (``python -P -m soinspect --quiet
--format json --workers N DIR``, start-up and ``import lief`` included, output discarded), as CI runs it.
``go version -m`` only reads build info, far less than soinspect judges; it is the floor, not a rival.

Usage: python benchmarks/bench_scan.py [DIR] [--repeat N]
  DIR: default, a temporary directory holding every decompressed corpus file (plugins, executables,
  hosts, C libraries, a text file). The Go binary is $SOINSPECT_GO or /opt/sgo/1.27.3/bin/go.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))


def _go() -> str:
    return os.environ.get("SOINSPECT_GO") or str(
        Path(os.environ.get("SOINSPECT_TOOLCHAINS", "/opt/sgo")) / "1.27.3" / "bin" / "go"
    )


def _best(cmd: list[str], repeat: int, env: dict[str, str]) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir", nargs="?")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    from soinspect.cli import scan

    with tempfile.TemporaryDirectory() as tmp:
        if args.dir:
            directory = args.dir
        else:
            # tests/corpus.py (imported by name: mypy would take the corpus/ directory for it)
            corpus = importlib.import_module("corpus")
            directory = tmp
            for name in corpus.names():
                shutil.copy(corpus.path(name), Path(tmp) / name)
        found = scan.expand([directory])
        n = len(found.files)
        env = dict(os.environ, PYTHONPATH=str(ROOT), GOTOOLCHAIN="local", GOFLAGS="")
        cli = [sys.executable, "-P", "-m", "soinspect", "--quiet", "--format", "json"]
        one = _best([*cli, "--workers", "1", directory], args.repeat, env)
        two = _best([*cli, "--workers", "2", directory], args.repeat, env)
        inline = _best([*cli, "--workers", "0", directory], args.repeat, env)
        go = _best([_go(), "version", "-m", directory], args.repeat, env)
        cores = scan.default_workers()
        print(f"directory: {directory}: {n} ELF files judged, {len(found.skipped)} skipped; {cores} core(s)")
        print(f"  soinspect --workers 0 (in process) {inline:7.3f} s  {n / inline:7.1f} files/s")
        print(f"  soinspect --workers 1              {one:7.3f} s  {n / one:7.1f} files/s")
        print(f"  soinspect --workers 2              {two:7.3f} s  {n / two:7.1f} files/s")
        print(f"  go version -m DIR                  {go:7.3f} s  {n / go:7.1f} files/s")
        print(f"  speed-up, 2 workers over 1: {one / two:.2f}x; go version -m is {two / go:.1f}x faster than 2 workers")


if __name__ == "__main__":
    main()

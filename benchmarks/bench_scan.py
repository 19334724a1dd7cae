"""Directory-scan speed of the whole ``soinspect DIR`` command against ``go version -m DIR``, in each format a
CI gate writes, printed as figures (never asserted by a test).

Two directories, unless one is named: the corpus copied ``--copies`` times (default 10: 630 ELF files,
370 of them plugins, and 260 hosts, C libraries and damaged files), and the corpus's plugins alone copied
9 times (333 plugins: the shape of the issue's own measurement, "319 real plugins, a matrix copied ten
times"); ``--only mixed`` or ``--only plugins`` runs one of them. Each command runs as a whole fresh
process (start-up, ``import lief``, the workers, the documents), output discarded, in turn with
``go version -m DIR`` (A B A B ...), so that a machine whose speed drifts slows both alike. Printed for each
format (the table; ``--format json``; ``--format sarif``; the Action's combination: the table on stdout with
``--output sarif=F --output markdown=F``): the median wall time of each, the ratio against
``go version -m`` (targets, issue 25: at most 20x with 2 workers, 22x for the combination) and the
speed-up of 2 workers over 1 (target: at least 1.7x), from 1-worker and 2-worker runs in pairs.

With ``--growth``, the corpus's plugins copied 9 times (333 plugins) and 82 times (3,034 plugins, 6.9 GB
of disk), each scanned in JSON and paired with ``go version -m`` on the same directory: the time per file
of each, side by side (a linear scan has the same time per file at both sizes).

``go version -m`` only reads build info, far less than soinspect judges; it is the yardstick, not a rival.

Usage: python benchmarks/bench_scan.py [DIR] [--runs N] [--copies N] [--only mixed|plugins] [--growth] [--growth-only]
The Go binary is $SOINSPECT_GO or /opt/sgo/1.27.3/bin/go.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

import bigplugin  # noqa: E402
from bench import install_note, paired, report, soinspect_cli, wall  # noqa: E402

import corpus  # noqa: E402


def _lay_out(tmp: str, copies: int, kind: str | None = None) -> None:
    for i in range(copies):
        d = Path(tmp) / f"copy{i:02d}"
        d.mkdir()
        for name in corpus.names(kind):
            shutil.copyfile(corpus.path(name), d / name)


#: what each scan writes besides stdout (the Action's combination), and its target against go version -m
FORMATS: tuple[tuple[str, list[str], float], ...] = (
    ("table", [], 20),
    ("json", ["--format", "json"], 20),
    ("sarif", ["--format", "sarif"], 20),
    ("table + --output sarif, markdown", ["--output", "sarif={out}/a.sarif", "--output", "markdown={out}/a.md"], 22),
)


def _formats(cli: list[str], go: str, directory: str, out: str, runs: int) -> None:
    from soinspect.cli import scan

    gocmd = [go, "version", "-m", directory]
    speedups = []
    for label, extra, target in FORMATS:
        options = [a.format(out=out) for a in extra]
        two = [*cli, *options, "--workers", "2", directory]
        ta, tb = paired(two, gocmd, runs)
        report(f"{label}, 2 workers", ta, tb, target)
        # the speed-up, in pairs (1 worker, 2 workers, in turn): the medians of runs minutes apart move
        # with this machine's drift by more than the target's margin
        t1, t2 = paired([*cli, *options, "--workers", "1", directory], two, runs)
        w1, w2 = [w for w, _ in t1], [w for w, _ in t2]
        pairs = statistics.median(a / b for a, b in zip(w1, w2, strict=True))
        speedups.append((label, pairs, statistics.median(w1) / statistics.median(w2)))
        print(f"  2 workers over 1, {runs} pairs: {pairs:.2f}x (median of pairs; target: at least 1.7x)")
    # JSON alone writes each file's sha256 (needs_digest): hashing is work no other format does
    t = time.process_time()
    for f in scan.expand([directory]).files:
        with open(f, "rb") as fh:
            hashlib.sha256(fh.read())
    cpu = time.process_time() - t
    go_median = statistics.median(wall(gocmd) for _ in range(runs))
    print(f"hashing the files (sha256, JSON only), in one process: {cpu:.2f} s of CPU, {cpu / 2:.2f} s on 2 cores: "
          f"{cpu / 2 / go_median:.1f}x go version -m's {go_median:.3f} s")  # fmt: skip
    print("2 workers over 1 (median of pairs, ratio of medians): " + "; ".join(f"{label} {p:.2f}x ({m:.2f}x)"
          for label, p, m in speedups))  # fmt: skip


def _growth(cli: list[str], go: str, runs: int) -> None:
    per_file = []
    for copies in (9, 82):
        with tempfile.TemporaryDirectory(prefix="soinspect-bench-") as tmp:
            _lay_out(tmp, copies, "go-plugin")
            n = len(corpus.names("go-plugin")) * copies
            ta, tb = paired([*cli, "--format", "json", "--workers", "2", tmp], [go, "version", "-m", tmp], runs)
            report(f"{n} plugins, json, 2 workers", ta, tb)
            a, b = statistics.median(w for w, _ in ta), statistics.median(w for w, _ in tb)
            per_file.append((n, a / n, b / n))
    (n1, a1, b1), (n2, a2, b2) = per_file
    print(f"growth: per file, {n1} plugins {a1 * 1000:.2f} ms, {n2} plugins {a2 * 1000:.2f} ms: x{a2 / a1:.2f} "
          f"for {n2 / n1:.1f} times the files")  # fmt: skip
    print(f"  go version -m per file: {b1 * 1000:.3f} ms, {b2 * 1000:.3f} ms: x{b2 / b1:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir", nargs="?")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--copies", type=int, default=10)
    ap.add_argument("--only", choices=("mixed", "plugins"), help="one of the two directories")
    ap.add_argument("--growth", action="store_true", help="also scan 333 and 3,034 plugins (6.9 GB of copies)")
    ap.add_argument("--growth-only", action="store_true", help="only the growth figures")
    args = ap.parse_args()
    from soinspect.cli import scan

    go = bigplugin.go_binary()
    cli = [*soinspect_cli(), "--quiet"]
    print(install_note())
    print(f"{scan.default_workers()} core(s); {args.runs} pairs each")
    shapes = [("named", None, 0)] if args.dir else [("mixed", None, args.copies), ("plugins", "go-plugin", 9)]
    for shape, kind, copies in shapes if not args.growth_only else ():
        if args.only and shape != args.only:
            continue
        with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as out:
            directory = args.dir or tmp
            if not args.dir:
                _lay_out(tmp, copies, kind)
            found = scan.expand([directory])
            plugins = sum(1 for f in found.files if os.path.basename(f) in set(corpus.names("go-plugin")))
            print(f"directory ({shape}): {directory}: {len(found.files)} ELF files ({plugins} plugins), "
                  f"{len(found.skipped)} skipped")  # fmt: skip
            _formats(cli, go, directory, out, args.runs)
    if args.growth or args.growth_only:
        _growth(cli, go, args.runs)


if __name__ == "__main__":
    main()

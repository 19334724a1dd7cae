"""Peak memory of one audit against the file's size, printed as figures (never asserted by a test).

Each figure is the peak resident set of a whole fresh process, as the kernel accounts it
(``ru_maxrss`` from ``wait4``: the largest of the process and the children it reaped), so LIEF's C++
allocations, the interpreter and every import are in it:

* ``audit``: ``python -c 'soinspect.audit(FILE)'``, the library call, in one process;
* ``cli``: the ``soinspect FILE`` command (its worker process included);
* ``go``: ``go version -m FILE`` on the same file, for scale.

The target (issue 13) is ``audit`` and ``cli`` at or below 1.3 x the file size + 100 MiB for plugins of
20 MB or more, growing linearly beyond: the last lines fit peak = a x size + b over those files.

Files: the corpus plugins and real Go plugins of about 20, 40 and 70 MiB built by
``benchmarks/bigplugin.py`` (cached in benchmarks/.cache/; the first run builds them, about a minute).

Usage: python benchmarks/memory.py [FILE ...]
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bigplugin  # noqa: E402

import corpus  # noqa: E402

MIB = 1 << 20
AUDIT = "import sys, soinspect; soinspect.audit(sys.argv[1])"


def peak_rss(cmd: list[str]) -> int:
    """Peak RSS in bytes of *cmd* run to its end (its reaped children included), output discarded."""
    env = dict(os.environ, GOTOOLCHAIN="local", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0  # reaped here: keep Popen from waiting again
    return int(usage.ru_maxrss) * 1024


def soinspect_cli() -> list[str]:
    script = Path(sys.executable).parent / "soinspect"
    return [str(script)] if script.exists() else [sys.executable, "-P", "-m", "soinspect"]


def main(argv: list[str]) -> int:
    paths = argv or [corpus.path(n) for n in corpus.names("go-plugin")] + [
        bigplugin.plugin(m) for m in bigplugin.DEFAULT_SIZES
    ]
    go = bigplugin.go_binary()
    print(f"{'file':30s} {'size':>9s}  {'audit':>9s} {'cli':>9s} {'go':>8s}  {'budget':>9s}  audit/budget")
    big: list[tuple[int, int, int]] = []
    for p in sorted(paths, key=os.path.getsize):
        size = os.path.getsize(p)
        audit = peak_rss([sys.executable, "-c", AUDIT, p])
        cli = peak_rss([*soinspect_cli(), "--quiet", p])
        gov = peak_rss([go, "version", "-m", p])
        budget = int(1.3 * size) + 100 * MIB
        flag = "" if max(audit, cli) <= budget else "  OVER"
        print(
            f"{Path(p).name[:30]:30s} {size / MIB:7.1f}Mi  {audit / MIB:7.1f}Mi {cli / MIB:7.1f}Mi "
            f"{gov / MIB:6.1f}Mi  {budget / MIB:7.1f}Mi  {audit / budget:5.2f} (cli {cli / budget:4.2f}){flag}"
        )
        if size >= 20 * 1000 * 1000:
            big.append((size, audit, cli))
    if len(big) >= 2:
        for label, k in (("audit", 1), ("cli", 2)):
            (s0, *_), (s1, *_) = big[0], big[-1]
            slope = (big[-1][k] - big[0][k]) / (s1 - s0)
            base = big[0][k] - slope * s0
            print(f"{label}: peak = {slope:.2f} x size + {base / MIB:.0f} MiB over the files of 20 MB or more "
                  f"(target: at most 1.3 x size + 100 MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Speed of soinspect against `go version -m`, printed as figures (never asserted by a test).

Measures, in one run:
1. per-file time of a full soinspect audit inside one process, over a directory of plugins, against the
   per-file time of `go version -m` over the same files (one `go version -m DIR` process, as a user runs it);
2. the cold CLI (`python -P -m soinspect FILE` in a fresh process, `import lief` included) on the largest plugin.

Usage: python benchmarks/bench.py [DIR]   (default: the corpus plugins, decompressed)
The Go binary is $SOINSPECT_GO or /opt/sgo/1.27.3/bin/go (scripts/go-toolchain.sh 1.27.3 installs it).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))


def _go() -> str:
    return os.environ.get("SOINSPECT_GO") or str(Path(os.environ.get("SOINSPECT_TOOLCHAINS", "/opt/sgo"))
                                                 / "1.27.3" / "bin" / "go")


def _plugins(arg: str | None) -> list[str]:
    if arg:
        return sorted(str(p) for p in Path(arg).iterdir() if p.is_file())
    import corpus

    return [corpus.path(n) for n in corpus.names("go-plugin")]


def _best(fn: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    files = _plugins(sys.argv[1] if len(sys.argv) > 1 else None)
    import soinspect

    soinspect.audit(files[0])  # warm: import lief, caches
    per_file = _best(lambda: [soinspect.audit(f) for f in files], 5) / len(files)
    per_file_table = _best(lambda: [soinspect.audit(f, digest=False) for f in files], 5) / len(files)
    with tempfile.TemporaryDirectory() as d:
        for f in files:
            os.symlink(f, os.path.join(d, os.path.basename(f)))
        env = dict(os.environ, GOTOOLCHAIN="local")
        go_total = _best(lambda: subprocess.run([_go(), "version", "-m", d], capture_output=True, env=env,
                                                check=True), 5)
    go_per_file = go_total / len(files)
    largest = max(files, key=os.path.getsize)
    cold = [
        _best(lambda: subprocess.run([sys.executable, "-P", "-m", "soinspect", largest], capture_output=True,
                                     check=False), 1)
        for _ in range(5)
    ]
    go_one = _best(lambda: subprocess.run([_go(), "version", "-m", largest], capture_output=True, env=env,
                                          check=True), 5)
    mb = os.path.getsize(largest) / 1e6
    print(f"files: {len(files)} plugins, {sum(os.path.getsize(f) for f in files) / 1e6:.1f} MB")
    print(f"soinspect audit, per file, in one process: {per_file * 1000:8.2f} ms  (JSON fields, sha256 included)")
    print(f"soinspect audit without the sha256 (what the table report needs): {per_file_table * 1000:8.2f} ms")
    print(f"go version -m, per file (one process for the directory): {go_per_file * 1000:8.2f} ms")
    print(f"ratio soinspect / go version -m per file: {per_file / go_per_file:8.2f}x  (aim <= 2x); "
          f"without sha256 {per_file_table / go_per_file:.2f}x")
    print(f"cold CLI on the largest plugin ({mb:.1f} MB), median of 5: {statistics.median(cold):8.3f} s  "
          f"(aim <= 0.45 s)")
    print(f"go version -m on the same file, whole process: {go_one:8.3f} s")


if __name__ == "__main__":
    main()

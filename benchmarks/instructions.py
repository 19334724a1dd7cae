"""Instructions per judged file, counted by valgrind: a figure the machine's drift does not move.

Wall and CPU times on this shared 2-core machine drift by a factor of about 1.7 within an evening (see
docs/speed.md), so a change of a few percent cannot be seen in them. valgrind's callgrind counts the
instructions a process executes, the same on every run of the same code: this script runs one pass of a
scan's per-file work (``judge_rendered``: audit and table block, as a scan's worker does it, in one
process) over every corpus file, and the same process without the pass, and prints the difference per
file. It is a measure of work, not of time (a ``rep movsb`` copy counts each byte as an instruction, and
memory stalls count nothing): use it to compare two versions of soinspect, the benchmarks for the targets.

Usage: python benchmarks/instructions.py [--passes N]
(needs ``valgrind`` on PATH; measures the soinspect that this Python imports)
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import corpus  # noqa: E402

_LOOP = """
import sys
from soinspect.cli import scan
from soinspect.elf.targets import DEFAULT_TARGET
from soinspect.output.interface import Format
from soinspect.verdict import audit as api
kw = dict(judge=api.audit, outputs=[(Format.TABLE, False)], verbose=False, slim=True, target=DEFAULT_TARGET,
          max_size=1 << 30, digest=False, strict=False, ignore=[], sysroot="/", expect=None)
files = sys.argv[2:]
for _ in range(int(sys.argv[1])):
    for path in files:
        try:
            scan.judge_rendered(path, **kw)
        except Exception:
            pass
"""


def _instructions(passes: int, files: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "loop.py"
        script.write_text(_LOOP)
        out = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-P", str(script),
             str(passes), *files],
            capture_output=True, text=True, check=True, cwd=tmp,
        )  # fmt: skip
    m = re.search(r"Collected : (\d+)", out.stderr)
    if m is None:
        raise SystemExit(f"valgrind printed no instruction count:\n{out.stderr[-2000:]}")
    return int(m.group(1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--passes", type=int, default=1)
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("instructions.py: valgrind is not on PATH (Debian: apt-get install valgrind)")
    files = [corpus.path(name) for name in corpus.names()]
    code = "import soinspect, lief; print(soinspect.__file__, lief.__version__)"
    where = subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True, check=True).stdout
    print(f"soinspect {where.split()[0]} (LIEF {where.split()[1].rstrip('-')}); {len(files)} corpus files")
    base = _instructions(0, files)
    total = _instructions(args.passes, files)
    per_file = (total - base) / (args.passes * len(files))
    print(f"start-up and imports: {base / 1e6:.1f} M instructions")
    print(f"per judged file (audit and table block), mean over the corpus: {per_file / 1e6:.2f} M instructions")
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print("(PYTHONDONTWRITEBYTECODE is set: the start-up figure may include compiling modules from source)")


if __name__ == "__main__":
    main()

"""Write the JSON report of every corpus file, every recorded ``--host`` set and a scan, to one file.

Used to show that a refactoring changed nothing users see: run it before and after, then ``cmp`` the two.

    python scripts/corpus_json.py /tmp/before.txt
    ... change the code ...
    python scripts/corpus_json.py /tmp/after.txt && cmp /tmp/before.txt /tmp/after.txt

It runs the CLI's ``main`` in this process (``--workers 0``) for each invocation and records, per
invocation, the argument list, the exit code and stdout. Nothing is loaded or run from the corpus.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import corpus
from soinspect.cli import main


def invocations() -> list[list[str]]:
    names = sorted(corpus.manifest())
    paths = {n: corpus.path(n) for n in names}
    out: list[list[str]] = [["--format", "json", "--workers", "0", paths[n]] for n in names]
    seen: set[tuple[str, ...]] = set()
    for run in corpus.observed():
        key = (run["host"], *run["plugins"])
        if key in seen:
            continue
        seen.add(key)
        host = ["--host", paths[run["host"]]]
        out.append(["--format", "json", "--workers", "0", *host, *(paths[p] for p in run["plugins"])])
    out.append(["--format", "json", "--workers", "0", "--quiet", os.path.dirname(paths[names[0]])])
    return out


def run(argv: list[str]) -> tuple[int, str]:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(io.StringIO()):
        code = main(argv)
    return code, buf.getvalue()


def main_(out: str) -> int:
    with open(out, "w", encoding="utf-8") as fh:
        for argv in invocations():
            code, text = run(argv)
            fh.write(f"$ soinspect {' '.join(argv)}\nexit {code}\n{text}\n")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python scripts/corpus_json.py OUTPUT")
    sys.exit(main_(sys.argv[1]))

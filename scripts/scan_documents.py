"""Write every document of a scan of the corpus directory, in every format, to one file, and print the sha256
of each: the documents a CI gate writes, made the way it makes them (the command, its worker processes).

Used to show that a change to how documents are made changed none of them: run it before and after, then
``cmp`` the two files (or compare the printed sums).

    python -P scripts/scan_documents.py /tmp/before.txt
    ... change the code ...
    python -P scripts/scan_documents.py /tmp/after.txt && cmp /tmp/before.txt /tmp/after.txt

Each invocation runs ``python -P -m soinspect`` on the corpus directory with 2 workers (``--workers 0``
once, for the in-process path): JSON, SARIF, Markdown, line and the table (plain and ``-v``); the Action's
combination (the table on stdout, ``--output sarif=`` and ``--output markdown=``) and every format through
``--output`` at once; a ``--host --each`` scan against one host and against two (whose documents name the
host of each file). Recorded per invocation: the argument list (the output directory written as ``$OUT``),
the exit code, stdout and each ``--output`` file. Nothing is loaded or run from the corpus.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import corpus

FORMATS = ("json", "sarif", "markdown", "line", "table")


def invocations(directory: str, hosts: tuple[str, str]) -> list[list[str]]:
    two = ["--workers", "2", "--quiet"]
    out = [[*two, "--format", f, directory] for f in FORMATS]
    out.append([*two, "-v", directory])
    out.append(["--workers", "0", "--quiet", "--format", "sarif", directory])
    out.append([*two, "--output", "sarif=$OUT/a.sarif", "--output", "markdown=$OUT/a.md", directory])
    out.append([*two, "--format", "json", *(f"--output={f}=$OUT/all.{f}" for f in FORMATS), directory])
    one, other = hosts
    for f in ("json", "sarif", "markdown", "line", "table"):
        out.append([*two, "--format", f, "--host", one, "--each", directory])
    for f in ("json", "sarif", "markdown", "line"):
        out.append([*two, "--format", f, "--host", one, "--host", other, "--each", directory])
    return out


def main(output: str) -> int:
    names = corpus.names()
    directory = os.path.dirname(corpus.path(names[0]))  # lays out (and verifies) the whole corpus there
    hosts = [run["host"] for run in corpus.observed()]
    pair = (corpus.path(hosts[0]), corpus.path(next(h for h in hosts if h != hosts[0])))
    with open(output, "w", encoding="utf-8") as fh, tempfile.TemporaryDirectory(prefix="soinspect-docs-") as tmp:
        for argv in invocations(directory, pair):
            real = [a.replace("$OUT", tmp) for a in argv]
            proc = subprocess.run(
                [sys.executable, "-P", "-m", "soinspect", *real], capture_output=True, text=True, check=False
            )
            docs = [("stdout", proc.stdout)]
            for a in argv:
                if "=$OUT/" in a:
                    name = a.split("=", 2)[-1]
                    docs.append((name, Path(name.replace("$OUT", tmp)).read_text(encoding="utf-8")))
            fh.write(f"$ soinspect {' '.join(argv)}\nexit {proc.returncode}\n")
            for name, text in docs:
                digest = hashlib.sha256(text.encode()).hexdigest()
                print(f"{digest[:16]}  exit {proc.returncode}  {name:18s} soinspect {' '.join(argv)}")
                fh.write(f"--- {name} ({len(text)} characters)\n{text}\n")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -P scripts/scan_documents.py OUTPUT")
    sys.exit(main(sys.argv[1]))

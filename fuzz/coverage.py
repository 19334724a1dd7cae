"""Branch coverage of ``soinspect/`` under the fuzz corpus (coverage.py), to set beside the test suite's.

    python -m fuzz.coverage --out fuzz-out           # every harness's kept corpus and seeds
    coverage run --branch --source=soinspect -m pytest -q && python -m fuzz.coverage --suite   # the suite's

Each input that a harness kept (``<out>/NAME/corpus``) and every seed (``<out>/NAME/seeds``) goes once
through that harness, without atheris's instrumentation and without the differential oracles (they read
nothing more of soinspect). Prints the total branch coverage and the figure per harness.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import tempfile
from pathlib import Path

import coverage

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = str(ROOT / ".coverage.fuzz")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "fuzz-out"), help="the --out of the fuzzing runs")
    ap.add_argument("--data-file", default=DEFAULT_DATA)
    ap.add_argument("--suite", action="store_true", help="only print the figures of ./.coverage (the suite's)")
    args = ap.parse_args(argv)
    if args.suite:
        suite = coverage.Coverage(data_file=args.data_file if args.data_file != DEFAULT_DATA else ".coverage")
        suite.load()
        print("test suite:", figures(suite))
        return 0
    cov = coverage.Coverage(branch=True, source=["soinspect"], data_file=args.data_file)
    cov.start()  # before soinspect is imported: its module-level code counts too
    from fuzz import harnesses
    from fuzz.run import NAMES

    counts: dict[str, int] = {}
    for name in NAMES:
        h = harnesses.HARNESSES[name]
        one = h.one
        if name == "elf":
            one = lambda d: harnesses.elf_one(d, differential=False)  # noqa: E731
        elif name == "buildinfo":
            one = lambda d: harnesses.buildinfo_one(d, differential=False)  # noqa: E731
        inputs = [p for d in ("corpus", "seeds") for p in sorted((Path(args.out) / name / d).glob("*"))]
        for p in inputs:
            with contextlib.suppress(Exception):  # a finding is the fuzzer's business; here only coverage
                one(p.read_bytes()[: h.max_len])
        counts[name] = len(inputs)
    cov.stop()
    cov.save()
    print(f"inputs: {counts}")
    print("fuzz corpus:", figures(cov))
    return 0


def figures(cov: coverage.Coverage) -> str:
    """coverage.py's total (statements and branches, as ``coverage report`` gives it) and the branches."""
    with tempfile.TemporaryDirectory() as tmp:
        cov.json_report(outfile=f"{tmp}/c.json")
        report = json.loads(Path(f"{tmp}/c.json").read_text())
    t = report["totals"]
    readers = [f["summary"] for name, f in report["files"].items() if name.startswith(READERS)]
    rb, rn = sum(r["covered_branches"] for r in readers), sum(r["num_branches"] for r in readers)
    return (
        f"{t['percent_covered']:.1f}% (coverage.py, branch mode); branches {t['covered_branches']}/"
        f"{t['num_branches']} ({100 * t['covered_branches'] / max(1, t['num_branches']):.1f}%); "
        f"statements {t['covered_lines']}/{t['num_statements']}; branches of the readers {rb}/{rn} "
        f"({100 * rb / max(1, rn):.1f}%)"
    )


#: the readers behind the choke point that the harnesses drive (the rest is verdict, output, command line)
READERS = ("soinspect/elf/", "soinspect/go/", "soinspect/loader/dynamic.py", "soinspect/cli/config.py")


if __name__ == "__main__":
    raise SystemExit(main())

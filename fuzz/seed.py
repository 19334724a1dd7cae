"""Turn a fuzzer's finding into a regression seed in ``tests/regressions/``.

    python -m fuzz.seed HARNESS INPUT NAME

For the ELF-based harnesses the seed is ``HARNESS-NAME.json``: the corpus file, and the bytes laid over it
(:meth:`fuzz.overlay.Templates.patch`), so a seed is a few hundred bytes, not a 2 MB mutant, and does not
depend on the order of the templates. For the others it is the input itself, ``HARNESS-NAME``.
``tests/test_regressions.py`` replays every seed through its harness's property.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from fuzz import harnesses
from fuzz.overlay import ROOT, Templates

SEED_DIR = ROOT / "tests" / "regressions"
OVERLAY = {"elf", "buildinfo", "gomodule", "versions"}


def templates(name: str) -> Templates:
    return getattr(harnesses._T, name)  # type: ignore[no-any-return]


def write(harness: str, data: bytes, name: str, why: str) -> Path:
    SEED_DIR.mkdir(exist_ok=True)
    if harness in OVERLAY:
        patch = templates(harness).patch(data)
        if patch is None:
            raise SystemExit("the input is shorter than the overlay header")
        out = SEED_DIR / f"{harness}-{name}.json"
        out.write_text(json.dumps({"harness": harness, "why": why, **patch}, indent=1) + "\n")
        return out
    out = SEED_DIR / f"{harness}-{name}"
    out.write_bytes(data)
    return out


if __name__ == "__main__":
    harness, input_path, seed_name = sys.argv[1:4]
    why = sys.argv[4] if len(sys.argv) > 4 else ""
    print(write(harness, Path(input_path).read_bytes(), seed_name, why))

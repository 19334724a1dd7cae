"""Write the generated parts of docs/platforms.md: the platform table per Go release
(soinspect/elf/platforms.py) and every real plugin.Open run of corpus/platforms/observed.json beside
soinspect's prediction (through the host binary).

Usage: python scripts/platforms_doc.py   (tests/test_platforms.py checks the committed file is current)
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import platforms  # noqa: E402
from matrix_doc import run_rows  # noqa: E402

from soinspect.elf import platforms as table  # noqa: E402
from soinspect.verdict import audit as api  # noqa: E402

DOC = ROOT / "docs" / "platforms.md"
MARKS = {"releases": ("<!-- releases: begin -->", "<!-- releases: end -->"),
         "runs": ("<!-- runs: begin -->", "<!-- runs: end -->")}


def releases() -> str:
    arches = sorted({a for row in table.PLUGIN.values() for a in row})
    rows = ["| Go | " + " | ".join(arches) + " |", "|---|" + "---|" * len(arches)]
    for minor, row in table.PLUGIN.items():
        cells = ["plugin, -race" if a in row and a in table.RACE[minor] else "plugin" if a in row else "-"
                 for a in arches]
        rows.append(f"| go{minor} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def runs() -> str:
    rows = ["| platform | host | files, loaded in order | real outcome | soinspect | Go's message (first line) |",
            "|---|---|---|---|---|---|"]
    agree = total = 0
    for run in platforms.observed():
        reports = api.check_host(platforms.path(run["host"]), [platforms.path(p) for p in run["plugins"]])
        arch, host = run["host"].split("/", 1)
        for same, cells in run_rows(run, reports):
            total += 1
            agree += same
            rows.append(f"| linux/{arch} | {host} | {cells} |")
    return f"Agreement: **{agree} of {total}** (`python scripts/platforms_doc.py` rewrites this table).\n\n" + "\n".join(
        rows
    )


def render(text: str) -> str:
    for key, body in (("releases", releases()), ("runs", runs())):
        begin, end = MARKS[key]
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{begin}\n{body}\n{end}{tail}"
    return text


if __name__ == "__main__":
    DOC.write_text(render(DOC.read_text()))

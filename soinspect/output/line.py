"""Reports to one line per file, for scans and logs: ``PATH: VERDICT: cause``.

Exactly one line per judged file, then one per path the run could not judge (``NOT JUDGED``) and one per
path a scan skipped (``SKIPPED``); no header and no summary, so ``wc -l`` counts paths and ``grep`` finds
a file. The cause is :func:`~soinspect.verdict.explain.cause_line`, the sentence the table's ``why:`` line
says. A line break or other control character inside a path or a message is written as an escape
(``\\n``), so that a line stays a line whatever a file name holds.
"""

from __future__ import annotations

from collections.abc import Sequence

from soinspect.verdict.explain import cause_line, verdict_word
from soinspect.verdict.report import Report, RunError, Skipped


def render_line(
    reports: Sequence[Report], *, skipped: Sequence[Skipped] = (), errors: Sequence[RunError] = ()
) -> str:
    lines = [report_line(r) for r in reports]
    lines += [_one(f"{e.path}: NOT JUDGED ({e.kind}): {e.message}") for e in errors]
    lines += [_one(f"{s.path}: SKIPPED: {s.reason}") for s in skipped]
    return "".join(f"{line}\n" for line in lines)


def report_line(r: Report) -> str:
    """``PATH: VERDICT (kind): cause``; a loadable file says only that it loads."""
    text = f"{r.path}: {verdict_word(r)} ({r.kind})"
    if not r.loadable:
        text += f": {cause_line(r)}"
    return _one(text)


def _one(text: str) -> str:
    """*text* on one line: control characters (a newline in a file name) written as Python escapes."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)

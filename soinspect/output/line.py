"""Reports to one line per file, for scans and logs: ``PATH: VERDICT (kind): cause; fix: ...``.

With ``--host`` given more than once, each line names its host: ``PATH (host HOST): VERDICT: cause``.

Exactly one line per judged file, then one per path the run could not judge (``NOT JUDGED``) and one per
path a scan skipped (``SKIPPED``); no header and no summary, so ``wc -l`` counts paths and ``grep`` finds
a file. The cause is :func:`~soinspect.verdict.explain.cause_line`, the sentence the table's ``why:`` line
says, and the fix in brief (:func:`~soinspect.verdict.explain.fix_brief`). Paths and messages are shown
through :func:`~soinspect.output.escape.escape`, the rule every format a person reads follows: a line break,
an escape sequence or a bidirectional control in a file name is written as an escape (``\\n``,
``\\u202e``), so that a line stays a line and a terminal shows the text, whatever a file name holds.
"""

from __future__ import annotations

from collections.abc import Sequence

from soinspect.output.ansi import paint, verdict_style
from soinspect.output.escape import escape
from soinspect.verdict.explain import cause_line, contract_unknown, fix_brief, verdict_word
from soinspect.verdict.report import Report, RunError, Skipped


def render_line(
    reports: Sequence[Report],
    *,
    skipped: Sequence[Skipped] = (),
    errors: Sequence[RunError] = (),
    color: bool = False,
    parts: Sequence[str | None] | None = None,
) -> str:
    """The lines of a run. *parts*, where given, holds each report's :func:`report_line`, rendered elsewhere
    (a scan's workers) with the same *color* for a run of one host; None for one to render here."""
    several_hosts = len({r.host.path for r in reports if r.host is not None}) > 1
    if parts is None:
        parts = [None] * len(reports)
    elif several_hosts and any(p is not None for p in parts):
        raise ValueError("line parts are rendered for a run of one host; this run has several")
    lines = [
        part if part is not None else report_line(r, color, name_host=several_hosts)
        for r, part in zip(reports, parts, strict=True)
    ]
    lines += [_join(e.path, "NOT JUDGED", f"({e.kind}): {e.message}", color) for e in errors]
    lines += [_join(s.path, "SKIPPED", s.reason, color) for s in skipped]
    return "".join(f"{line}\n" for line in lines)


def report_line(r: Report, color: bool = False, *, name_host: bool = False) -> str:
    """``PATH: VERDICT (kind): cause``; a loadable file says only that it loads. With *name_host* (several
    hosts in one run): ``PATH (host HOST): ...``."""
    where = f"{r.path} (host {r.host.path})" if name_host and r.host is not None else r.path
    unknown = contract_unknown(r) if r.loadable else None
    rest = f"({r.kind})" + ("" if r.loadable else f": {cause_line(r)}") + (f": {unknown}" if unknown else "")
    if r.fix is not None:
        rest += f"; fix: {fix_brief(r.fix)}"
    return _join(where, verdict_word(r), rest, color)


def _join(path: str, word: str, rest: str, color: bool) -> str:
    sep = " " if rest.startswith("(") else ": "
    return f"{escape(path)}: {paint(word, verdict_style(word), color)}{sep}{escape(rest)}"

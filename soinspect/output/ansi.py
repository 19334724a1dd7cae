"""ANSI colour for the formats a person reads on a terminal (table, line). The command line decides
whether to colour (``--color``, ``NO_COLOR``, a terminal); a renderer only gets ``color=True`` or not, and
without it returns plain text byte for byte.

This module is the one place that makes terminal control sequences: colours, and :data:`ERASE_LINE` for
the progress bar. Text from a file never carries one to the terminal (:mod:`soinspect.output.escape`)."""

from __future__ import annotations

_CODES = {"red": "31", "green": "32", "yellow": "33", "bold": "1", "dim": "2"}

#: the colour of a verdict word and of a check status
VERDICT_STYLE = {
    "LOADABLE": "green",
    "REJECTED": "red",
    "NOT REACHED": "yellow",
    "UNKNOWN": "yellow",
    "NOT JUDGED": "red",
    "SKIPPED": "dim",
}
STATUS_STYLE = {"ok": "green", "FAIL": "red", "warn": "yellow", "?": "yellow"}

#: back to the start of the line and erase it: what the progress bar leaves behind on stderr
ERASE_LINE = "\r\x1b[K"


def paint(text: str, style: str | None, on: bool) -> str:
    """*text* in *style* when *on*; otherwise *text* unchanged."""
    if not on or style is None:
        return text
    return f"\x1b[{_CODES[style]}m{text}\x1b[0m"


def verdict_style(word: str) -> str | None:
    """The style of a verdict word (``REJECTED (host crash)`` is a ``REJECTED``)."""
    return next((s for w, s in VERDICT_STYLE.items() if word.startswith(w)), None)

"""Reports to a Markdown summary: one table for a CI step summary (``$GITHUB_STEP_SUMMARY``) or a PR
comment, in GitHub-flavoured Markdown.

Every text from a file, a path or a manifest is shown through :func:`~soinspect.output.escape.escape`
(no control, bidirectional or invisible character; no line break), and then cannot change the document's
structure: a path or a name is a code span (:func:`_code`: a fence longer than any run of backticks in
it, ``|`` escaped in a table), a message is text with every character Markdown could read as markup
backslash-escaped (:func:`_cell`, :func:`_text`: no link, image, HTML, emphasis, code span, table cell
or list marker can come from it). Rendered, each shows exactly the escaped text."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from soinspect.output.escape import escape
from soinspect.verdict.explain import (
    cause_line,
    collapsed_packages,
    contract_unknown,
    host_line,
    target_line,
    verdict_word,
)
from soinspect.verdict.report import Report, RunError, Skipped

#: a message longer than this is cut in the table (the JSON and SARIF outputs keep it whole)
MAX_CELL = 200


def render_markdown(
    reports: Sequence[Report],
    *,
    policy: dict[str, Any] | None = None,
    skipped: Sequence[Skipped] = (),
    errors: Sequence[RunError] = (),
    parts: Sequence[str | None] | None = None,
) -> str:
    """The summary. *parts*, where given, holds each report's :func:`report_part`, rendered elsewhere (a
    scan's workers) for a run of one host; None for one to render here."""
    ok = sum(1 for r in reports if r.loadable)
    rejected = len(reports) - ok
    mark = "✅" if rejected == 0 and not errors else "❌"
    lines = [
        "## soinspect: Go plugin check",
        "",
        f"{mark} **{ok} of {len(reports)} file(s) loadable**, {rejected} rejected"
        + (f", **{len(errors)} path(s) could not be judged**" if errors else "")
        + (f", {len(skipped)} path(s) skipped" if skipped else ""),
        "",
    ]
    if errors:
        lines += ["| could not judge | kind | why |", "|---|---|---|"]
        lines += [f"| {_code(e.path)} | {_cell(e.kind)} | {_cell(e.message)} |" for e in errors]
        lines.append("")
    host = (policy or {}).get("host")
    target = (policy or {}).get("target")
    hosts = list(dict.fromkeys(host_line(r.host) for r in reports if r.host is not None))
    several_hosts = len({r.host.path for r in reports if r.host is not None}) > 1
    if parts is None:
        parts = [None] * len(reports)
    elif several_hosts and any(p is not None for p in parts):
        raise ValueError("Markdown parts are rendered for a run of one host; this run has several")
    rows: list[str] = []
    cause_rows: list[str] = []
    fix_lines: list[str] = []
    for r, part in zip(reports, parts, strict=True):
        row, *rest = (part if part is not None else report_part(r, name_host=several_hosts)).split("\n")
        rows.append(row)
        cause_rows += [line for line in rest if line.startswith("|")]
        fix_lines += [line for line in rest if not line.startswith("|")]
    if hosts:
        lines += [f"Host: {_code(h, cell=False)}" for h in hosts] + [""]
    elif host:
        lines += [f"Host: {_code(str(host), cell=False)}", ""]
    elif target:
        line = target_line(str(target), (policy or {}).get("target_source"), reports)
        name, _, tail = line.partition(" ")
        lines += [f"Target: {_code(name, cell=False)} {_cell(tail)}", ""]
    if reports:
        lines += ["| file | kind | verdict | why | failed checks |", "|---|---|---|---|---|", *rows, ""]
    if cause_rows:
        lines += [
            "<details><summary>Package fingerprint mismatches, by cause</summary>",
            "",
            "| file | packages | likely cause |",
            "|---|---|---|",
            *cause_rows,
            "",
            "</details>",
            "",
        ]
    if fix_lines:
        lines += ["<details><summary>How to fix</summary>", "", *fix_lines, "", "</details>", ""]
    if skipped:
        lines += ["<details><summary>Skipped</summary>", "", "| path | reason |", "|---|---|"]
        lines += [f"| {_code(s.path)} | {_cell(s.reason)} |" for s in skipped]
        lines += ["", "</details>", ""]
    return "\n".join(lines)


def report_part(r: Report, *, name_host: bool = False) -> str:
    """The report's lines of the summary, one after the other: its row of the files' table, its rows of the
    mismatches' table (each starts with ``|``), its lines of the fixes (each starts with ``-`` or a space).
    A cell or an item is one line (:func:`_cell`, :func:`_text`), so :func:`render_markdown` takes the
    part apart by its lines. With *name_host* (several hosts in one run) the file's cell names its host."""
    unknown = contract_unknown(r) if r.loadable else None
    verdict = "✅ loadable" if r.loadable else f"❌ {_OUTCOME.get(r.outcome, r.outcome)}"
    verdict = "❌ rejected by contract" if verdict_word(r) == "REJECTED by contract" else verdict
    verdict = "⚠️ loadable, contract unknown" if unknown else verdict
    why = unknown or ("" if r.loadable else cause_line(r))
    failed = ", ".join(_code(c.id) for c in r.failed)
    name = f"{r.path} (host {r.host.path})" if name_host and r.host is not None else r.path
    kind = f"{r.kind}, musl" if r.loader is not None and r.loader.flavor == "musl" else r.kind
    lines = [f"| {_code(name)} | {_cell(kind)} | {verdict} | {_cell(why)} | {failed} |"]
    lines += [
        f"| {_code(r.path)} | {len(g.packages)}: {_cell(collapsed_packages(g))} | {_cell(g.cause)} |"
        for g in r.causes
    ]
    if r.fix is not None:
        known = "" if r.fix.known else " (cause unknown)"
        lines.append(f"- {_code(r.path, cell=False)}{known}:")
        cut = len(r.fix.steps) - 1 if r.fix.build_flags and r.fix.steps else len(r.fix.steps)
        lines += [f"  - {_text(step)}" for step in r.fix.steps[:cut]]
        lines += [f"  - {_code(edit, cell=False)}" for edit in r.fix.go_mod_edits]
        lines += [f"  - {_text(step)}" for step in r.fix.steps[cut:]]
    return "\n".join(lines)


_OUTCOME = {
    "error": "plugin.Open fails",
    "crash": "host crashes",
    "not_reached": "not reached",
    "unknown": "unknown",
    "ok": "rejected by policy",
}


#: every character that can begin or end Markdown markup inside a line (GitHub's included: ``~``
#: strikethrough, ``$`` math, ``@`` mentions, ``#`` references); CommonMark lets any ASCII punctuation be
#: backslash-escaped, and an escaped one is shown as itself
_MARKUP = re.compile(r"[\\`*_\[\]<>&|~$@#!{}]")
#: what begins a block where a list item's text begins (a list marker, a heading, a quote)
_LEADING = re.compile(r"^(\d*)([-+=.)])")


def _text(text: str) -> str:
    """A list item's text, whole (a fix is not cut): escaped, then every markup character backslash-escaped
    and a leading block marker too, so that the item shows exactly the escaped text."""
    text = _markup(escape(text))
    leading = _LEADING.match(text)
    if leading and (leading[1] or leading[2] in "-+="):  # "- x", "+ x", "= x" or "1. x", "1) x"
        text = f"{leading[1]}\\{text[leading.end(1):]}"
    return text


def _cell(text: str) -> str:
    """A table cell's text: cut at :data:`MAX_CELL` characters, escaped, markup backslash-escaped."""
    if len(text) > MAX_CELL:
        text = text[: MAX_CELL - 1] + "…"
    return _markup(escape(text))


def _markup(text: str) -> str:
    return _MARKUP.sub(lambda m: "\\" + m[0], text)


def _code(text: str, *, cell: bool = True) -> str:
    """A code span showing *text* escaped (in a table cell, cut as :func:`_cell` cuts). Nothing inside a code
    span is markup but a run of backticks as long as its fence, so the fence is one longer than the longest
    run in it; in a table *cell* a ``|`` would still end the cell (GFM splits the row first), so it is
    ``\\|``, which the table shows as ``|``."""
    if cell and len(text) > MAX_CELL:
        text = text[: MAX_CELL - 1] + "…"
    text = escape(text)
    if cell:
        text = text.replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    # a space each side where the content would otherwise touch the fence's backticks, or lose a space
    # at each end (CommonMark strips one from both ends of a span that has one at both and is not all spaces)
    if not text or text[0] == "`" or text[-1] == "`" or (text[0] == text[-1] == " " and text.strip(" ")):
        text = f" {text} "
    return f"{fence}{text}{fence}"

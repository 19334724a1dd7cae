"""Reports to the table a person reads: a verdict line per file, the checks, mismatches and exported symbols.

Every text from a file, a path or a manifest (a path, a check's message, a package or symbol name, a
cause, a fix step) is shown through :func:`~soinspect.output.escape.escape`: the only control sequences in
the table are soinspect's own colours."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

from soinspect.output.ansi import STATUS_STYLE, paint, verdict_style
from soinspect.output.escape import escape
from soinspect.verdict.explain import (
    SHOWN_PACKAGES,
    cause_line,
    collapsed_packages,
    contract_unknown,
    host_line,
    target_line,
    verdict_word,
)
from soinspect.verdict.report import CauseGroup, Fix, HostInfo, Report, RunError, Skipped

_MARK = {"pass": "ok", "fail": "FAIL", "warn": "warn", "info": "info", "unknown": "?"}


def verdict_line(r: Report, color: bool = False) -> str:
    word = paint(verdict_word(r), verdict_style(verdict_word(r)), color)
    if r.loadable:
        unknown = contract_unknown(r)
        return f"{escape(r.path)}: {word} ({escape(r.kind)}) - plugin.Open succeeds" + (
            f"; {escape(unknown)}" if unknown else ""
        )
    detail = r.open_error or r.verdict.reason
    return f"{escape(r.path)}: {word} ({escape(r.kind)}) - {escape(detail)}"


def _groups(groups: Sequence[CauseGroup], verbose: bool, *, with_cause: bool) -> list[str]:
    """Each cause once, with its packages: the one Go names and a few others, or (``-v``) every one."""
    out = []
    for g in groups:
        n = len(g.packages)
        names = escape(", ".join(g.packages)) if verbose else _collapsed(g)
        head = f"    {n} package{'s' if n != 1 else ''}"
        out.append(f"{head}: {escape(g.cause)}" if with_cause else f"{head}:")
        out.append(f"      {names}")
    return out


def _collapsed(g: CauseGroup) -> str:
    text = escape(collapsed_packages(g))
    return text + " (-v lists all)" if len(g.packages) > SHOWN_PACKAGES + 1 else text


def _new_host(h: HostInfo, shown: HostInfo | None) -> bool:
    return shown is None or (h.path, h.origin) != (shown.path, shown.origin)


def fix_lines(fix: Fix) -> list[str]:
    """The ``fix:`` block under a rejected file's verdict line: what to rebuild, then one line per step."""
    what = {"plugin": " rebuild the plugin", "host": " rebuild the host", "other": " fix another file", "none": ""}
    out = ["  fix:" + (what[fix.rebuild] if fix.known else " unknown")]
    # the go.mod edits come before the last step when that step is the build command
    cut = len(fix.steps) - 1 if fix.build_flags and fix.steps else len(fix.steps)
    out += [f"    - {escape(step)}" for step in fix.steps[:cut]]
    out += [f"    $ {escape(edit)}" for edit in fix.go_mod_edits]
    out += [f"    - {escape(step)}" for step in fix.steps[cut:]]
    return out


def _table(rows: Sequence[Sequence[str]], headers: Sequence[str], widths: Sequence[int | None] = ()) -> str:
    """A ``simple`` table of text cells. Numbers are never parsed (a fingerprint like ``12e45678`` is text,
    not a float), and the columns with a width in *widths* are wrapped at it only when one of their cells
    is longer. A table of one-line printable ASCII cells is laid out by :func:`_simple_table`, as tabulate
    lays it out (the same text: tests compare the two), in a fraction of its time; any other by tabulate."""
    wrap = any(w is not None and len(row[i]) > w for row in rows for i, w in enumerate(widths))
    if _plain(headers) and all(len(row) == len(headers) and _plain(row) for row in rows):
        if not wrap:
            return _simple_table(rows, headers)
        if _words_fit(rows, widths):
            return _simple_table(rows, headers, widths)
    from tabulate import tabulate  # imported here: it costs 30 ms of a cold start (importlib.metadata)

    return tabulate(
        rows, headers=headers, tablefmt="simple", disable_numparse=True, maxcolwidths=list(widths) if wrap else None
    )


def _plain(cells: Sequence[str]) -> bool:
    """Every cell one line of printable ASCII (so its length is its width on a terminal: no ANSI colour,
    no wide or combining character, no tab or newline) with no space at either end (where tabulate's
    wrapper and textwrap differ)."""
    return all(type(c) is str and c.isascii() and c.isprintable() and c == c.strip() for c in cells)


def _words_fit(rows: Sequence[Sequence[str]], widths: Sequence[int | None]) -> bool:
    """No word of a cell is longer than its column's width: no word is broken (where tabulate's wrapper,
    an older copy of ``textwrap``'s, breaks a long word otherwise than ``textwrap`` does)."""
    return all(
        w is None or len(word) <= w for row in rows for c, w in zip(row, widths, strict=False) for word in c.split()
    )


def _simple_table(rows: Sequence[Sequence[str]], headers: Sequence[str], widths: Sequence[int | None] = ()) -> str:
    """tabulate's ``simple`` layout of plain cells (:func:`_plain`), left-aligned, with its
    ``maxcolwidths`` of *widths*: the cells of a column with a width wrapped at it (``textwrap``, which
    tabulate's wrapper is for text with no colour, no space at its ends and no word longer than the width:
    :func:`_words_fit`); each column as wide as its widest line, or its header plus 2; columns two spaces
    apart, a row of several lines a line each (and where any row has several, a row of only empty cells
    none, as tabulate does); a rule of dashes under the headers; no trailing spaces. One difference, a
    tabulate bug: its wrapping turns a cell "False" into "True" (it casts the cell to bool); here the
    cell's text stays."""
    limits = list(widths) + [None] * (len(headers) - len(widths))
    # a cell is its lines: none for an empty one (tabulate's splitlines); a plain cell no longer than its
    # width is the one line textwrap would make of it
    body = [[[ln.strip() for ln in textwrap.wrap(c, w)] if w is not None and len(c) > w else [c][: bool(c)]
             for c, w in zip(row, limits, strict=True)] for row in rows]  # fmt: skip
    heads = [h.strip() for h in headers]
    cols = [max([len(h) + 2, *(len(line) for row in body for line in row[i])]) for i, h in enumerate(heads)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, cols, strict=True)).rstrip()

    out = [line(heads), "  ".join("-" * w for w in cols)]
    multiline = any(len(cell) > 1 for row in body for cell in row)  # then a row of empty cells has no line
    for row in body:
        height = max(len(cell) for cell in row) if multiline else 1
        out.extend(line([cell[k] if k < len(cell) else "" for cell in row]) for k in range(height))
    return "\n".join(out)


def report_block(r: Report, *, verbose: bool = False, color: bool = False) -> str:
    """One report's part of the table: its verdict line, the cause and the fix, its checks, what differs
    and its exported symbols (everything but the ``host:`` line above a host's first file). It depends on
    this report alone, so a scan's worker renders it beside the audit (``blocks`` of :func:`render_table`)."""
    lines = [verdict_line(r, color)]
    if r.loader is not None and r.loader.flavor == "musl":  # glibc's is the default and goes unsaid
        shown = "" if r.loader.interp is None or r.loader.interp in r.loader.why else f" {r.loader.interp}"
        lines.append(f"  loader: musl's{shown} ({r.loader.why})")
    if not r.loadable:
        groups = r.causes
        n = len(r.mismatches)
        why = cause_line(r) if len(groups) < 2 else f"{n} packages differ, for {len(groups)} causes:"
        lines.append(f"  {paint('why:', 'bold', color)} {escape(why)}")
        if verbose and r.verdict.reason not in why:
            lines.append(f"  detail: {escape(r.verdict.reason)}")
        if len(groups) > 1 or (verbose and groups):
            lines.extend(_groups(groups, verbose, with_cause=len(groups) > 1))
        elif groups and len(groups[0].packages) > 1:
            lines.append(f"    {_collapsed(groups[0])}")
    if r.fix is not None:
        lines.extend(fix_lines(r.fix))
    rows = [
        (escape(c.id), paint(_MARK[c.status], STATUS_STYLE.get(_MARK[c.status]), color), escape(c.message))
        for c in r.checks
        if verbose or c.status != "pass" or c.id in ("go.buildinfo", "go.pluginpath", "loader.verdict")
    ]
    if rows:
        lines.append(
            _table(
                rows,
                ("check", "status", "detail"),
                (None, None, 90),
            )
        )
    diffs = r.differences if not r.loadable or verbose else ()
    if diffs:
        lines.append("")
        lines.append(
            _table(
                [(escape(d.field), escape(d.plugin), escape(d.host)) for d in diffs],
                ("differs", "plugin", "host"),
                (40, 50, 50),
            )
        )
    if verbose and r.verdict.mismatches:
        lines.append("")
        lines.append(
            _table(
                [
                    (escape(m.package), "yes" if m.first else "", escape(m.plugin_hash), escape(m.process_hash),
                     escape(m.provider))
                    for m in r.verdict.mismatches
                ],
                ("mismatching package", "Go names it", "plugin", "process", "from"),
                (None, None, None, None, 40),
            )
        )
    exports = r.plugin.exports if r.plugin is not None else ()
    symbols = r.plugin.symbols if r.plugin is not None else None
    if symbols:
        lines.append("")
        rows = [(escape(s.name), escape(s.kind or "?"), escape(s.type or f"unknown: {s.reason}")) for s in symbols]
        lines.append(
            _table(
                rows,
                ("exported symbol", "kind", "Go type"),
                (None, None, 90),
            )
        )
    elif exports:
        lines.append("")
        lines.append(_table([(escape(e),) for e in exports], ("exported symbol",)))
    return "\n".join(lines)


def render_table(
    reports: Sequence[Report],
    *,
    verbose: bool = False,
    skipped: Sequence[Skipped] = (),
    errors: Sequence[RunError] = (),
    color: bool = False,
    blocks: Sequence[str | None] | None = None,
    policy: dict[str, Any] | None = None,
) -> str:
    """The table of a run. *blocks*, where given, holds each report's :func:`report_block` already rendered
    with the same *verbose* and *color* (a scan's workers render their files' blocks; None: render it here).
    With no host in the run, *policy*'s target and where it came from come before the summary line."""
    parts: list[str] = []
    shown_host: HostInfo | None = None
    for i, r in enumerate(reports):
        if r.host is not None and _new_host(r.host, shown_host):
            shown_host = r.host
            parts.append(f"host: {escape(host_line(r.host))}")
        block = blocks[i] if blocks is not None else None
        parts.append(block if block is not None else report_block(r, verbose=verbose, color=color))
    total = len(reports)
    ok = sum(1 for r in reports if r.loadable)
    if verbose and skipped:
        parts.append("\n".join(f"{escape(s.path)}: skipped: {escape(s.reason)}" for s in skipped))
    if errors:
        judged = paint("NOT JUDGED", "red", color)
        parts.append("\n".join(f"{escape(e.path)}: {judged} ({escape(e.kind)}) - {escape(e.message)}" for e in errors))
    target = (policy or {}).get("target")
    if target and reports and all(r.host is None for r in reports):
        parts.append(f"target: {target_line(str(target), (policy or {}).get('target_source'), reports)}")
    parts.append(
        f"{ok} of {total} file(s) loadable"
        + (f", {len(errors)} path(s) could not be judged" if errors else "")
        + (f", {len(skipped)} path(s) skipped" if skipped else "")
    )
    return "\n\n".join(parts) + "\n"

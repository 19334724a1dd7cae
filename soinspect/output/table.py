"""Reports to the table a person reads: a verdict line per file, the checks, mismatches and exported symbols."""

from __future__ import annotations

from collections.abc import Sequence

from tabulate import tabulate

from soinspect.output.ansi import STATUS_STYLE, paint, verdict_style
from soinspect.verdict.explain import SHOWN_PACKAGES, cause_line, collapsed_packages, host_line, verdict_word
from soinspect.verdict.report import CauseGroup, Fix, HostInfo, Report, RunError, Skipped

_MARK = {"pass": "ok", "fail": "FAIL", "warn": "warn", "info": "info", "unknown": "?"}


def verdict_line(r: Report, color: bool = False) -> str:
    word = paint(verdict_word(r), verdict_style(verdict_word(r)), color)
    if r.loadable:
        return f"{r.path}: {word} ({r.kind}) - plugin.Open succeeds"
    detail = r.open_error or r.verdict.reason
    return f"{r.path}: {word} ({r.kind}) - {detail}"


def _groups(groups: Sequence[CauseGroup], verbose: bool, *, with_cause: bool) -> list[str]:
    """Each cause once, with its packages: the one Go names and a few others, or (``-v``) every one."""
    out = []
    for g in groups:
        n = len(g.packages)
        names = ", ".join(g.packages) if verbose else _collapsed(g)
        head = f"    {n} package{'s' if n != 1 else ''}"
        out.append(f"{head}: {g.cause}" if with_cause else f"{head}:")
        out.append(f"      {names}")
    return out


def _collapsed(g: CauseGroup) -> str:
    text = collapsed_packages(g)
    return text + " (-v lists all)" if len(g.packages) > SHOWN_PACKAGES + 1 else text


def _new_host(h: HostInfo, shown: HostInfo | None) -> bool:
    return shown is None or (h.path, h.origin) != (shown.path, shown.origin)


def fix_lines(fix: Fix) -> list[str]:
    """The ``fix:`` block under a rejected file's verdict line: what to rebuild, then one line per step."""
    what = {"plugin": " rebuild the plugin", "host": " rebuild the host", "other": " fix another file", "none": ""}
    out = ["  fix:" + (what[fix.rebuild] if fix.known else " unknown")]
    # the go.mod edits come before the last step when that step is the build command
    cut = len(fix.steps) - 1 if fix.build_flags and fix.steps else len(fix.steps)
    out += [f"    - {step}" for step in fix.steps[:cut]]
    out += [f"    $ {edit}" for edit in fix.go_mod_edits]
    out += [f"    - {step}" for step in fix.steps[cut:]]
    return out


def _table(rows: Sequence[Sequence[str]], headers: Sequence[str], widths: Sequence[int | None] = ()) -> str:
    """A ``simple`` table of text cells. Numbers are never parsed (a fingerprint like ``12e45678`` is text,
    not a float), and cells are wrapped at *widths* only when one is longer: tabulate's type detection and
    wrapping were most of a scan's rendering time."""
    wrap = any(w is not None and len(row[i]) > w for row in rows for i, w in enumerate(widths))
    return tabulate(
        rows, headers=headers, tablefmt="simple", disable_numparse=True, maxcolwidths=list(widths) if wrap else None
    )


def report_block(r: Report, *, verbose: bool = False, color: bool = False) -> str:
    """One report's part of the table: its verdict line, the cause and the fix, its checks, what differs
    and its exported symbols (everything but the ``host:`` line above a host's first file). It depends on
    this report alone, so a scan's worker renders it beside the audit (``blocks`` of :func:`render_table`)."""
    lines = [verdict_line(r, color)]
    if not r.loadable:
        groups = r.causes
        n = len(r.mismatches)
        why = cause_line(r) if len(groups) < 2 else f"{n} packages differ, for {len(groups)} causes:"
        lines.append(f"  {paint('why:', 'bold', color)} {why}")
        if verbose and r.verdict.reason not in why:
            lines.append(f"  detail: {r.verdict.reason}")
        if len(groups) > 1 or (verbose and groups):
            lines.extend(_groups(groups, verbose, with_cause=len(groups) > 1))
        elif groups and len(groups[0].packages) > 1:
            lines.append(f"    {_collapsed(groups[0])}")
    if r.fix is not None:
        lines.extend(fix_lines(r.fix))
    rows = [
        (c.id, paint(_MARK[c.status], STATUS_STYLE.get(_MARK[c.status]), color), c.message)
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
                [(d.field, d.plugin, d.host) for d in diffs],
                ("differs", "plugin", "host"),
                (40, 50, 50),
            )
        )
    if verbose and r.verdict.mismatches:
        lines.append("")
        lines.append(
            _table(
                [
                    (m.package, "yes" if m.first else "", m.plugin_hash, m.process_hash, m.provider)
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
        rows = [(s.name, s.kind or "?", s.type or f"unknown: {s.reason}") for s in symbols]
        lines.append(
            _table(
                rows,
                ("exported symbol", "kind", "Go type"),
                (None, None, 90),
            )
        )
    elif exports:
        lines.append("")
        lines.append(_table([(e,) for e in exports], ("exported symbol",)))
    return "\n".join(lines)


def render_table(
    reports: Sequence[Report],
    *,
    verbose: bool = False,
    skipped: Sequence[Skipped] = (),
    errors: Sequence[RunError] = (),
    color: bool = False,
    blocks: Sequence[str | None] | None = None,
) -> str:
    """The table of a run. *blocks*, where given, holds each report's :func:`report_block` already rendered
    with the same *verbose* and *color* (a scan's workers render their files' blocks; None: render it here)."""
    parts: list[str] = []
    shown_host: HostInfo | None = None
    for i, r in enumerate(reports):
        if r.host is not None and _new_host(r.host, shown_host):
            shown_host = r.host
            parts.append(f"host: {host_line(r.host)}")
        block = blocks[i] if blocks is not None else None
        parts.append(block if block is not None else report_block(r, verbose=verbose, color=color))
    total = len(reports)
    ok = sum(1 for r in reports if r.loadable)
    if verbose and skipped:
        parts.append("\n".join(f"{s.path}: skipped: {s.reason}" for s in skipped))
    if errors:
        judged = paint("NOT JUDGED", "red", color)
        parts.append("\n".join(f"{e.path}: {judged} ({e.kind}) - {e.message}" for e in errors))
    parts.append(
        f"{ok} of {total} file(s) loadable"
        + (f", {len(errors)} path(s) could not be judged" if errors else "")
        + (f", {len(skipped)} path(s) skipped" if skipped else "")
    )
    return "\n\n".join(parts) + "\n"

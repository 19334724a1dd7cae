"""Reports to a Markdown summary: one table for a CI step summary (``$GITHUB_STEP_SUMMARY``) or a PR
comment. GitHub-flavoured Markdown; ``|`` and newlines in messages are escaped so a row stays a row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from soinspect.verdict.explain import cause_line, collapsed_packages, host_line
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
        lines += [f"| `{_cell(e.path)}` | {e.kind} | {_cell(e.message)} |" for e in errors]
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
        lines += [f"Host: `{_cell(h)}`" for h in hosts] + [""]
    elif host:
        lines += [f"Host: `{_cell(str(host))}`", ""]
    elif target:
        lines += [f"Target: `{_cell(str(target))}` (a host built like each plugin)", ""]
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
        lines += [f"| `{_cell(s.path)}` | {_cell(s.reason)} |" for s in skipped]
        lines += ["", "</details>", ""]
    return "\n".join(lines)


def report_part(r: Report, *, name_host: bool = False) -> str:
    """The report's lines of the summary, one after the other: its row of the files' table, its rows of the
    mismatches' table (each starts with ``|``), its lines of the fixes (each starts with ``-`` or a space).
    A cell or an item is one line (:func:`_cell`, :func:`_text`), so :func:`render_markdown` takes the
    part apart by its lines. With *name_host* (several hosts in one run) the file's cell names its host."""
    verdict = "✅ loadable" if r.loadable else f"❌ {_OUTCOME.get(r.outcome, r.outcome)}"
    why = "" if r.loadable else cause_line(r)
    failed = ", ".join(f"`{c.id}`" for c in r.failed)
    name = f"{r.path} (host {r.host.path})" if name_host and r.host is not None else r.path
    lines = [f"| `{_cell(name)}` | {r.kind} | {verdict} | {_cell(why)} | {failed} |"]
    lines += [
        f"| `{_cell(r.path)}` | {len(g.packages)}: {_cell(collapsed_packages(g))} | {_cell(g.cause)} |"
        for g in r.causes
    ]
    if r.fix is not None:
        known = "" if r.fix.known else " (cause unknown)"
        lines.append(f"- `{_cell(r.path)}`{known}:")
        cut = len(r.fix.steps) - 1 if r.fix.build_flags and r.fix.steps else len(r.fix.steps)
        lines += [f"  - {_text(step)}" for step in r.fix.steps[:cut]]
        lines += [f"  - `{_text(edit)}`" for edit in r.fix.go_mod_edits]
        lines += [f"  - {_text(step)}" for step in r.fix.steps[cut:]]
    return "\n".join(lines)


_OUTCOME = {
    "error": "plugin.Open fails",
    "crash": "host crashes",
    "not_reached": "not reached",
    "unknown": "unknown",
    "ok": "rejected by policy",
}


def _text(text: str) -> str:
    """A list item's text, whole (a fix is not cut): one line, with Markdown's table and HTML characters escaped."""
    return " ".join(text.split()).replace("<", "&lt;").replace(">", "&gt;")


def _cell(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > MAX_CELL:
        text = text[: MAX_CELL - 1] + "…"
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("`", "'")

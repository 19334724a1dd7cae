"""Reports to a Markdown summary: one table for a CI step summary (``$GITHUB_STEP_SUMMARY``) or a PR
comment. GitHub-flavoured Markdown; ``|`` and newlines in messages are escaped so a row stays a row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from soinspect.verdict.explain import cause_line, collapsed_packages, contract_unknown, host_line, verdict_word
from soinspect.verdict.report import Report, RunError, Skipped

#: a message longer than this is cut in the table (the JSON and SARIF outputs keep it whole)
MAX_CELL = 200


def render_markdown(
    reports: Sequence[Report],
    *,
    policy: dict[str, Any] | None = None,
    skipped: Sequence[Skipped] = (),
    errors: Sequence[RunError] = (),
) -> str:
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
    if hosts:
        lines += [f"Host: `{_cell(h)}`" for h in hosts] + [""]
    elif host:
        lines += [f"Host: `{_cell(str(host))}`", ""]
    elif target:
        lines += [f"Target: `{_cell(str(target))}` (a host built like each plugin)", ""]
    if reports:
        lines += ["| file | kind | verdict | why | failed checks |", "|---|---|---|---|---|"]
        for r in reports:
            unknown = contract_unknown(r) if r.loadable else None
            verdict = "✅ loadable" if r.loadable else f"❌ {_OUTCOME.get(r.outcome, r.outcome)}"
            verdict = "❌ rejected by contract" if verdict_word(r) == "REJECTED by contract" else verdict
            verdict = "⚠️ loadable, contract unknown" if unknown else verdict
            why = unknown or ("" if r.loadable else cause_line(r))
            failed = ", ".join(f"`{c.id}`" for c in r.failed)
            name = f"{r.path} (host {r.host.path})" if several_hosts and r.host is not None else r.path
            lines.append(f"| `{_cell(name)}` | {r.kind} | {verdict} | {_cell(why)} | {failed} |")
        lines.append("")
    grouped = [(r, g) for r in reports for g in r.causes]
    if grouped:
        lines += [
            "<details><summary>Package fingerprint mismatches, by cause</summary>",
            "",
            "| file | packages | likely cause |",
            "|---|---|---|",
        ]
        for r, g in grouped:
            lines.append(
                f"| `{_cell(r.path)}` | {len(g.packages)}: {_cell(collapsed_packages(g))} | {_cell(g.cause)} |"
            )
        lines += ["", "</details>", ""]
    fixes = [r for r in reports if r.fix is not None]
    if fixes:
        lines += ["<details><summary>How to fix</summary>", ""]
        for r in fixes:
            assert r.fix is not None
            known = "" if r.fix.known else " (cause unknown)"
            lines.append(f"- `{_cell(r.path)}`{known}:")
            cut = len(r.fix.steps) - 1 if r.fix.build_flags and r.fix.steps else len(r.fix.steps)
            lines += [f"  - {_text(step)}" for step in r.fix.steps[:cut]]
            lines += [f"  - `{_text(edit)}`" for edit in r.fix.go_mod_edits]
            lines += [f"  - {_text(step)}" for step in r.fix.steps[cut:]]
        lines += ["", "</details>", ""]
    if skipped:
        lines += ["<details><summary>Skipped</summary>", "", "| path | reason |", "|---|---|"]
        lines += [f"| `{_cell(s.path)}` | {_cell(s.reason)} |" for s in skipped]
        lines += ["", "</details>", ""]
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

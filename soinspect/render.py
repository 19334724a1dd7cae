"""Reports to text. Renderers return strings; they never print, read files or exit."""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import StrEnum
from typing import Any, assert_never

from tabulate import tabulate

from .render_markdown import render_markdown
from .render_sarif import render_sarif
from .report import Report, Skipped, document


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"
    MARKDOWN = "markdown"


_MARK = {"pass": "ok", "fail": "FAIL", "warn": "warn", "info": "info", "unknown": "?"}


def render(
    reports: Sequence[Report],
    fmt: Format,
    *,
    policy: dict[str, Any] | None = None,
    verbose: bool = False,
    skipped: Sequence[Skipped] = (),
) -> str:
    if fmt is Format.JSON:
        doc = document(list(reports), policy=policy, skipped=tuple(skipped))
        return json.dumps(doc, indent=2, sort_keys=False) + "\n"
    if fmt is Format.TABLE:
        return render_table(reports, verbose=verbose, skipped=skipped)
    if fmt is Format.SARIF:
        return render_sarif(reports, policy=policy, skipped=skipped)
    if fmt is Format.MARKDOWN:
        return render_markdown(reports, policy=policy, skipped=skipped)
    assert_never(fmt)


def verdict_line(r: Report) -> str:
    if r.loadable:
        return f"{r.path}: LOADABLE ({r.kind}) - plugin.Open succeeds"
    head = {
        "error": "REJECTED",
        "crash": "REJECTED (host crash)",
        "not_reached": "NOT REACHED",
        "unknown": "UNKNOWN",
        "ok": "REJECTED by policy",
    }[r.outcome]
    detail = r.open_error or r.verdict.reason
    return f"{r.path}: {head} ({r.kind}) - {detail}"


def render_table(reports: Sequence[Report], *, verbose: bool = False, skipped: Sequence[Skipped] = ()) -> str:
    parts: list[str] = []
    for r in reports:
        lines = [verdict_line(r)]
        if r.verdict.reason and r.open_error:
            lines.append(f"  why: {r.verdict.reason}")
        rows = [
            (c.id, _MARK[c.status], c.message)
            for c in r.checks
            if verbose or c.status != "pass" or c.id in ("go.buildinfo", "go.pluginpath", "loader.verdict")
        ]
        if rows:
            lines.append(
                tabulate(
                    rows,
                    headers=("check", "status", "detail"),
                    tablefmt="simple",
                    maxcolwidths=[None, None, 90],
                )
            )
        if r.verdict.mismatches:
            lines.append("")
            lines.append(
                tabulate(
                    [
                        (
                            m.package,
                            "yes" if m.first else "",
                            m.plugin_hash,
                            m.process_hash,
                            m.provider,
                            m.cause,
                        )
                        for m in r.verdict.mismatches
                    ],
                    headers=(
                        "mismatching package",
                        "Go names it",
                        "plugin",
                        "process",
                        "from",
                        "likely cause",
                    ),
                    tablefmt="simple",
                    maxcolwidths=[None, None, None, None, 30, 60],
                )
            )
        exports = (r.plugin or {}).get("exports") or []
        symbols = (r.plugin or {}).get("symbols")
        if symbols:
            lines.append("")
            rows = [(s["name"], s["kind"] or "?", s["type"] or f"unknown: {s['reason']}") for s in symbols]
            lines.append(
                tabulate(
                    rows,
                    headers=("exported symbol", "kind", "Go type"),
                    tablefmt="simple",
                    maxcolwidths=[None, None, 90],
                )
            )
        elif exports:
            lines.append("")
            lines.append(tabulate([(e,) for e in exports], headers=("exported symbol",), tablefmt="simple"))
        parts.append("\n".join(lines))
    total = len(reports)
    ok = sum(1 for r in reports if r.loadable)
    if verbose and skipped:
        parts.append("\n".join(f"{s.path}: skipped: {s.reason}" for s in skipped))
    parts.append(f"{ok} of {total} file(s) loadable" + (f", {len(skipped)} path(s) skipped" if skipped else ""))
    return "\n\n".join(parts) + "\n"

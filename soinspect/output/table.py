"""Reports to the table a person reads: a verdict line per file, the checks, mismatches and exported symbols."""

from __future__ import annotations

from collections.abc import Sequence

from tabulate import tabulate

from soinspect.verdict.report import Report, RunError, Skipped

_MARK = {"pass": "ok", "fail": "FAIL", "warn": "warn", "info": "info", "unknown": "?"}


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


def render_table(
    reports: Sequence[Report],
    *,
    verbose: bool = False,
    skipped: Sequence[Skipped] = (),
    errors: Sequence[RunError] = (),
) -> str:
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
        exports = r.plugin.exports if r.plugin is not None else ()
        symbols = r.plugin.symbols if r.plugin is not None else None
        if symbols:
            lines.append("")
            rows = [(s.name, s.kind or "?", s.type or f"unknown: {s.reason}") for s in symbols]
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
    if errors:
        parts.append("\n".join(f"{e.path}: NOT JUDGED ({e.kind}) - {e.message}" for e in errors))
    parts.append(
        f"{ok} of {total} file(s) loadable"
        + (f", {len(errors)} path(s) could not be judged" if errors else "")
        + (f", {len(skipped)} path(s) skipped" if skipped else "")
    )
    return "\n\n".join(parts) + "\n"

"""The output layer's contract: :class:`Format` names every output format, and :func:`render` turns reports
into the text of one format. Renderers return strings; they never print, read files or exit. Adding a format
is one module in this folder and one branch here (``assert_never`` keeps the dispatch exhaustive).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any, assert_never

from soinspect.verdict.report import Report, RunError, Skipped

# Each format's module is imported in its branch: a run pays only for the format it prints (the table's
# tabulate brings importlib.metadata, SARIF brings urllib), which is part of a cold start.


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"
    MARKDOWN = "markdown"
    LINE = "line"
    JUNIT = "junit"
    CODEQUALITY = "codequality"


def render(
    reports: Sequence[Report],
    fmt: Format,
    *,
    policy: dict[str, Any] | None = None,
    verbose: bool = False,
    skipped: Sequence[Skipped] = (),
    errors: Sequence[RunError] = (),
    color: bool = False,
    parts: Sequence[str | None] | None = None,
) -> str:
    """The text of *fmt* for one run: its *reports*, the paths it *skipped* and the paths it could not
    judge (*errors*). Every format shows all three, so a report never looks like a pass when the run was
    not one. *color* (ANSI, for a terminal) applies to the formats a person reads: table and line.
    *parts*, where given, holds each report's :func:`render_part` for *fmt*, rendered elsewhere (a scan's
    workers) with the same *verbose* and *color*; None for one that is to be rendered here."""
    if fmt is Format.JSON:
        from soinspect.output.json import render_json

        return render_json(reports, policy=policy, skipped=skipped, errors=errors)
    if fmt is Format.TABLE:
        from soinspect.output.table import render_table

        return render_table(
            reports, verbose=verbose, skipped=skipped, errors=errors, color=color, blocks=parts, policy=policy
        )
    if fmt is Format.SARIF:
        from soinspect.output.sarif import render_sarif

        return render_sarif(reports, policy=policy, skipped=skipped, errors=errors)
    if fmt is Format.MARKDOWN:
        from soinspect.output.markdown import render_markdown

        return render_markdown(reports, policy=policy, skipped=skipped, errors=errors)
    if fmt is Format.LINE:
        from soinspect.output.line import render_line

        return render_line(reports, skipped=skipped, errors=errors, color=color)
    if fmt is Format.JUNIT:
        from soinspect.output.junit import render_junit

        return render_junit(reports, policy=policy, skipped=skipped, errors=errors)
    if fmt is Format.CODEQUALITY:
        from soinspect.output.codequality import render_codequality

        return render_codequality(reports, skipped=skipped, errors=errors)
    assert_never(fmt)


def render_part(report: Report, fmt: Format, *, verbose: bool = False, color: bool = False) -> str | None:
    """The part of *fmt*'s text that depends on *report* alone, for :func:`render`'s *parts*; None for a
    format whose text is not made of such parts. A scan renders these in its workers, beside the audits, so
    that the one process that writes the output does not render every file in turn: only the table, whose
    per-file block is most of a scan's rendering time, has parts."""
    match fmt:
        case Format.TABLE:
            from soinspect.output.table import report_block

            return report_block(report, verbose=verbose, color=color)
        case Format.JSON | Format.SARIF | Format.MARKDOWN | Format.LINE | Format.JUNIT | Format.CODEQUALITY:
            return None
        case _:
            assert_never(fmt)


def preload(fmt: Format) -> None:
    """Import *fmt*'s renderer now. A scan's workers render their files' parts (:func:`render_part`) and
    the parent renders the rest: imported before the workers fork, the module is imported once, not once
    in each of them and again in the parent."""
    if fmt is Format.TABLE:
        import soinspect.output.table  # noqa: F401

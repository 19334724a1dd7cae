"""The output layer's contract: :class:`Format` names every output format, and :func:`render` turns reports
into the text of one format. Renderers return strings; they never print, read files or exit. Adding a format
is one module in this folder and one branch in each function here (``assert_never`` keeps the dispatch
exhaustive).

A format's text is made in two places in a scan. :func:`render_part` renders what depends on one report
alone (a table block, a JSON result, a SARIF result, a Markdown row), in the worker process that judged
the file; :func:`render` puts a run's document together from those parts, in order, in the one process
that writes it. A format with parts gets them from every worker (nothing in the pool knows the format);
a format with none (:func:`render_part` returns None) is rendered whole from the reports.
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
    workers) with the same *verbose*, *color* and number of hosts; None for one that is to be rendered here.
    Rendered whole or from parts, the text is the same (tests compare the two on the corpus)."""
    if fmt is Format.JSON:
        from soinspect.output.json import render_json

        return render_json(reports, policy=policy, skipped=skipped, errors=errors, parts=parts)
    if fmt is Format.TABLE:
        from soinspect.output.table import render_table

        return render_table(
            reports, verbose=verbose, skipped=skipped, errors=errors, color=color, blocks=parts, policy=policy
        )
    if fmt is Format.SARIF:
        from soinspect.output.sarif import render_sarif

        return render_sarif(reports, policy=policy, skipped=skipped, errors=errors, parts=parts)
    if fmt is Format.MARKDOWN:
        from soinspect.output.markdown import render_markdown

        return render_markdown(reports, policy=policy, skipped=skipped, errors=errors, parts=parts)
    if fmt is Format.LINE:
        from soinspect.output.line import render_line

        return render_line(reports, skipped=skipped, errors=errors, color=color, parts=parts)
    if fmt is Format.JUNIT:
        from soinspect.output.junit import render_junit

        return render_junit(reports, policy=policy, skipped=skipped, errors=errors)
    if fmt is Format.CODEQUALITY:
        from soinspect.output.codequality import render_codequality

        return render_codequality(reports, skipped=skipped, errors=errors)
    assert_never(fmt)


def render_part(
    report: Report, fmt: Format, *, verbose: bool = False, color: bool = False, several_hosts: bool = False
) -> str | None:
    """The part of *fmt*'s text that depends on *report* alone, for :func:`render`'s *parts*: a scan renders
    these in its workers, beside the audits, so that the one process that writes the output only puts them
    together. None where *fmt* has no part for it: then :func:`render` renders it from the report. The
    formats that name each file's host when a run has *several_hosts* have no parts for such a run."""
    match fmt:
        case Format.TABLE:
            from soinspect.output.table import report_block

            return report_block(report, verbose=verbose, color=color)
        case Format.JSON:
            from soinspect.output import json

            return json.report_part(report)
        case Format.SARIF:
            from soinspect.output import sarif

            return None if several_hosts else sarif.report_part(report)
        case Format.MARKDOWN:
            from soinspect.output import markdown

            return None if several_hosts else markdown.report_part(report)
        case Format.LINE:
            from soinspect.output.line import report_line

            return None if several_hosts else report_line(report, color)
        case Format.JUNIT | Format.CODEQUALITY:  # rendered whole, from the reports
            return None
        case _:
            assert_never(fmt)


def needs_digest(fmt: Format) -> bool:
    """Whether *fmt* writes the sha256 of the files (and of the host): JSON alone does. Hashing every
    file is about two thirds as much work as the rest of its audit, so a run hashes only for a format that writes it."""
    match fmt:
        case Format.JSON:
            return True
        case Format.TABLE | Format.SARIF | Format.MARKDOWN | Format.LINE | Format.JUNIT | Format.CODEQUALITY:
            return False
        case _:
            assert_never(fmt)


def preload(fmt: Format) -> None:
    """Import *fmt*'s renderer now. A scan's workers render their files' parts (:func:`render_part`) and
    the parent renders the rest: imported before the workers fork, the module is imported once, not once
    in each of them and again in the parent."""
    match fmt:
        case Format.TABLE:
            import soinspect.output.table
        case Format.JSON:
            import soinspect.output.json
        case Format.SARIF:
            import soinspect.output.sarif
        case Format.MARKDOWN:
            import soinspect.output.markdown
        case Format.LINE:
            import soinspect.output.line
        case Format.JUNIT:
            import soinspect.output.junit
        case Format.CODEQUALITY:
            import soinspect.output.codequality  # noqa: F401
        case _:
            assert_never(fmt)

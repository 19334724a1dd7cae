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


def render(
    reports: Sequence[Report],
    fmt: Format,
    *,
    policy: dict[str, Any] | None = None,
    verbose: bool = False,
    skipped: Sequence[Skipped] = (),
    errors: Sequence[RunError] = (),
    color: bool = False,
) -> str:
    """The text of *fmt* for one run: its *reports*, the paths it *skipped* and the paths it could not
    judge (*errors*). Every format shows all three, so a report never looks like a pass when the run was
    not one. *color* (ANSI, for a terminal) applies to the formats a person reads: table and line."""
    if fmt is Format.JSON:
        from soinspect.output.json import render_json

        return render_json(reports, policy=policy, skipped=skipped, errors=errors)
    if fmt is Format.TABLE:
        from soinspect.output.table import render_table

        return render_table(reports, verbose=verbose, skipped=skipped, errors=errors, color=color)
    if fmt is Format.SARIF:
        from soinspect.output.sarif import render_sarif

        return render_sarif(reports, policy=policy, skipped=skipped, errors=errors)
    if fmt is Format.MARKDOWN:
        from soinspect.output.markdown import render_markdown

        return render_markdown(reports, policy=policy, skipped=skipped, errors=errors)
    if fmt is Format.LINE:
        from soinspect.output.line import render_line

        return render_line(reports, skipped=skipped, errors=errors, color=color)
    assert_never(fmt)

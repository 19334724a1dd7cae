"""What the loader model predicts for one ``plugin.Open``: the outcome, Go's first line, and every package
whose fingerprint differs. The verdict layer wraps these in a :class:`~soinspect.verdict.report.Report`."""

from __future__ import annotations

from typing import Literal

from soinspect._frozen import frozen

Outcome = Literal["ok", "error", "crash", "not_reached", "unknown"]
OUTCOMES: tuple[Outcome, ...] = ("ok", "error", "crash", "not_reached", "unknown")


@frozen
class Mismatch:
    """A package whose fingerprint differs between a plugin and what the process already has."""

    package: str
    plugin_hash: str
    process_hash: str
    provider: str  # "host" or the path of an earlier plugin that defined the package
    cause: str
    first: bool  # the one Go names in its error


@frozen
class Verdict:
    """What ``plugin.Open`` does: ``loadable``, the ``outcome``, the first line Go prints, and why."""

    loadable: bool
    outcome: Outcome
    open_error: str | None
    reason: str
    mismatches: tuple[Mismatch, ...] = ()

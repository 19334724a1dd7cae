"""The report data model and its JSON form (the contract validated by ``schema/report.schema.json``).

A :class:`Report` is what soinspect says about one file: the checks it ran, the facts it read, and the
verdict as the real loader would give it. Renderers and the CLI work only on these dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from . import __version__

SCHEMA_VERSION = "1.0"

Status = Literal["pass", "fail", "warn", "info", "unknown"]
Outcome = Literal["ok", "error", "crash", "not_reached", "unknown"]

STATUSES: tuple[Status, ...] = ("pass", "fail", "warn", "info", "unknown")
OUTCOMES: tuple[Outcome, ...] = ("ok", "error", "crash", "not_reached", "unknown")


@dataclass(frozen=True)
class Check:
    """One check: a stable dotted id, a status, one line of message, and evidence."""

    id: str
    status: Status
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "message": self.message, "evidence": self.evidence}


@dataclass(frozen=True)
class Mismatch:
    """A package whose fingerprint differs between a plugin and what the process already has."""

    package: str
    plugin_hash: str
    process_hash: str
    provider: str  # "host" or the path of an earlier plugin that defined the package
    cause: str
    first: bool  # the one Go names in its error

    def to_json(self) -> dict[str, Any]:
        return {
            "package": self.package,
            "plugin_hash": self.plugin_hash,
            "process_hash": self.process_hash,
            "provider": self.provider,
            "cause": self.cause,
            "go_names_it": self.first,
        }


@dataclass(frozen=True)
class Verdict:
    loadable: bool
    outcome: Outcome
    open_error: str | None
    reason: str
    mismatches: tuple[Mismatch, ...] = ()


@dataclass(frozen=True)
class Report:
    """Everything soinspect says about one file."""

    path: str
    verdict: Verdict
    checks: tuple[Check, ...]
    kind: str  # what the file is: go-plugin, go-exe, go-pie, go-c-shared, c-shared, not-elf, ...
    elf: dict[str, Any] | None
    buildinfo: dict[str, Any] | None
    plugin: dict[str, Any] | None
    host: dict[str, Any] | None = None
    error: dict[str, Any] | None = None

    @property
    def loadable(self) -> bool:
        return self.verdict.loadable

    @property
    def outcome(self) -> Outcome:
        return self.verdict.outcome

    @property
    def open_error(self) -> str | None:
        return self.verdict.open_error

    def check(self, check_id: str) -> Check | None:
        for c in self.checks:
            if c.id == check_id:
                return c
        return None

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail"]

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "loadable": self.verdict.loadable,
            "outcome": self.verdict.outcome,
            "open_error": self.verdict.open_error,
            "reason": self.verdict.reason,
            "mismatches": [m.to_json() for m in self.verdict.mismatches],
            "checks": [c.to_json() for c in self.checks],
            "elf": self.elf,
            "buildinfo": self.buildinfo,
            "plugin": self.plugin,
            "host": self.host,
            "error": self.error,
        }


@dataclass(frozen=True)
class Skipped:
    """A path a directory scan did not judge, and why (not ELF, symlink loop, a FIFO, ...)."""

    path: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "reason": self.reason}


def document(
    reports: list[Report], *, policy: dict[str, Any] | None = None, skipped: tuple[Skipped, ...] = ()
) -> dict[str, Any]:
    """The one JSON document for a run: schema version, tool version, policy and results."""
    return {
        "schema_version": SCHEMA_VERSION,
        "soinspect_version": __version__,
        "policy": policy or {},
        "summary": {
            "files": len(reports),
            "loadable": sum(1 for r in reports if r.loadable),
            "rejected": sum(1 for r in reports if not r.loadable),
            "skipped": len(skipped),
        },
        "results": [r.to_json() for r in reports],
        "skipped": [s.to_json() for s in skipped],
    }

"""Reports to SARIF 2.1.0, the format GitHub code scanning ingests.

One rule per check id in :data:`soinspect.verdict.checks.CHECK_IDS` (the rule id *is* the check id, so it is
stable across runs and versions), one result per failed check, located at the file's path. GitHub needs
``region.startLine`` to show a result and fingerprints to match alerts across runs: a shared object has
no lines, so every result sits on line 1 of its file, and the fingerprint is the check id and the path
(the message may change with the facts; the alert is the same).

The log is data, but a viewer shows its messages to a person: every ``message.text`` that holds a path or
a file's text is :func:`plain_text`, the escape rule of every format a person reads
(:func:`soinspect.output.escape.escape`) with SARIF's own markup, the embedded link ``[text](target)``,
made impossible (a literal bracket is ``\\[`` and ``\\]``, as SARIF 2.1.0 section 3.11.6 asks). The
rules' Markdown help is soinspect's own text. The exact bytes of a path are in its ``artifactLocation``
(percent-encoded), and the JSON report keeps every raw value.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from soinspect._version import __version__
from soinspect.output.escape import escape
from soinspect.output.json import dumps_indented
from soinspect.verdict.checks import CHECK_IDS
from soinspect.verdict.explain import cause_line, fix_brief
from soinspect.verdict.registry import CHECKS, FAMILIES
from soinspect.verdict.report import Report, RunError, Skipped

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/soinspect/soinspect"


def render_sarif(
    reports: Sequence[Report],
    *,
    policy: dict[str, Any] | None = None,
    skipped: Sequence[Skipped] = (),
    errors: Sequence[RunError] = (),
    parts: Sequence[str | None] | None = None,
) -> str:
    """The SARIF log's text: ``json.dumps(sarif_document(...), indent=2)``'s. *parts*, where given, holds
    each report's :func:`report_part`, rendered elsewhere (a scan's workers) for a run of one host; None
    for one to render here."""
    several_hosts = _several_hosts(reports)
    if parts is None:
        parts = [None] * len(reports)
    elif several_hosts and any(p is not None for p in parts):
        raise ValueError("SARIF parts are rendered for a run of one host; this run has several")
    ids = _rule_ids(reports)
    doc = sarif_document((), policy=policy, skipped=skipped, errors=errors, rule_ids=ids)
    text = dumps_indented(doc)
    index = {cid: i for i, cid in enumerate(ids)}
    results = ",\n".join(
        p
        for p in (
            part if part is not None else _results_text(r, index, name_host=several_hosts)
            for r, part in zip(reports, parts, strict=True)
        )
        if p
    )
    if results:
        # the run's one "results" key (the run's keys are the only ones 6 spaces in; a string holds no line break)
        text = text.replace('\n      "results": []', f'\n      "results": [\n{results}\n      ]', 1)
    return text + "\n"


def report_part(r: Report) -> str | None:
    """The report's results (its failed checks) in the log's ``results``, as :func:`render_sarif` writes
    them there for a run of one host; None if one of its checks is not in the registry (its rule's index
    then depends on the run's other reports)."""
    if any(c.id not in _INDEX for c in r.checks):
        return None
    return _results_text(r, _INDEX, name_host=False)


def _results_text(r: Report, index: dict[str, int], *, name_host: bool) -> str:
    return ",\n".join("        " + dumps_indented(res, 4) for res in _report_results(r, index, name_host=name_host))


def _report_results(r: Report, index: dict[str, int], *, name_host: bool) -> list[dict[str, Any]]:
    """A report's results: one per failed check; and an undecided contract as a warning (the plugin loads,
    but whether the host's assertion holds is not known)."""
    out = [_result(r, c.id, c.message, index[c.id], name_host=name_host) for c in r.checks if c.status == "fail"]
    out += [
        {**_result(r, c.id, c.message, index[c.id], name_host=name_host), "level": "warning"}
        for c in r.checks
        if c.id == "plugin.expect" and c.status == "unknown"
    ]
    return out


def _several_hosts(reports: Sequence[Report]) -> bool:
    return len({r.host.path for r in reports if r.host is not None}) > 1


def _rule_ids(reports: Sequence[Report]) -> list[str]:
    """Every registered check id, then any other check id of *reports* (sorted), so that every result's
    ruleIndex is valid; the registry is the place to describe it."""
    ids = list(CHECK_IDS)
    ids.extend(sorted({c.id for r in reports for c in r.checks} - _INDEX.keys()))
    return ids


#: a registered check's rule index
_INDEX = {cid: i for i, cid in enumerate(CHECK_IDS)}


def sarif_document(
    reports: Sequence[Report],
    *,
    policy: dict[str, Any] | None = None,
    skipped: Sequence[Skipped] = (),
    errors: Sequence[RunError] = (),
    rule_ids: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The SARIF log as a dict (what :func:`render_sarif` writes). *rule_ids*: the rules, where they are
    not those of *reports* (:func:`render_sarif` puts the results of other reports in).

    A path the run could not judge (*errors*) is an ``error``-level tool execution notification located
    at the path, and makes ``executionSuccessful`` false: a viewer that reads the log, not the exit code,
    does not show such a run as clean."""
    ids = list(rule_ids) if rule_ids is not None else _rule_ids(reports)
    index = {cid: i for i, cid in enumerate(ids)}
    several_hosts = _several_hosts(reports)
    results = [res for r in reports for res in _report_results(r, index, name_host=several_hosts)]
    notifications: list[dict[str, Any]] = [
        {
            "level": "note",
            "message": {"text": plain_text(f"{s.path}: skipped: {s.reason}")},
            "descriptor": {"id": "scan.skipped"},
        }
        for s in skipped
    ]
    notifications += [
        {
            "level": "error",
            "message": {"text": plain_text(f"{e.path}: {e.message}")},
            "descriptor": {"id": f"run.{e.kind}"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": artifact_uri(e.path)}}}],
            "properties": {"kind": e.kind},
        }
        for e in errors
    ]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "soinspect",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(cid) for cid in ids],
            }
        },
        "invocations": [
            {
                "executionSuccessful": not errors,
                "toolExecutionNotifications": notifications,
            }
        ],
        "results": results,
        "columnKind": "unicodeCodePoints",
        "properties": {"policy": policy or {}},
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _rule(check_id: str) -> dict[str, Any]:
    """A rule from the check reference; its help is the reference's full text (no link: a relative link
    to docs/checks.md would be dead in the repository that uploads the SARIF)."""
    info = CHECKS.get(check_id)
    family = FAMILIES.get(check_id.split(".", 1)[0], "other")
    title = info.title if info is not None else f"check {check_id}"
    if info is None:
        text, markdown, why = f"{check_id}: {title}.", f"**{check_id}**: {title}.", title
    else:
        text, why = info.text(), info.why
        markdown = (
            f"**{check_id}**: {info.title} ({family}).\n\n**Why the loader cares:** {info.why}\n\n"
            f"**What Go or glibc says:** {info.says}\n\n**Fix:** {info.fix}\n\n"
            + ("A policy check: `--ignore` may hide it." if info.policy else "`--ignore` cannot hide it.")
        )
    return {
        "id": check_id,
        "name": "".join(part.capitalize() for part in check_id.replace("_", ".").split(".")),
        "shortDescription": {"text": title},
        "fullDescription": {"text": f"{title} ({family}): {why}"},
        "help": {"text": text, "markdown": markdown},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["go-plugin", family]},
    }


def _result(r: Report, check_id: str, message: str, rule_index: int, *, name_host: bool = False) -> dict[str, Any]:
    """One failed check; with *name_host* (several hosts in one run) the host is in its text and identity."""
    key, text = f"{check_id}\0{r.path}", result_message(r, message)
    if name_host and r.host is not None:
        key, text = f"{key}\0{r.host.path}", f"(host {r.host.path}) {text}"
    fingerprint = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return {
        "ruleId": check_id,
        "ruleIndex": rule_index,
        "level": "error",
        "message": {"text": plain_text(text)},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": artifact_uri(r.path)},
                    "region": {"startLine": 1},
                }
            }
        ],
        "partialFingerprints": {"primaryLocationLineHash": f"{fingerprint}:1"},
        "properties": {"kind": r.kind, "outcome": r.outcome},
    }


def result_message(r: Report, message: str) -> str:
    """The check's own message, then the file's cause in the user's terms (once, if it says more) and the
    fix in brief."""
    text = f"{r.path}: {message}"
    if r.loadable:
        return text
    why = cause_line(r)
    if why not in message:
        text += f". Cause: {why}"
    if r.fix is not None:
        text += f". Fix: {fix_brief(r.fix)}"
    return text


def plain_text(text: str) -> str:
    """*text* for a SARIF ``message.text``: escaped (:func:`~soinspect.output.escape.escape`), and its square
    brackets escaped, so that no part of it is read as an embedded link."""
    return escape(text).replace("[", "\\[").replace("]", "\\]")


def artifact_uri(path: str) -> str:
    """A relative path stays relative (GitHub resolves it against the repository root); an absolute one
    becomes a ``file://`` URI. Characters outside RFC 3986's unreserved set are percent-encoded: of the
    path's bytes, the name's own where it is not UTF-8 (``os.fsdecode`` kept them as surrogates)."""
    p = PurePosixPath(path)
    if p.is_absolute():
        return "file://" + _quote(str(p))
    parts = [x for x in p.parts if x != "."]
    return _quote("/".join(parts) or ".")


def _quote(path: str) -> str:
    try:
        raw = path.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate no file name holds (U+D800-U+DC7F, U+DD00-U+DFFF)
        raw = path.encode("utf-8", "surrogatepass")
    return quote(raw)

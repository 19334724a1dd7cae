"""Reports to JUnit XML, the test report Jenkins (``junit``), GitLab (``artifacts: reports: junit``), Azure
Pipelines, CircleCI and Buildkite show.

One ``testsuite`` per run, inside the ``testsuites`` root, and one ``testcase`` per path: its name is the
path as given (with several hosts, ``PATH (host HOST)``), so a reader finds the file. A loadable file is a
passed test case; a rejection is a ``failure`` whose ``message`` is the why line
(:func:`~soinspect.verdict.explain.cause_line`) and whose text adds the failed checks and the fix; a path the
run could not judge is an ``error``; a path a scan skipped is ``skipped``. The suite's properties hold the
soinspect version and the effective policy. The document follows the JUnit structure Jenkins' schema
describes (pytest's ``xunit2``): no ``file`` or ``line`` attribute on a test case, no timings (soinspect
does not time files; a made-up ``time`` would mislead).

Whatever a file name or a message holds, the document is well-formed XML 1.0: names, attributes and each
line of a message's text go through soinspect's one escaping rule (:mod:`soinspect.output.escape`), so a
control character, a lone surrogate from an undecodable file name or a bidirectional control is written
as an escape (``\\x01``, ``\\xff``, ``\\u202e``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from xml.etree import ElementTree as ET

from soinspect._version import __version__
from soinspect.output.escape import escape
from soinspect.verdict.explain import cause_line, verdict_word
from soinspect.verdict.report import Report, RunError, Skipped

SUITE_NAME = "soinspect"


def render_junit(
    reports: Sequence[Report],
    *,
    policy: dict[str, Any] | None = None,
    skipped: Sequence[Skipped] = (),
    errors: Sequence[RunError] = (),
) -> str:
    several_hosts = len({r.host.path for r in reports if r.host is not None}) > 1
    cases = [report_case(r, name_host=several_hosts) for r in reports]
    cases += [
        _case(e.path, "error", e.message, e.kind, f"{e.path}: NOT JUDGED ({e.kind}): {e.message}") for e in errors
    ]
    cases += [_case(s.path, "skipped", s.reason, None, None) for s in skipped]
    failures = sum(1 for r in reports if not r.loadable)
    counts = {
        "tests": str(len(cases)),
        "failures": str(failures),
        "errors": str(len(errors)),
    }
    root = ET.Element("testsuites", {"name": SUITE_NAME, **counts})
    suite = ET.SubElement(root, "testsuite", {"name": SUITE_NAME, **counts, "skipped": str(len(skipped))})
    props = ET.SubElement(suite, "properties")
    settings = [("soinspect.version", __version__)]
    settings += [(f"policy.{k}", v if isinstance(v, str) else json.dumps(v)) for k, v in (policy or {}).items()]
    for name, value in settings:
        ET.SubElement(props, "property", {"name": name, "value": _attr(value)})
    suite.extend(cases)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def report_case(r: Report, *, name_host: bool = False) -> ET.Element:
    """One judged path's ``testcase``: passed when it loads, else a ``failure`` (the why line, the failed
    checks, the fix)."""
    name = f"{r.path} (host {r.host.path})" if name_host and r.host is not None else r.path
    if r.loadable:
        return _case(name, None, "", None, None)
    why = cause_line(r)
    lines = [f"{r.path}: {verdict_word(r)} ({r.kind}): {why}"]
    if r.host is not None:
        lines.append(f"host: {r.host.path}")
    if r.failed:
        lines.append("failed checks:")
        lines += [f"  {c.id}: {c.message}" for c in r.failed]
    if r.fix is not None:
        lines.append("fix:" if r.fix.known else "fix (cause unknown):")
        cut = len(r.fix.steps) - 1 if r.fix.build_flags and r.fix.steps else len(r.fix.steps)
        lines += [f"  {step}" for step in r.fix.steps[:cut]]
        lines += [f"  {edit}" for edit in r.fix.go_mod_edits]
        lines += [f"  {step}" for step in r.fix.steps[cut:]]
    return _case(name, "failure", why, r.kind, "\n".join(lines))


def _case(name: str, outcome: str | None, message: str, kind: str | None, text: str | None) -> ET.Element:
    case = ET.Element("testcase", {"classname": SUITE_NAME, "name": _attr(name)})
    if outcome is not None:
        attrs = {"message": _attr(message)} | ({"type": _attr(kind)} if kind is not None else {})
        child = ET.SubElement(case, outcome, attrs)
        if text is not None:
            child.text = _text(text)
    return case


def _attr(text: str) -> str:
    """An attribute's value on one line: the escaping rule of :mod:`soinspect.output.escape` (a newline, a
    tab, a control or a lone surrogate as an escape), which leaves nothing XML 1.0 forbids."""
    return escape(text)


def _text(text: str) -> str:
    """An element's text: its lines kept, each escaped by the same rule."""
    return "\n".join(escape(line) for line in text.split("\n"))

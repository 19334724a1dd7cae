"""Reports to GitLab Code Quality: the JSON array of issues GitLab reads from ``artifacts: reports:
codequality`` and shows in merge requests.

Each issue has the fields GitLab documents: ``description``, ``check_name``, ``fingerprint``, ``severity``
and ``location`` (``path``, ``lines.begin``). As in SARIF, one issue per failed check of a file, named by
the check id, on line 1 (a shared object has no lines), with a fingerprint made of the check id and the path
(and the host, when a run has several): the same finding has the same fingerprint from run to run, so GitLab
tells new findings from old ones. A loadable file has no issue (the format lists problems only). A path the
run could not judge is a ``critical`` issue named ``run.KIND`` (``run.missing``, ...), a path a scan skipped
an ``info`` issue named ``scan.skipped``: no path is left out. Paths are written as given: run soinspect from
the checkout's root so that GitLab links them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from soinspect.output.escape import escape
from soinspect.output.sarif import result_message
from soinspect.verdict.report import Report, RunError, Skipped

#: a failed check stops the plugin from loading (or breaks the policy): GitLab's second-highest severity
REJECTION = "critical"


def render_codequality(
    reports: Sequence[Report],
    *,
    skipped: Sequence[Skipped] = (),
    errors: Sequence[RunError] = (),
) -> str:
    several_hosts = len({r.host.path for r in reports if r.host is not None}) > 1
    issues = [issue for r in reports for issue in report_issues(r, name_host=several_hosts)]
    issues += [_issue(f"run.{e.kind}", f"{e.path}: not judged: {e.message}", e.path, REJECTION, ()) for e in errors]
    issues += [_issue("scan.skipped", f"{s.path}: skipped: {s.reason}", s.path, "info", ()) for s in skipped]
    return json.dumps(issues, indent=2) + "\n"


def report_issues(r: Report, *, name_host: bool = False) -> list[dict[str, Any]]:
    """One issue per failed check of *r* (none when it loads)."""
    failed = [(c.id, c.message) for c in r.failed]
    if not failed and not r.loadable:  # every rejection fails a check; should one not, it is still shown
        failed = [("loader.verdict", r.reason)]
    host = (r.host.path,) if name_host and r.host is not None else ()
    prefix = f"(host {host[0]}) " if host else ""
    return [_issue(cid, prefix + result_message(r, message), r.path, REJECTION, host) for cid, message in failed]


def _issue(check_id: str, description: str, path: str, severity: str, extra: tuple[str, ...]) -> dict[str, Any]:
    key = "\0".join((check_id, path, *extra))
    return {
        "type": "issue",
        "check_name": check_id,
        "description": escape(description),  # a person reads it in the merge request; the path stays exact
        "categories": ["Bug Risk"],
        "fingerprint": hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest(),
        "severity": severity,
        "location": {"path": path, "lines": {"begin": 1}},
    }

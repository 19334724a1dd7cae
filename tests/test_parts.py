"""A format's document put together from parts rendered elsewhere (a scan's workers) is the document rendered
whole from the reports, byte for byte, in every format; and the JSON writer is ``json.dumps(indent=2)``'s
text exactly. (scripts/scan_documents.py compares the documents of a corpus scan with the old code's.)"""

from __future__ import annotations

import json
import math
from functools import cache
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import corpus
from soinspect.cli.scan import slim_report
from soinspect.output.interface import Format, needs_digest, render, render_part
from soinspect.output.json import document, dumps_indented
from soinspect.output.sarif import sarif_document
from soinspect.verdict import audit as api
from soinspect.verdict.report import Report, RunError, Skipped

POLICY = {"target": "linux/amd64", "host": None, "ignore": ["elf.stripped"], "max_size": 1 << 30}
SKIPPED = (Skipped("dir/notes.txt", "not ELF"),)
ERRORS = (RunError("dir/secret.so", "unreadable", "cannot open: Permission denied"),)


@cache
def corpus_reports() -> tuple[Report, ...]:
    """Every corpus file audited alone, then the plugins of the first observed runs judged against their
    hosts (a host line, package mismatches by cause, fixes): one run of one host each."""
    alone = [api.audit(corpus.path(n)) for n in corpus.names()]
    hosted = []
    for run in corpus.observed()[:40]:
        hosted += api.check_host(corpus.path(run["host"]), [corpus.path(p) for p in run["plugins"]], each=True)
    return (*alone, *hosted)


def _by_host(reports: tuple[Report, ...]) -> dict[str | None, list[Report]]:
    out: dict[str | None, list[Report]] = {}
    for r in reports:
        out.setdefault(r.host.path if r.host is not None else None, []).append(r)
    return out


def _from_parts(reports: list[Report], fmt: Format, *, several_hosts: bool = False, **kw: Any) -> str:
    """What the command does: the parts rendered beside each audit, a report slimmed where all were."""
    parts = [render_part(r, fmt, several_hosts=several_hosts, **kw) for r in reports]
    slim = [slim_report(r) if p is not None else r for r, p in zip(reports, parts, strict=True)]
    return render(slim, fmt, policy=POLICY, skipped=SKIPPED, errors=ERRORS, parts=parts, **kw)


@pytest.mark.parametrize("fmt", list(Format))
@pytest.mark.parametrize(("verbose", "color"), [(False, False), (True, False), (False, True)])
def test_document_from_parts_is_the_whole_document(fmt: Format, verbose: bool, color: bool) -> None:
    groups = _by_host(corpus_reports())
    assert len(groups) > 2  # files alone, and several hosts' runs
    for reports in groups.values():
        whole = render(reports, fmt, policy=POLICY, skipped=SKIPPED, errors=ERRORS, verbose=verbose, color=color)
        assert _from_parts(reports, fmt, verbose=verbose, color=color) == whole
        if fmt is Format.JSON:  # and the standard library's text of the document, as it was written
            doc = document(reports, policy=POLICY, skipped=SKIPPED, errors=ERRORS)
            assert whole == json.dumps(doc, indent=2) + "\n"
        if fmt is Format.SARIF:
            doc = sarif_document(reports, policy=POLICY, skipped=SKIPPED, errors=ERRORS)
            assert whole == json.dumps(doc, indent=2) + "\n"
        if fmt is Format.MARKDOWN:  # the files' rows, then the mismatches' rows, then the fixes, all of them
            lines = [line for r in reports for line in str(render_part(r, fmt)).split("\n")]
            rows: list[str] = []
            causes: list[str] = []
            fixes: list[str] = []
            for r in reports:
                row, *rest = str(render_part(r, fmt)).split("\n")
                rows.append(row)
                causes += [line for line in rest if line.startswith("| ")]
                fixes += [line for line in rest if line.startswith(("- ", "  - "))]
            assert len(rows) + len(causes) + len(fixes) == len(lines)
            for block in (rows, causes, fixes):
                assert "\n" + "\n".join(block) + "\n" in whole


@pytest.mark.parametrize("fmt", list(Format))
def test_a_run_of_several_hosts_is_rendered_from_the_reports(fmt: Format) -> None:
    """Where each file's text names its host (several hosts in one run), those formats have no parts: the
    reports come back whole and are rendered in one place; parts made for one host are refused."""
    reports = [r for r in corpus_reports() if r.host is not None]
    assert len({r.host.path for r in reports if r.host is not None}) > 1
    whole = render(reports, fmt, policy=POLICY, skipped=SKIPPED, errors=ERRORS)
    assert _from_parts(reports, fmt, several_hosts=True) == whole
    one_host = [render_part(r, fmt) for r in reports]
    if fmt in (Format.SARIF, Format.MARKDOWN, Format.LINE):
        assert all(render_part(r, fmt, several_hosts=True) is None for r in reports)
        with pytest.raises(ValueError, match="several"):
            render(reports, fmt, policy=POLICY, parts=one_host)
    else:
        assert render(reports, fmt, policy=POLICY, skipped=SKIPPED, errors=ERRORS, parts=one_host) == whole


def test_a_check_outside_the_registry_has_no_sarif_part() -> None:
    """Its rule's index depends on the run's other reports: that report is rendered in the parent."""
    import dataclasses

    r = next(r for r in corpus_reports() if any(c.status == "fail" for c in r.checks))
    odd = dataclasses.replace(r, checks=(*r.checks, dataclasses.replace(r.checks[0], id="zz.unregistered")))
    assert render_part(odd, Format.SARIF) is None
    reports = [odd, r]
    assert _from_parts(reports, Format.SARIF) == render(
        reports, Format.SARIF, policy=POLICY, skipped=SKIPPED, errors=ERRORS
    )
    assert '"id": "zz.unregistered"' in _from_parts(reports, Format.SARIF)


def test_only_json_needs_the_files_hashed() -> None:
    assert [f for f in Format if needs_digest(f)] == [Format.JSON]
    r = corpus_reports()[0]
    assert r.elf is not None and r.elf.sha256
    for fmt in Format:  # a format that does not hash writes no sha256
        if not needs_digest(fmt):
            assert r.elf.sha256 not in render([r], fmt, policy=POLICY)


_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(_json, st.integers(min_value=0, max_value=4))
def test_dumps_indented_is_json_dumps(value: Any, level: int) -> None:
    expected = json.dumps(value, indent=2).replace("\n", "\n" + "  " * level)
    assert dumps_indented(value, level) == expected


def test_dumps_indented_of_the_corpus_reports_is_json_dumps() -> None:
    from soinspect.output.json import report_json

    for r in corpus_reports():
        doc = report_json(r)
        assert dumps_indented(doc) == json.dumps(doc, indent=2)
    assert dumps_indented([math.inf, -0.0, True, 1]) == json.dumps([math.inf, -0.0, True, 1], indent=2)

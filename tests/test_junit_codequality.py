"""The JUnit XML and GitLab Code Quality outputs of one run that has every kind of path: a loadable plugin,
rejected files, a path that cannot be judged and a skipped one.

JUnit is validated by a maintained XML Schema validator (``xmlschema``) against ``tests/data/junit.xsd``
(the structure Jenkins' JUnit plugin documents, written for these tests) and read back by ``junitparser``,
a maintained JUnit reader, as a CI server would. Code Quality is validated against the fields GitLab
documents for ``artifacts: reports: codequality``, as a JSON schema below.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import junitparser
import pytest
import xmlschema

import corpus
from soinspect.cli import command as cli
from soinspect.output.interface import Format, render
from soinspect.verdict.report import RunError, Skipped

XSD = xmlschema.XMLSchema(str(Path(__file__).resolve().parent / "data" / "junit.xsd"))

#: GitLab's Code Quality issue: description, check_name, fingerprint, severity, location.path and
#: location.lines.begin are the fields GitLab reads; severity is one of its five words
CODEQUALITY_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "location": {
                "type": "object",
                "required": ["path", "lines"],
                "properties": {
                    "path": {"type": "string", "minLength": 1},
                    "lines": {
                        "type": "object",
                        "required": ["begin"],
                        "properties": {"begin": {"type": "integer", "minimum": 1}},
                    },
                },
            },
        },
    },
}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """One run in a workspace: plugins/ holds a loadable plugin, an executable named .so, an arm64 plugin
    and a text file not named .so (skipped); gone.so is missing. Its JUnit and Code Quality files (written
    through --output beside the JSON) and the JSON document."""
    root = tmp_path_factory.mktemp("junit")
    (root / "plugins").mkdir()
    for name, as_name in (("greet.so", "greet.so"), ("go-exe", "exe.so"), ("greet-arm64.so", "arm64.so"),
                          ("not-elf.txt", "notes.txt")):
        shutil.copy(corpus.path(name), root / "plugins" / as_name)
    cwd = os.getcwd()
    os.chdir(root)
    try:
        code = cli.main(["--quiet", "--format", "json", "-o", "json=out.json", "-o", "junit=out.xml",
                         "-o", "codequality=out.cq.json", "plugins", "gone.so"])
    finally:
        os.chdir(cwd)
    assert code == cli.EXIT_ERROR  # gone.so
    return root, json.loads((root / "out.json").read_text())


def test_junit_validates_and_has_one_testcase_per_path(run: tuple[Path, dict[str, Any]]) -> None:
    root, doc = run
    XSD.validate(str(root / "out.xml"))
    xml = junitparser.JUnitXml.fromfile(str(root / "out.xml"))
    (suite,) = list(xml)
    outcomes = {}
    for case in suite:
        kinds = [type(x).__name__ for x in case.result]
        outcomes[case.name] = kinds[0] if kinds else "passed"
    assert outcomes == {
        "plugins/greet.so": "passed",
        "plugins/exe.so": "Failure",
        "plugins/arm64.so": "Failure",
        "gone.so": "Error",
        "plugins/notes.txt": "Skipped",
    }
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (5, 2, 1, 1)
    assert (xml.tests, xml.failures, xml.errors) == (5, 2, 1)
    assert set(outcomes) == {r["path"] for r in doc["results"]} | {e["path"] for e in doc["errors"]} | {
        s["path"] for s in doc["skipped"]
    }


def test_junit_failure_carries_the_why_line_and_the_fix(run: tuple[Path, dict[str, Any]]) -> None:
    root, doc = run
    xml = junitparser.JUnitXml.fromfile(str(root / "out.xml"))
    cases = {c.name: c for s in xml for c in s}
    for result in doc["results"]:
        if result["loadable"]:
            continue
        (failure,) = cases[result["path"]].result
        assert failure.message == result["why"]
        assert failure.type == result["kind"]
        text = failure.text
        assert text.startswith(f"{result['path']}: REJECTED ({result['kind']}): {result['why']}")
        for check in result["checks"]:
            assert (f"  {check['id']}: " in text) == (check["status"] == "fail")
        assert result["fix"] is not None and result["fix"]["steps"][-1] in text
    (error,) = cases["gone.so"].result
    assert (error.type, error.message) == ("missing", "no such file")
    (skip,) = cases["plugins/notes.txt"].result
    assert skip.message == next(s["reason"] for s in doc["skipped"])


def test_codequality_validates_and_has_an_issue_per_failed_check(run: tuple[Path, dict[str, Any]]) -> None:
    root, doc = run
    issues = json.loads((root / "out.cq.json").read_text())
    jsonschema.validate(issues, CODEQUALITY_SCHEMA)
    want = [(r["path"], c["id"]) for r in doc["results"] for c in r["checks"] if c["status"] == "fail"]
    want += [("gone.so", "run.missing"), ("plugins/notes.txt", "scan.skipped")]
    assert [(i["location"]["path"], i["check_name"]) for i in issues] == want
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    assert {i["severity"] for i in issues if i["check_name"] != "scan.skipped"} == {"critical"}
    arm = next(r for r in doc["results"] if r["path"] == "plugins/arm64.so")
    assert all(arm["why"] in i["description"] for i in issues if i["location"]["path"] == "plugins/arm64.so")


def test_codequality_fingerprint_is_stable_per_file_and_check(run: tuple[Path, dict[str, Any]]) -> None:
    """The same file and check give the same fingerprint in another run, whatever the message says."""
    root, _ = run
    issues = json.loads((root / "out.cq.json").read_text())
    cwd = os.getcwd()
    os.chdir(root)
    try:
        cli.main(["--quiet", "--strict", "-o", "codequality=again.json", "plugins/exe.so"])
    finally:
        os.chdir(cwd)
    again = {i["check_name"]: i["fingerprint"] for i in json.loads((root / "again.json").read_text())}
    before = {i["check_name"]: i["fingerprint"] for i in issues if i["location"]["path"] == "plugins/exe.so"}
    assert before and all(again[k] == v for k, v in before.items())


HOSTILE = ["a\nb<&>\"'.so", "ctl\x01\x1b[31m\x7f.so", "bad-\udcff-utf8.so", "tab\there.so", "\ufffe\uffff.so",
           "cr\r.so"]


def test_junit_is_well_formed_whatever_a_name_holds() -> None:
    """Control characters, markup, a lone surrogate (an undecodable file name), U+FFFE: never an invalid
    document; the names come back escaped, one per test case, each findable."""
    errors = [RunError(p, "missing", f"no such file {p}") for p in HOSTILE]
    skipped = [Skipped(p, f"not ELF {p}") for p in HOSTILE]
    text = render([], Format.JUNIT, errors=errors, skipped=skipped)
    XSD.validate(text)
    names = [c.name for s in junitparser.JUnitXml.fromstring(text) for c in s]
    assert names == [
        "a\\nb<&>\"'.so", "ctl\\x01\\x1b[31m\\x7f.so", "bad-\\xff-utf8.so", "tab\\there.so",
        "\\ufffe\\uffff.so", "cr\\r.so",
    ] * 2
    cq = json.loads(render([], Format.CODEQUALITY, errors=errors, skipped=skipped))
    jsonschema.validate(cq, CODEQUALITY_SCHEMA)



def test_every_document_format_survives_an_undecodable_file_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file name that is not UTF-8 (a lone surrogate in Python) used to crash SARIF's fingerprint; each
    format that CI reads gives its document, and JUnit stays valid."""
    name = os.fsencode(tmp_path) + b"/bad-\xff.so"
    shutil.copy(os.fsencode(corpus.path("go-exe")), name)
    for fmt in ("sarif", "junit", "codequality", "json"):
        assert cli.main(["--quiet", "--format", fmt, str(tmp_path)]) == cli.EXIT_REJECTED
        out = capsys.readouterr().out
        if fmt == "junit":
            XSD.validate(out)
            assert "bad-\\xff.so" in out  # the escaping rule's form of the byte
        elif fmt == "sarif":
            assert "bad-%FF.so" in out and json.loads(out)  # the URI holds the name's own byte
        else:
            assert "udcff" in out and json.loads(out)

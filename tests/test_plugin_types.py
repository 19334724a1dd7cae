"""soinspect.open / Plugin.lookup against what real Go hosts printed with ``fmt.Sprintf("%T", sym)``.

Ground truth: ``corpus/observed.json``, every result of every run whose ``plugin.Open`` succeeded
(``symbols``: name -> %T, ``lookup_errors``: name -> Lookup's error text).
"""

from __future__ import annotations

from typing import Any

import pytest

import corpus
import soinspect
from soinspect.go import gotypes as _gotypes
from soinspect.go.facts import read_facts
from soinspect.output.json import report_json
from soinspect.verdict.plugin import apply_expectations, parse_expectation


def _observed_ok() -> dict[str, dict[str, Any]]:
    """plugin name -> one successful result (every successful run of a file printed the same types)."""
    out: dict[str, dict[str, Any]] = {}
    for run in corpus.observed():
        for res in run["results"]:
            if res.get("outcome") == "ok" and res.get("symbols"):
                seen = out.setdefault(res["plugin"], res)
                assert seen["symbols"] == res["symbols"], f"{res['plugin']}: hosts disagree"
    return out


OBSERVED = _observed_ok()
#: Go 1.19's runtime.moduledata has no type descriptor in the binary and its build info is not read,
#: so soinspect reports its types as unknown (with a reason) instead of guessing a layout.
UNKNOWN_LAYOUT = {"greet-1.19.so"}


def test_corpus_has_the_type_plugins() -> None:
    for name in ("types.so", "types-sw.so", "types-stripped.so", "greet.so", "usedep-v1.so", "pluginA-2.so"):
        assert name in OBSERVED, name


@pytest.mark.parametrize("name", sorted(OBSERVED))
def test_types_agree_with_real_host(name: str) -> None:
    observed = OBSERVED[name]
    p = soinspect.open(corpus.path(name))
    got = {s.name: s for s in p.symbols()}
    assert set(got) == set(observed["symbols"])
    for sym_name, want in observed["symbols"].items():
        s = got[sym_name]
        if name in UNKNOWN_LAYOUT:
            assert s.type is None and s.reason, s
            continue
        assert s.type == want, (name, sym_name, s)
        assert s.kind == ("func" if want.startswith("func") else "var"), s
    for miss, err in (observed.get("lookup_errors") or {}).items():
        with pytest.raises(soinspect.SymbolNotFound) as exc:
            p.lookup(miss)
        assert str(exc.value) == err


def test_agreement_figure() -> None:
    """Every type of every successfully opened corpus plugin, stripped ones included."""
    total = agree = 0
    for name, observed in OBSERVED.items():
        if name in UNKNOWN_LAYOUT:
            continue
        got = {s.name: s.type for s in soinspect.open(corpus.path(name)).symbols()}
        for sym_name, want in observed["symbols"].items():
            total += 1
            agree += got.get(sym_name) == want
    assert total >= 200
    assert agree == total, f"{agree} of {total}"


def test_issue_examples() -> None:
    p = soinspect.open(corpus.path("greet.so"))
    assert p.path.startswith("plugin/unnamed-")
    assert p.lookup("Greet") == soinspect.Symbol(name="Greet", kind="func", type="func() string")
    assert p.lookup("V").type == "*int"
    with pytest.raises(soinspect.SymbolNotFound, match=f"^plugin: symbol Nope not found in plugin {p.path}$"):
        p.lookup("Nope")
    assert [s.name for s in p.symbols()] == ["Greet", "V"]
    p2 = soinspect.open(corpus.path("greet.so"), host=corpus.path("host-1.27.3"))
    assert p2.path == p.path


def test_open_raises_go_error() -> None:
    with pytest.raises(soinspect.PluginOpenError) as exc:
        soinspect.open(corpus.path("greet-1.26.6.so"), host=corpus.path("host-1.27.3"))
    assert str(exc.value) == "fatal error: runtime: no plugin module data"
    assert exc.value.outcome == "crash"
    with pytest.raises(soinspect.PluginOpenError, match="plugin was built with a different version of package"):
        soinspect.open(corpus.path("greet-trimpath.so"), host=corpus.path("host-1.27.3"))


def test_composed_form_matches_reflect_string() -> None:
    """The printer's two readings (Str, and the layout of each kind) agree for every exported type."""
    f = read_facts(corpus.path("types-stripped.so"))
    assert f.go is not None and f.go.moduledata is not None
    md = f.go.moduledata
    assert f.elf is not None and md.ptab and md.types is not None
    printer = _gotypes.TypePrinter(f.elf, md.types)
    for _name_off, typ_off in md.ptab:
        t = printer.describe(md.types + typ_off)
        assert t.composed == t.string, t


@pytest.mark.parametrize("name", ["types.so", "types-stripped.so"])
def test_printers_sharing_reads_print_what_fresh_printers_print(name: str) -> None:
    """A qualified printer that shares the descriptors another printer read (plugin_symbols' pair), and
    asks each type twice (the second answer from its memory), prints what a printer of its own prints."""
    f = read_facts(corpus.path(name))
    assert f.elf is not None and f.go is not None and f.go.moduledata is not None
    md = f.go.moduledata
    assert md.ptab and md.types is not None
    plain = _gotypes.TypePrinter(f.elf, md.types)
    shared = _gotypes.TypePrinter(f.elf, md.types, qualified=True, go_version=f.go_version, reads=plain)
    for _name_off, typ_off in md.ptab:
        addr = md.types + typ_off
        plain.describe(addr)
        fresh = _gotypes.TypePrinter(f.elf, md.types, qualified=True, go_version=f.go_version)
        assert shared.identity(addr) == shared.identity(addr) == fresh.identity(addr)
        assert shared.method_set(addr) == fresh.method_set(addr)
    other = read_facts(corpus.path("greet.so"))
    assert other.elf is not None
    with pytest.raises(ValueError, match="same module"):
        _gotypes.TypePrinter(other.elf, md.types, reads=plain)


def test_a_type_that_cannot_be_read_raises_each_time_it_is_asked() -> None:
    """What raises is not kept: the second question raises again, not an empty or stale answer."""
    f = read_facts(corpus.path("types.so"))
    assert f.elf is not None and f.go is not None and f.go.moduledata is not None
    assert f.go.moduledata.types is not None
    printer = _gotypes.TypePrinter(f.elf, f.go.moduledata.types, qualified=True, go_version=f.go_version)
    outside = len(f.content) << 8
    for _ in range(2):
        with pytest.raises(_gotypes.TypeReadError):
            printer.compose(outside, 0)


def test_unverified_release_is_unknown() -> None:
    assert _gotypes.layout_problem("go1.27.3") is None
    assert "not been verified" in (_gotypes.layout_problem("go1.31.0") or "")
    assert "not a release" in (_gotypes.layout_problem(None) or "")


def test_go_quote() -> None:
    assert _gotypes.go_quote('json:"a,omitempty"') == '"json:\\"a,omitempty\\""'
    assert _gotypes.go_quote("a\tb\x01") == '"a\\tb\\x01"'


def test_expectations() -> None:
    report = soinspect.audit(corpus.path("greet.so"))
    ok = apply_expectations(report, [parse_expectation("Greet=func() string"), ("V", "*int")])
    assert ok.loadable and ok.check("plugin.expect") is not None
    bad = apply_expectations(report, [("Greet", "func() int")])
    check = bad.check("plugin.expect")
    assert not bad.loadable and check is not None and check.status == "fail"
    assert "interface conversion: plugin.Symbol is func() string, not func() int" in check.message
    missing = apply_expectations(report, [("Nope", "func()")])
    check = missing.check("plugin.expect")
    assert check is not None and "plugin: symbol Nope not found in plugin plugin/unnamed-" in check.message
    with pytest.raises(ValueError):
        parse_expectation("Greet")


def test_report_json_has_symbol_types() -> None:
    doc = report_json(soinspect.audit(corpus.path("types-stripped.so")))
    syms = {s["name"]: s for s in doc["plugin"]["symbols"]}
    assert syms["VSendChan"] == {"name": "VSendChan", "kind": "var", "type": "*chan<- int", "reason": None}

"""``--expect`` compares Go type identity, and agrees with a real host's type assertion.

corpus/typeassert.json is what a real go1.27.3 host's ``sym.(T)`` did on the corpus plugin types.so, for
many spellings of T (written by corpus/typeassert.py, never by hand). soinspect must agree with every one:
an accepted assertion is ``ok``, a rejected one a ``mismatch``; ``unknown`` only where the spelling alone
cannot decide (an unexported field; whether a named type's methods satisfy an interface).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import corpus
from soinspect.go import typeexpr
from soinspect.go.facts import read_facts, read_named_types
from soinspect.go.gotypes import NamedType, Symbol
from soinspect.verdict import audit as api
from soinspect.verdict.expect import apply_expectations, compare_symbol, packages_for, parse_expectation

RECORDED = json.loads((Path(__file__).resolve().parent.parent / "corpus" / "typeassert.json").read_text())


@cache
def plugin_symbols() -> dict[str, Symbol]:
    rep = api.audit(corpus.path(RECORDED["plugin"]))
    assert rep.plugin is not None and rep.plugin.symbols is not None
    return {s.name: s for s in rep.plugin.symbols}


@cache
def plugin_types() -> dict[str, NamedType]:
    return read_named_types(read_facts(corpus.path(RECORDED["plugin"])))


def test_the_record_is_complete() -> None:
    assert RECORDED["host_go"].startswith("go version go1.27.3 ")
    assert len(RECORDED["results"]) >= 80
    accepted = sum(r["accepted"] for r in RECORDED["results"])
    assert 0 < accepted < len(RECORDED["results"])


@pytest.mark.parametrize("case", RECORDED["results"], ids=lambda r: f"{r['symbol']}={r['asserted']}")
def test_agrees_with_the_real_type_assertion(case: dict[str, Any]) -> None:
    """Every one decided (none unknown), from the descriptors: identity with import paths, the method set
    for an interface (``P=fmt.Stringer``: ``*main.Point`` has ``String``), package-qualified unexported
    names (``VAnon``: the host's ``c`` is package main's, the plugin's example.com/types')."""
    sym = plugin_symbols()[case["symbol"]]
    assert sym.type is not None and sym.type == case["dynamic_type"], "soinspect prints the type as %T does"
    c = compare_symbol(case["asserted"], sym, packages_for(None, plugin_types()), plugin_types())
    assert c.status == ("ok" if case["accepted"] else "mismatch"), c


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("*[4]byte", "*[4]uint8"),
        ("func(ctx context.Context, name string) (err error)", "func(context.Context, string) error"),
        ("map[string]any", "map[string]interface {}"),
        ("func(a, b []byte, c ...rune)", "func([]uint8, []uint8, ...int32)"),
        ("chan (<-chan int)", "chan (<-chan int)"),
        ("chan<- <-chan int", "chan<- <-chan int"),
        ("interface{ B(); A(x int) }", "interface { A(int); B() }"),
        ("interface{ error }", "interface { Error() string }"),
        ("[010]int", "[8]int"),
        ("pkg.Box[byte]", "pkg.Box[uint8]"),
        ("func(x []int, y List[int])", "func([]int, List[int])"),
        ("struct { A, B int }", "struct { A int; B int }"),
        ("struct { io.Reader; N int `k:\"v\"` }", 'struct { io.Reader; N int "k:\\"v\\"" }'),
    ],
)
def test_identical_spellings(a: str, b: str) -> None:
    assert typeexpr.identical(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("*[4]byte", "[4]uint8"),
        ("func(...int)", "func([]int)"),
        ("chan int", "chan<- int"),
        ("error", "interface { Error() string }"),
        ("struct { A int }", 'struct { A int "t" }'),
        ("func() (int, error)", "func() (error, int)"),
    ],
)
def test_different_types(a: str, b: str) -> None:
    assert not typeexpr.identical(a, b)


@pytest.mark.parametrize(
    "bad",
    ["func((", "map[int", "[]", "*", "func(a int, string)", "func(...int, int)", "[x]int", "int int", "struct { A }}"],
)
def test_not_a_type(bad: str) -> None:
    with pytest.raises(ValueError) as info:
        typeexpr.canonical(bad)
    assert not isinstance(info.value, typeexpr.Undecidable)
    with pytest.raises(ValueError, match="is not a Go type"):
        parse_expectation(f"X={bad}")


def test_a_type_too_long_or_too_deep_is_refused() -> None:
    with pytest.raises(ValueError, match="over the limit"):
        typeexpr.canonical("*" * 5000 + "int")
    with pytest.raises(ValueError, match="deeper than"):
        typeexpr.canonical("*" * 100 + "int")


def test_the_issue_example_passes_and_a_real_difference_says_both_types() -> None:
    report = api.audit(corpus.path("types.so"))
    ok = apply_expectations(report, [parse_expectation("VArray=*[4]uint16"), ("VBytes", "*[]byte")])
    check = ok.check("plugin.expect")
    assert check is not None and check.status == "pass" and ok.loadable
    bad = apply_expectations(report, [("VArray", "[4]uint16")])
    check = bad.check("plugin.expect")
    assert check is not None and check.status == "fail" and not bad.loadable
    assert check.message == (
        "VArray: the host's assertion to [4]uint16 fails: the plugin's VArray is *[4]uint16; "
        'sym.(T) panics with "interface conversion: plugin.Symbol is *[4]uint16, not [4]uint16", '
        "v, ok := sym.(T) gives ok == false"
    )
    spelled = apply_expectations(report, [("VBytes", "*[]rune")]).check("plugin.expect")
    assert spelled is not None
    assert spelled.message.startswith(
        "VBytes: the host's assertion to *[]int32 (written *[]rune) fails: the plugin's VBytes is *[]uint8"
    )

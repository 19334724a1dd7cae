"""``--expect NAME=TYPE`` and a host manifest's contract: the ``plugin.expect`` check.

A host does ``sym, err := p.Lookup(NAME)`` then ``sym.(TYPE)``. The lookup fails with
``plugin: symbol NAME not found in plugin PLUGINPATH``; the assertion panics with
``interface conversion: plugin.Symbol is GOT, not WANT`` unless the symbol's dynamic type is identical
to TYPE or, when TYPE is an interface, implements it. Identity, not spelling: see
:mod:`soinspect.go.typeexpr`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from soinspect._frozen import frozen
from soinspect.go import typeexpr
from soinspect.verdict.fix import expectation_fix
from soinspect.verdict.report import Check, Report, Verdict

#: where an expectation came from: the command line, or a host manifest (named)
COMMAND_LINE = "--expect"


def parse_expectation(text: str) -> tuple[str, str]:
    """``"Greet=func() string"`` -> ``("Greet", "func() string")``; ValueError if malformed or TYPE is not a
    Go type."""
    name, sep, typ = text.partition("=")
    name, typ = name.strip(), typ.strip()
    if not sep or not name or not typ:
        raise ValueError(f"expected NAME=TYPE (for example 'Greet=func() string'), got {text!r}")
    check_type(typ)
    return name, typ


def check_type(typ: str) -> None:
    """ValueError if *typ* is not a Go type; a type whose identity cannot be decided is accepted here (the
    check says ``unknown`` for it)."""
    try:
        typeexpr.canonical(typ)
    except typeexpr.Undecidable:
        pass
    except ValueError as exc:
        raise ValueError(f"{typ!r} is not a Go type: {exc}") from None


@frozen
class Comparison:
    """What the host's assertion ``sym.(want)`` does with a symbol whose ``%T`` is *got*."""

    status: str  # "ok", "mismatch", "unknown"
    want: str  # the asserted type as %T prints it (the spelling given, if it cannot be parsed)
    note: str = ""


def compare(want: str, got: str) -> Comparison:
    """Compare by Go type identity; an interface type accepts what implements it."""
    try:
        w = typeexpr.canonical(want)
    except typeexpr.Undecidable as exc:
        return Comparison("unknown", want, str(exc))
    try:
        g = typeexpr.canonical(got, printed=True)
    except ValueError as exc:  # soinspect printed a type it cannot parse back: say so, never guess
        return Comparison("unknown", w, f"the plugin's type {got!r} could not be compared: {exc}")
    if w == g or w == "interface {}":  # every symbol implements the empty interface
        return Comparison("ok", w)
    if w.startswith("interface {") or _may_be_interface(w):
        if not _may_have_methods(g):
            return Comparison("mismatch", w)
        return Comparison(
            "unknown", w, f"whether {g} implements {w} depends on its methods, which soinspect does not read"
        )
    return Comparison("mismatch", w)


def _may_be_interface(canon: str) -> bool:
    """A named type (``pkg.T``) may be an interface; a pointer, a literal or a predeclared type is not."""
    return "." in canon.split("[", 1)[0] and canon[:1].isalpha() and not canon.startswith(("func(", "map[", "chan"))


def _may_have_methods(canon: str) -> bool:
    """Only named types (and pointers to them, and structs embedding them) have methods."""
    base = canon[1:] if canon.startswith("*") else canon
    if base.startswith(("func(", "[", "map[", "chan", "<-chan", "*", "interface {")):
        return False
    return "." in base or base.startswith("struct {")


def apply_expectations(
    report: Report, expectations: Sequence[tuple[str, str]], sources: Sequence[str] | None = None
) -> Report:
    """Add the ``plugin.expect`` check: each named symbol exists and the host's assertion of its type
    succeeds. *sources* names where each expectation came from (default: the command line).

    A mismatch is what a real host's type assertion ``sym.(T)`` panics with:
    ``interface conversion: plugin.Symbol is func() int, not func() string``. A failure rejects the file.
    """
    if not expectations:
        return report
    plugin = report.plugin
    by_name = {s.name: s for s in ((plugin.symbols if plugin is not None else None) or ())}
    pluginpath = (plugin.pluginpath if plugin is not None else None) or "?"
    problems: list[str] = []
    unknown: list[str] = []
    results = []
    for i, (name, want) in enumerate(expectations):
        source = sources[i] if sources is not None else COMMAND_LINE
        s = by_name.get(name)
        got = s.type if s is not None else None
        asserted = want
        if s is None:
            problems.append(f"{name}: plugin: symbol {name} not found in plugin {pluginpath}")
            status = "missing"
        elif got is None:
            unknown.append(f"{name}: type unknown ({s.reason})")
            status = "unknown"
        else:
            c = compare(want, got)
            status, asserted = c.status, c.want
            written = "" if asserted == want else f" (written {want})"
            if c.status == "mismatch":
                problems.append(
                    f"{name}: the host asserts {asserted}{written}, the plugin has {got}: "
                    f"interface conversion: plugin.Symbol is {got}, not {asserted}"
                )
            elif c.status == "unknown":
                unknown.append(f"{name}: {c.note}")
        results.append(
            {"name": name, "expected": want, "asserted": asserted, "actual": got, "result": status, "from": source}
        )
    ev: dict[str, Any] = {"expectations": results}
    if not report.verdict.loadable and report.outcome != "ok":
        check = Check("plugin.expect", "fail", "plugin.Open fails, so no symbol can be looked up", ev)
    elif problems:
        check = Check("plugin.expect", "fail", "; ".join(problems + unknown), ev)
    elif unknown:
        check = Check("plugin.expect", "unknown", "; ".join(unknown), ev)
    else:
        check = Check("plugin.expect", "pass", f"{len(results)} symbol(s) have the expected types", ev)
    v = report.verdict
    fix = report.fix
    if check.status == "fail" and v.loadable:
        v = Verdict(False, v.outcome, v.open_error, f"plugin.Open succeeds, but {check.message}", v.mismatches)
        fix = expectation_fix(problems)
    return dataclasses.replace(report, verdict=v, checks=(*report.checks, check), fix=fix)

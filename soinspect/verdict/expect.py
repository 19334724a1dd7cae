"""``--expect NAME=TYPE`` and a host manifest's contract: the ``plugin.expect`` check.

A host does ``sym, err := p.Lookup(NAME)`` then ``sym.(TYPE)``. The lookup fails with
``plugin: symbol NAME not found in plugin PLUGINPATH``; the assertion panics with
``interface conversion: plugin.Symbol is GOT, not WANT`` unless the symbol's dynamic type is identical
to TYPE or, when TYPE is an interface, implements it. Identity, not spelling: see
:mod:`soinspect.go.typeexpr`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

from soinspect._frozen import frozen
from soinspect.go import typeexpr
from soinspect.go.gotypes import NamedType, Symbol
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
    #: the asserted type's identity, with import paths (what was compared); "" where it was not made
    identity: str = ""
    #: what ``sym.(T)`` panics with, exactly as the runtime words it (a mismatch only)
    panic: str = ""


def packages_for(
    host: Mapping[str, NamedType] | None, plugin: Mapping[str, NamedType]
) -> typeexpr.Packages:
    """What a contract's qualifiers resolve against: the host's named types when a host is given and they
    are known (a host without ``.symtab``, or a version-1 manifest, has none: then as without a host),
    else the plugin's (import paths only)."""
    if host:
        return typeexpr.Packages(host, host=True)
    return typeexpr.Packages(plugin)


def resolve(want: str, packages: typeexpr.Packages) -> str:
    """*want* with every package name resolved to its import path (the form a manifest carries);
    :class:`~soinspect.go.typeexpr.Unresolvable` for a name the host does not resolve to exactly one
    package; ValueError if it is not a type. An undecidable type is kept as written."""
    try:
        return typeexpr.shown(typeexpr.canonical(want, packages=packages))
    except typeexpr.Undecidable:
        return want


def compare_symbol(
    want: str, sym: Symbol, packages: typeexpr.Packages, plugin: Mapping[str, NamedType] | None = None
) -> Comparison:
    """The host's assertion ``sym.(want)``, decided as the runtime decides it: by identity (import paths,
    package-qualified unexported names; runtime typesEqual), or for an interface by the symbol's method set
    (itab init). ``unknown`` only where the bytes do not tell, with the reason."""
    try:
        w = typeexpr.canonical(want, packages=packages)
    except typeexpr.Undecidable as exc:
        return Comparison("unknown", want, str(exc))
    tables = [packages.named, plugin or {}]
    printed = typeexpr.printed(w, tables)
    got = sym.type or "?"
    if sym.identity is None:
        why = sym.identity_reason or sym.reason
        return Comparison("unknown", printed, f"the plugin's type could not be read: {why}", w)
    if w == "interface {}":  # every symbol implements the empty interface
        return Comparison("ok", printed, identity=w)
    methods: tuple[str, ...] | None = None
    if w.startswith("interface {"):
        methods = tuple(typeexpr.methods_of(w))
    elif typeexpr.UNRESOLVED not in w:
        methods = next((t[w].methods for t in tables if w in t), None)
    if methods is not None:
        if sym.methods is None:
            why = f"the method set of {got} could not be read: {sym.identity_reason}"
            return Comparison("unknown", printed, why, w)
        have = sym.methods
        missing = [m for m in methods if m not in have and not any(typeexpr.matches(m, h) is None for h in have)]
        if not missing and any(m not in have for m in methods):  # matches only for some package
            names = ", ".join(sorted(set(w.split(typeexpr.UNRESOLVED)[1::2])))
            why = f"{names} could name more than one package: give --host, or write the import path"
            return Comparison("unknown", printed, why, typeexpr.shown(w))
        if not missing:
            return Comparison("ok", printed, identity=w)
        name = missing[0].split("(", 1)[0].rpartition(".")[2]
        return Comparison(
            "mismatch",
            printed,
            identity=w,
            panic=f"interface conversion: {got} is not {printed}: missing method {name}",
        )
    same = typeexpr.matches(w, sym.identity)
    if same:
        return Comparison("ok", printed, identity=w)
    if same is None:
        names = ", ".join(sorted(set(w.split(typeexpr.UNRESOLVED)[1::2])))
        return Comparison(
            "unknown",
            printed,
            f"{names} could name more than one package: give --host (the host that asserts it), "
            "or write the import path",
            typeexpr.shown(w),
        )
    known = any(w in t for t in tables)  # a named type the host or plugin carries, not an interface
    if not known and _may_be_interface(typeexpr.shown(w)):  # a named interface{} accepts any symbol
        return Comparison(
            "unknown",
            printed,
            f"neither the host nor the plugin carries a descriptor of {typeexpr.shown(w)}: whether it is an interface "
            f"that {got} implements is not known",
            typeexpr.shown(w),
        )
    scopes = ""
    if printed == got:  # runtime/error.go: told apart by rtype.pkgpath, else by scope
        alike = _asserted_pkgpath(typeexpr.shown(w), sym.pkgpath) == sym.pkgpath
        scopes = " (types from different scopes)" if alike else " (types from different packages)"
    return Comparison(
        "mismatch", printed, identity=w, panic=f"interface conversion: plugin.Symbol is {got}, not {printed}{scopes}"
    )


def _asserted_pkgpath(ident: str, plugin_pkgpath: str) -> str:
    """``rtype.pkgpath`` of the host's asserted type, whose ``%T`` is the plugin's (so its shape is):
    a named type's import path; a pointer, slice, array or channel of a named type has the element's
    package as its uncommon PkgPath when it has methods, as the plugin's does when its own is set; a
    struct or interface literal, the package of its unexported names (the host's main)."""
    base = ident.lstrip("*")
    while base.startswith(("[", "chan ", "<-chan ")):
        base = base.split("]", 1)[1] if base.startswith("[") else base.split(" ", 1)[1]
        base = base.lstrip("*")
    named = re.match(r"([^\s\[\](){};,*]+)\.[^\W\d]\w*(\[|$)", base)
    if base == ident:
        if named:
            return named.group(1)
        if base.startswith(("struct {", "interface {")) and re.search(r"[;{] main\.", base):
            return "main"
        return ""
    return named.group(1) if named and plugin_pkgpath else ""


def _may_be_interface(canon: str) -> bool:
    """A named type (``pkg.T``) may be an interface; a pointer, a literal or a predeclared type is not."""
    return "." in canon.split("[", 1)[0] and canon[:1].isalpha() and not canon.startswith(("func(", "map[", "chan"))


def apply_expectations(
    report: Report,
    expectations: Sequence[tuple[str, str]],
    sources: Sequence[str] | None = None,
    *,
    host_types: Mapping[str, NamedType] | None = None,
    plugin_types: Mapping[str, NamedType] | None = None,
    strict: bool = False,
) -> Report:
    """Add the ``plugin.expect`` check: each named symbol exists and the host's assertion of its type
    succeeds. *sources* names where each expectation came from (default: the command line).
    *host_types* are the named types of the host that asserts (None: no host given), *plugin_types* the
    plugin's (:func:`soinspect.go.facts.read_named_types`): what package names resolve against and where
    a named interface's methods come from.

    A failure says what the host's assertion does in both of Go's forms: ``sym.(T)`` panics with the
    runtime's message (``interface conversion: plugin.Symbol is func() int, not func() string``), and
    ``v, ok := sym.(T)`` gives ``ok == false``. It rejects the file, though ``plugin.Open`` succeeds
    (``outcome`` stays ``ok``; the report's ``contract`` says ``fail``). An assertion the bytes do not
    decide is ``unknown``, which *strict* (``--strict``) rejects.
    :class:`~soinspect.go.typeexpr.Unresolvable` if a package name does not resolve against the host.
    """
    if not expectations:
        return report
    plugin = report.plugin
    by_name = {s.name: s for s in ((plugin.symbols if plugin is not None else None) or ())}
    pluginpath = (plugin.pluginpath if plugin is not None else None) or "?"
    packages = packages_for(host_types, plugin_types or {})
    problems: list[str] = []
    unknown: list[str] = []
    results = []
    for i, (name, want) in enumerate(expectations):
        source = sources[i] if sources is not None else COMMAND_LINE
        s = by_name.get(name)
        got = s.type if s is not None else None
        asserted, identity, panic = want, None, None
        if s is None:
            problems.append(f"{name}: plugin: symbol {name} not found in plugin {pluginpath}")
            status = "missing"
        elif got is None:
            unknown.append(f"{name}: type unknown ({s.reason})")
            status = "unknown"
        else:
            c = compare_symbol(want, s, packages, plugin_types)
            status, asserted, identity, panic = c.status, c.want, c.identity or None, c.panic or None
            if c.status == "mismatch":
                differs = ""
                if asserted == got and c.identity and s.identity:
                    differs = (
                        f" (the same name from another package: the host's is {c.identity}, "
                        f"the plugin's {s.identity})"
                    )
                written = "" if want == asserted else f" (written {want})"
                problems.append(
                    f"{name}: the host's assertion to {asserted}{written} fails: "
                    f"the plugin's {name} is {got}{differs}; "
                    f"sym.(T) panics with \"{c.panic}\", v, ok := sym.(T) gives ok == false"
                )
            elif c.status == "unknown":
                unknown.append(f"{name}: {c.note}")
        results.append(
            {
                "name": name,
                "expected": want,
                "asserted": asserted,
                "actual": got,
                "result": status,
                "from": source,
                "identity": identity,
                "actual_identity": s.identity if s is not None else None,
                "panic": panic,
            }
        )
    ev: dict[str, Any] = {"expectations": results}
    if not report.verdict.loadable and report.outcome != "ok":
        check = Check("plugin.expect", "fail", "plugin.Open fails, so no symbol can be looked up", ev)
    elif problems:
        check = Check("plugin.expect", "fail", "; ".join(problems + unknown), ev)
    elif unknown and strict:
        check = Check("plugin.expect", "fail", "; ".join(unknown) + " (unknown: rejected by --strict)", ev)
        problems = unknown
    elif unknown:
        check = Check("plugin.expect", "unknown", "; ".join(unknown) + " (--strict rejects)", ev)
    else:
        check = Check("plugin.expect", "pass", f"{len(results)} symbol(s) have the expected types", ev)
    v = report.verdict
    fix = report.fix
    if check.status == "fail" and v.loadable:
        v = Verdict(False, v.outcome, v.open_error, f"plugin.Open succeeds, but {check.message}", v.mismatches)
        fix = expectation_fix(problems)
    return dataclasses.replace(report, verdict=v, checks=(*report.checks, check), fix=fix)

"""Go's ``plugin`` package, statically: :func:`open` returns a :class:`Plugin` whose :meth:`Plugin.lookup`
gives each exported symbol with its Go type, as ``fmt.Sprintf("%T", sym)`` prints it in a real host.

Nothing is loaded or run. ``open`` raises :class:`~soinspect.errors.PluginOpenError` with the message
Go's ``plugin.Open`` would return (or the fatal error the host would die with), as predicted by
:func:`soinspect.audit` / :func:`soinspect.check_host`; it does not model the loader a second time.

Where the symbols come from (runtime/plugin.go ``plugin_lastmoduleinit``): the plugin's module data
``ptab`` (``go:plugin.tabs``), pairs of (name offset, type offset) relative to ``moduledata.types``. A
function's entry has a func type; a variable's has the pointer type the compiler stored for it
(cmd/compile reflectdata ``WritePluginTable``: ``t = types.NewPtr(t)`` for non-functions), which is why
``Lookup("V")`` of ``var V int`` is an ``*int``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from typing import Any

from soinspect.errors import PluginOpenError, SymbolNotFound
from soinspect.go.gotypes import Symbol
from soinspect.verdict.audit import StrPath, audit, check_host
from soinspect.verdict.fix import expectation_fix
from soinspect.verdict.report import Check, Report, Verdict

__all__ = ["Plugin", "Symbol", "apply_expectations", "open", "parse_expectation"]


class Plugin:
    """What ``plugin.Open`` returns: the plugin path Go uses and its exported symbols."""

    def __init__(self, path: str, report: Report, symbols: Iterable[Symbol]) -> None:
        #: the plugin path Go identifies the plugin by (``plugin/unnamed-...`` or the import path)
        self.path = path
        #: the report the prediction came from
        self.report = report
        self._symbols = {s.name: s for s in symbols}

    def __repr__(self) -> str:
        return f"Plugin(path={self.path!r}, file={self.report.path!r}, symbols={len(self._symbols)})"

    def lookup(self, name: str) -> Symbol:
        """``Plugin.Lookup``: the symbol, or :class:`~soinspect.errors.SymbolNotFound` with Go's text."""
        sym = self._symbols.get(name)
        if sym is None:
            raise SymbolNotFound(f"plugin: symbol {name} not found in plugin {self.path}")
        return sym

    def symbols(self) -> list[Symbol]:
        """Every exported symbol, sorted by name (Go keeps them in a map: it has no order)."""
        return [self._symbols[n] for n in sorted(self._symbols)]


def open(path: StrPath, host: StrPath | None = None, *, sysroot: StrPath | None = None) -> Plugin:
    """``plugin.Open(path)``, predicted statically.

    Without *host*, the host is one built by the same toolchain with the same flags as the plugin; with
    *host*, that real Go executable. Libraries are resolved in *sysroot*. Raises
    :class:`~soinspect.errors.PluginOpenError` (``outcome`` "error", "crash", or "unknown" when soinspect
    cannot tell), :class:`~soinspect.errors.FileAccessError` for an unreadable file and
    :class:`~soinspect.errors.HostError` for a host that is not an ELF file.
    """
    path = os.fspath(path)
    report = audit(path, sysroot=sysroot) if host is None else check_host(host, [path], sysroot=sysroot)[0]
    v = report.verdict
    if v.outcome != "ok":
        if v.outcome == "unknown":
            raise PluginOpenError(f"soinspect cannot predict plugin.Open: {v.reason}", outcome="unknown", path=path)
        raise PluginOpenError(v.open_error or v.reason, outcome=v.outcome, path=path)
    plugin = report.plugin
    pluginpath = plugin.pluginpath if plugin is not None else None
    assert pluginpath is not None, "a plugin that opens has a plugin path"
    return Plugin(pluginpath, report, (plugin.symbols if plugin is not None else None) or ())


# -- --expect ------------------------------------------------------------------------------------------


def parse_expectation(text: str) -> tuple[str, str]:
    """``"Greet=func() string"`` -> ``("Greet", "func() string")``; ValueError if malformed."""
    name, sep, typ = text.partition("=")
    name, typ = name.strip(), typ.strip()
    if not sep or not name or not typ:
        raise ValueError(f"expected NAME=TYPE (for example 'Greet=func() string'), got {text!r}")
    return name, typ


def apply_expectations(report: Report, expectations: Sequence[tuple[str, str]]) -> Report:
    """Add the ``plugin.expect`` check: each named symbol exists and has exactly the expected type.

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
    for name, want in expectations:
        s = by_name.get(name)
        got = s.type if s is not None else None
        if s is None:
            problems.append(f"{name}: plugin: symbol {name} not found in plugin {pluginpath}")
            status = "missing"
        elif got is None:
            unknown.append(f"{name}: type unknown ({s.reason})")
            status = "unknown"
        elif got != want:
            problems.append(f"{name}: interface conversion: plugin.Symbol is {got}, not {want}")
            status = "mismatch"
        else:
            status = "ok"
        results.append({"name": name, "expected": want, "actual": got, "result": status})
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

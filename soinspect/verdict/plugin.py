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

import os
from collections.abc import Iterable

from soinspect.errors import PluginOpenError, SymbolNotFound
from soinspect.go.gotypes import Symbol
from soinspect.verdict.audit import StrPath, audit, check_host
from soinspect.verdict.expect import apply_expectations, parse_expectation
from soinspect.verdict.report import Report

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

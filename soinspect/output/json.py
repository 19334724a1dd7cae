"""Reports to the JSON document, the contract pinned by ``soinspect/schema/report.schema.json``.

Every JSON field is built here from the typed :class:`~soinspect.verdict.report.Report`; nothing below the
output layer knows the JSON shape (docs/json.md documents it).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from json.encoder import encode_basestring_ascii as _quote
from typing import Any

from soinspect._version import __version__
from soinspect.go.buildinfo import BuildInfo, Module
from soinspect.go.gotypes import Symbol
from soinspect.verdict.explain import cause_line, contract_status
from soinspect.verdict.report import (
    CauseGroup,
    Check,
    Difference,
    ElfInfo,
    FileError,
    Fix,
    HostInfo,
    PluginInfo,
    Report,
    RunError,
    Skipped,
    mismatch_fields,
)

SCHEMA_VERSION = "1.2"


def render_json(
    reports: Sequence[Report],
    *,
    policy: dict[str, Any] | None = None,
    skipped: Sequence[Skipped] = (),
    errors: Sequence[RunError] = (),
    parts: Sequence[str | None] | None = None,
) -> str:
    """The JSON document's text: ``json.dumps(document(...), indent=2)``'s. *parts*, where given, holds
    each report's :func:`report_part`, rendered elsewhere (a scan's workers); None for one to render here."""
    doc = document((), policy=policy, skipped=skipped, errors=errors)
    doc["summary"].update(files=len(reports), loadable=sum(1 for r in reports if r.loadable))
    doc["summary"]["rejected"] = len(reports) - doc["summary"]["loadable"]
    text = dumps_indented(doc)
    if reports:
        results = ",\n".join(
            part if part is not None else report_part(r)
            for r, part in zip(reports, parts if parts is not None else [None] * len(reports), strict=True)
        )
        # the one top-level "results" key (nested keys sit deeper; a string holds no line break)
        text = text.replace('\n  "results": []', f'\n  "results": [\n{results}\n  ]', 1)
    return text + "\n"


def report_part(r: Report) -> str:
    """The report's element of the document's ``results``, as :func:`render_json` writes it there."""
    return "    " + dumps_indented(report_json(r), 2)


def dumps_indented(value: Any, level: int = 0) -> str:
    """``json.dumps(value, indent=2)``'s exact text, as if nested *level* deep, for a value made of dicts
    with string keys, lists, tuples, strings, integers, booleans and None (any other value is written by
    ``json.dumps``). About twice as fast: the standard library's own C encoder takes no indentation, and
    its Python one goes through a generator per container; strings go through the same C function."""
    return _encode(value, "\n" + "  " * level)


def _encode(o: Any, nl: str) -> str:
    t = type(o)
    if t is str:
        return _quote(o)
    if t is dict:
        if not o:
            return "{}"
        inner = nl + "  "
        return "{" + inner + ("," + inner).join([_quote(k) + ": " + _encode(v, inner) for k, v in o.items()]) + nl + "}"
    if t is list or t is tuple:
        if not o:
            return "[]"
        inner = nl + "  "
        return "[" + inner + ("," + inner).join([_encode(v, inner) for v in o]) + nl + "]"
    if o is None:
        return "null"
    if o is True:
        return "true"
    if o is False:
        return "false"
    if t is int:
        return int.__repr__(o)
    if isinstance(o, dict | list | tuple):  # a subclass: as the standard library writes it, indented here
        return json.dumps(o, indent=2).replace("\n", nl)
    return json.dumps(o)


def document(
    reports: Sequence[Report],
    *,
    policy: dict[str, Any] | None = None,
    skipped: Sequence[Skipped] = (),
    errors: Sequence[RunError] = (),
) -> dict[str, Any]:
    """The one JSON document for a run: schema version, tool version, policy and results."""
    return {
        "schema_version": SCHEMA_VERSION,
        "soinspect_version": __version__,
        "policy": policy or {},
        "summary": {
            "files": len(reports),
            "loadable": sum(1 for r in reports if r.loadable),
            "rejected": sum(1 for r in reports if not r.loadable),
            "skipped": len(skipped),
            "errors": len(errors),
        },
        "results": [report_json(r) for r in reports],
        "skipped": [skipped_json(s) for s in skipped],
        "errors": [run_error_json(e) for e in errors],
    }


def report_json(r: Report) -> dict[str, Any]:
    return {
        "path": r.path,
        "kind": r.kind,
        "loadable": r.loadable,
        "outcome": r.outcome,
        "contract": contract_status(r),
        "open_error": r.open_error,
        "reason": r.reason,
        "why": cause_line(r),
        "mismatches": [mismatch_fields(m) for m in r.mismatches],
        "causes": [cause_json(g) for g in r.causes],
        "differences": [difference_json(d) for d in r.differences],
        "checks": [check_json(c) for c in r.checks],
        "elf": elf_json(r.elf) if r.elf is not None else None,
        "buildinfo": buildinfo_json(r.buildinfo) if r.buildinfo is not None else None,
        "plugin": plugin_json(r.plugin) if r.plugin is not None else None,
        "host": host_json(r.host) if r.host is not None else None,
        "error": error_json(r.error) if r.error is not None else None,
        "fix": fix_json(r.fix) if r.fix is not None else None,
        "loader": {"flavor": r.loader.flavor, "interp": r.loader.interp, "why": r.loader.why}
        if r.loader is not None
        else None,
    }


def fix_json(f: Fix) -> dict[str, Any]:
    return {
        "rebuild": f.rebuild,
        "known": f.known,
        "toolchain": f.toolchain,
        "env": dict(f.env),
        "build_flags": list(f.build_flags),
        "go_mod_edits": list(f.go_mod_edits),
        "package_path": f.package_path,
        "steps": list(f.steps),
        "basis": f.basis,
    }


def cause_json(g: CauseGroup) -> dict[str, Any]:
    return {"cause": g.cause, "packages": list(g.packages), "go_names": g.go_names}


def difference_json(d: Difference) -> dict[str, Any]:
    return {"field": d.field, "plugin": d.plugin, "host": d.host}


def check_json(c: Check) -> dict[str, Any]:
    return {"id": c.id, "status": c.status, "message": c.message, "evidence": c.evidence}


def elf_json(e: ElfInfo) -> dict[str, Any]:
    return {
        "class": e.elf_class,
        "byteorder": e.byteorder,
        "os_abi": e.os_abi,
        "type": e.type,
        "machine": e.machine,
        "platform": e.platform,
        "size": e.size,
        "sha256": e.sha256,
        "interp": e.interp,
        "pie": e.pie,
        "needed": list(e.needed),
        "soname": e.soname,
        "rpath": list(e.rpath),
        "runpath": list(e.runpath),
        "dynsym_count": e.dynsym_count,
        "stripped": e.stripped,
    }


def module_json(m: Module) -> dict[str, Any]:
    return {
        "path": m.path,
        "version": m.version,
        "sum": m.sum,
        "replace": module_json(m.replace) if m.replace else None,
    }


def buildinfo_json(b: BuildInfo) -> dict[str, Any]:
    return {
        "go_version": b.go_version,
        "path": b.path,
        "main": module_json(b.main) if b.main else None,
        "deps": [module_json(d) for d in b.deps],
        "settings": [{"key": s.key, "value": s.value} for s in b.settings],
        "source": b.source,
        "format": b.format,
    }


def symbol_json(s: Symbol) -> dict[str, Any]:
    return {"name": s.name, "kind": s.kind, "type": s.type, "reason": s.reason or None}


def plugin_json(p: PluginInfo) -> dict[str, Any]:
    md = p.moduledata
    return {
        "is_plugin": p.is_plugin,
        "pluginpath": p.pluginpath,
        "pluginpath_source": p.pluginpath_source,
        "exports": list(p.exports),
        "symbols": None if p.symbols is None else [symbol_json(s) for s in p.symbols],
        "moduledata": None
        if md is None
        else {
            "addr": md.addr,
            "source": md.source,
            "next_offset": md.next_offset,
            "layout_source": md.layout_source,
        },
        "pkghashes": None if p.pkghashes is None else [{"package": h.package, "hash": h.hash} for h in p.pkghashes],
    }


def host_json(h: HostInfo) -> dict[str, Any]:
    return {
        "path": h.path,
        "go_version": h.go_version,
        "can_load_plugins": h.can_load_plugins,
        "refusal": h.refusal,
        "platform": h.platform,
        "next_offset": h.next_offset,
        "pkghash_count": h.pkghash_count,
        "settings": dict(h.settings),
        "origin": h.origin,
        "manifest_of": h.manifest_of,
        "sha256": h.sha256,
    }


def error_json(e: FileError) -> dict[str, Any]:
    return {"kind": e.kind, "message": e.message, "offset": e.offset}


def skipped_json(s: Skipped) -> dict[str, Any]:
    return {"path": s.path, "reason": s.reason}


def run_error_json(e: RunError) -> dict[str, Any]:
    return {"path": e.path, "kind": e.kind, "message": e.message}

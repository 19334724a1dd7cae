"""The library's entry points: facts -> checks -> verdict -> :class:`~soinspect.report.Report`.

``audit(path)`` judges one file against a host built by the same toolchain with the same flags;
``check_host(host, plugins)`` judges a set of files that one real host loads in order.
The library never prints and never exits.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from . import _elf
from . import sysroot as _sysroot
from .causes import diagnose
from .checks import Policy, file_checks
from .errors import FileAccessError, HostError, InvalidFileError
from .facts import FileFacts, invalid_facts, read_facts
from .gomodule import PKGHASH_PREFIXES
from .loader import NOT_IMPLEMENTED, HostModel, Process, implicit_host
from .plugin import symbols_json
from .report import Check, Mismatch, Report, Verdict
from .targets import DEFAULT_TARGET, Target, target_for


def audit(
    path: str,
    *,
    target: Target = DEFAULT_TARGET,
    strict: bool = False,
    ignore: Sequence[str] = (),
    max_size: int = _elf.DEFAULT_MAX_SIZE,
    sysroot: str | None = None,
    digest: bool = True,
) -> Report:
    """Audit one file as a plugin for a host built by the same Go toolchain with the same flags.

    ``digest=False`` leaves ``elf.sha256`` out (None): hashing the whole file is the largest single cost of
    an audit, and only the JSON and SARIF reports carry it.

    Its libraries are resolved in *sysroot* as glibc's loader would (see :mod:`soinspect.sysroot`).
    Raises :class:`~soinspect.errors.FileAccessError` if the file or the sysroot cannot be read; every
    other problem (not ELF, truncated, not a plugin, wrong platform) is a rejected report.
    """
    _sysroot.check_sysroot(sysroot)
    policy = Policy(target=target, strict=strict, ignore=frozenset(ignore))
    f = read_facts(path, max_size=max_size)
    dyn = _sysroot.resolve_facts(f, sysroot)
    verdict = Process(implicit_host(f, target), lambda _: dyn.error if dyn else None).open(f)
    return build_report(f, policy, verdict, dyn=dyn, digest=digest)


def crashed_report(path: str, error: InvalidFileError, *, target: Target = DEFAULT_TARGET) -> Report:
    """The report of a file whose analysis died in native code (a :class:`ParserCrashError` from a worker).

    The file was read and is almost certainly malformed, so it is a rejection (exit 1), not a failure of
    soinspect; what ``plugin.Open`` would do with it is unknown.
    """
    f = invalid_facts(path, os.path.realpath(path), b"", error)
    verdict = Verdict(False, "unknown", None, f"soinspect could not analyse it: {error.problem}")
    return build_report(f, Policy(target=target), verdict)


def check_host(
    host: str | FileFacts,
    plugins: Sequence[str],
    *,
    each: bool = False,
    strict: bool = False,
    ignore: Sequence[str] = (),
    max_size: int = _elf.DEFAULT_MAX_SIZE,
    sysroot: str | None = None,
    digest: bool = True,
    unreadable: list[FileAccessError] | None = None,
) -> list[Report]:
    """Predict what *host*'s ``plugin.Open`` does with *plugins*, loaded in this order in one process.

    A file that cannot be read raises :class:`~soinspect.errors.FileAccessError`, unless *unreadable* is a
    list: then its error is appended there and the set goes on without it, as a real host's
    ``plugin.Open`` fails on it (``realpath failed``) before touching the process.

    With ``each=True`` every file is judged alone, in a fresh process. Raises
    :class:`~soinspect.errors.FileAccessError` if a file cannot be read and
    :class:`~soinspect.errors.HostError` if the host is not an ELF file.
    """
    _sysroot.check_sysroot(sysroot)
    hf = host if isinstance(host, FileFacts) else read_facts(host, max_size=max_size)
    model = host_model(hf)
    policy = Policy(target=model.target or DEFAULT_TARGET, strict=strict, ignore=frozenset(ignore))
    facts = []
    for p in plugins:
        try:
            facts.append(read_facts(p, max_size=max_size))
        except FileAccessError as exc:
            if unreadable is None:
                raise
            unreadable.append(exc)
    dyns = {id(f): _sysroot.resolve_facts(f, sysroot) for f in facts}

    def dependencies(f: FileFacts) -> str | None:
        d = dyns.get(id(f))
        return d.error if d is not None else None

    process = Process(model, dependencies)
    out = []
    for f in facts:
        if each:
            process = Process(model, dependencies)
        v = process.open(f)
        if v.mismatches:
            v = Verdict(
                v.loadable,
                v.outcome,
                v.open_error,
                v.reason,
                tuple(_with_cause(m, f, hf, facts) for m in v.mismatches),
            )
        out.append(build_report(f, policy, v, model, dyn=dyns[id(f)], digest=digest))
    return out


def _with_cause(m: Mismatch, f: FileFacts, host: FileFacts, others: list[FileFacts]) -> Mismatch:
    provider = host if m.provider == "host" else next((o for o in others if o.path == m.provider), None)
    label = "host" if m.provider == "host" else f"earlier plugin {m.provider}"
    cause = diagnose(m.package, f, provider, label)
    return Mismatch(m.package, m.plugin_hash, m.process_hash, m.provider, cause, m.first)


def host_model(hf: FileFacts) -> HostModel:
    """Read what a host executable brings to plugin.Open."""
    if hf.invalid is not None:
        raise HostError(hf.path, f"not a usable host: {hf.invalid.problem}")
    h = hf.header
    assert h is not None
    target = target_for(h.elf_class, h.data_encoding, h.machine)
    go = hf.go
    bi = hf.buildinfo.info if hf.buildinfo else None
    if bi is None or go is None:
        return HostModel(
            hf.path,
            False,
            target,
            ("error", None, "the host is not a Go program: it cannot call plugin.Open"),
            facts=hf,
        )
    links_plugin = "plugin" in go.pkghash_bytes or (
        hf.elf is not None and hf.elf.find_symbol("plugin.Open", "symtab") is not None
    )
    if bi.setting("CGO_ENABLED") == "0":
        return HostModel(
            hf.path,
            False,
            target,
            ("error", NOT_IMPLEMENTED, "built with CGO_ENABLED=0: the stub plugin package"),
            facts=hf,
        )
    if not links_plugin:
        return HostModel(
            hf.path,
            False,
            target,
            ("error", None, "the host does not link package plugin: it never calls plugin.Open"),
            facts=hf,
        )
    # The host provides a package's runtime hash only if it exports go:link.pkghash.<pkg> dynamically.
    exported = {
        sym.name.split(".pkghash.", 1)[1]
        for prefix in PKGHASH_PREFIXES
        for sym in (hf.elf.symbols_with_prefix(prefix) if hf.elf else [])
    }
    pkghashes = {pkg: hx for pkg, hx in go.pkghash_bytes.items() if pkg in exported}
    return HostModel(
        name=hf.path,
        implicit=False,
        target=target,
        refusal=None,
        next_offset=go.next_offset,
        layout=(go.layout.size, go.layout.offsets) if go.layout is not None and go.layout.size else None,
        exports_lastmoduledatap=hf.elf is not None and hf.elf.find_symbol("runtime.lastmoduledatap") is not None,
        pkghashes=pkghashes,
        facts=hf,
    )


def build_report(
    f: FileFacts,
    policy: Policy,
    verdict: Verdict,
    host: HostModel | None = None,
    *,
    dyn: _sysroot.DynamicResolution | None = None,
    digest: bool = True,
) -> Report:
    checks = file_checks(f, policy)
    if dyn is not None:
        checks.append(_sysroot.resolution_check(dyn))
    if host is not None and not host.implicit:
        checks.extend(host_checks(f, host, verdict))
    verdict = _apply_policy(verdict, checks, policy)
    checks.append(
        Check(
            "loader.verdict",
            "pass" if verdict.loadable else "fail",
            verdict.open_error or "plugin.Open succeeds"
            if verdict.outcome != "unknown"
            else f"unknown: {verdict.reason}",
            {"outcome": verdict.outcome, "reason": verdict.reason},
        )
    )
    return Report(
        path=f.path,
        verdict=verdict,
        checks=tuple(c for c in checks if c.id not in policy.ignore),
        kind=f.kind,
        elf=_elf_json(f, digest),
        buildinfo=f.buildinfo.info.to_json() if f.buildinfo and f.buildinfo.info else None,
        plugin=_plugin_json(f),
        host=_host_json(host) if host is not None and not host.implicit else None,
        error={"kind": f.invalid.kind, "message": str(f.invalid), "offset": f.invalid.offset} if f.invalid else None,
    )


def _apply_policy(v: Verdict, checks: list[Check], policy: Policy) -> Verdict:
    """Policy rejections (strict, wrong target platform) on top of what the loader itself does."""
    if not v.loadable:
        return v
    failed = [c for c in checks if c.status == "fail" and c.id not in policy.ignore]
    if failed:
        return Verdict(
            False,
            v.outcome,
            v.open_error,
            f"plugin.Open would succeed, but policy rejects it: {failed[0].id}: {failed[0].message}",
            v.mismatches,
        )
    return v


def host_checks(f: FileFacts, host: HostModel, v: Verdict) -> list[Check]:
    out = []
    if host.refusal is not None:
        out.append(Check("host.plugin_support", "fail", host.refusal[2], {"go_says": host.refusal[1]}))
        return out
    out.append(Check("host.plugin_support", "pass", "the host links package plugin with cgo", {}))
    go = f.go
    if go is not None and go.next_offset is not None and host.next_offset is not None:
        same = go.next_offset == host.next_offset
        out.append(
            Check(
                "host.runtime",
                "pass" if same else "fail",
                "same runtime.moduledata layout"
                if same
                else f"runtime.moduledata layouts differ (next at +{go.next_offset:#x} in the plugin, "
                f"+{host.next_offset:#x} in the host): the host dies with 'fatal error: runtime: no "
                "plugin module data'",
                {
                    "plugin_next": go.next_offset,
                    "host_next": host.next_offset,
                    "plugin_size": go.layout.size if go.layout else None,
                    "host_go": host.facts.go_version if host.facts else None,
                    "plugin_go": f.go_version,
                },
            )
        )
    if v.open_error and v.open_error.endswith("plugin already loaded"):
        out.append(Check("host.pluginpath", "fail", v.reason, {"pluginpath": f.pluginpath}))
    if v.mismatches:
        names = ", ".join(m.package for m in v.mismatches)
        out.append(
            Check(
                "host.pkghash",
                "fail",
                f"{len(v.mismatches)} package(s) differ: {names}",
                {"mismatches": [m.to_json() for m in v.mismatches]},
            )
        )
    elif v.outcome == "ok":
        out.append(Check("host.pkghash", "pass", "every shared package has the same fingerprint", {}))
    return out


def _elf_json(f: FileFacts, digest: bool = True) -> dict[str, Any] | None:
    if f.header is None:
        return None
    h, d = f.header, f.dynamic
    assert d is not None
    t = target_for(h.elf_class, h.data_encoding, h.machine)
    return {
        "class": 64 if h.elf_class == _elf.ELFCLASS64 else 32,
        "byteorder": "little" if h.data_encoding == _elf.ELFDATA2LSB else "big",
        "os_abi": h.os_abi,
        "type": h.file_type,
        "machine": h.machine,
        "platform": t.name if t else None,
        "size": f.size,
        "sha256": f.sha256 if digest else None,
        "interp": d.interp,
        "pie": d.pie,
        "needed": list(d.needed),
        "soname": d.soname,
        "rpath": list(d.rpath),
        "runpath": list(d.runpath),
        "dynsym_count": f.dynsym_count,
        "stripped": not f.symtab_present,
    }


def _plugin_json(f: FileFacts) -> dict[str, Any] | None:
    if f.header is None:
        return None
    go = f.go
    md = go.moduledata if go else None
    return {
        "is_plugin": f.kind == "go-plugin",
        "pluginpath": f.pluginpath,
        "pluginpath_source": f.pluginpath_source if f.pluginpath else None,
        "exports": list(f.exports),
        "symbols": symbols_json(f),
        "moduledata": None
        if md is None
        else {
            "addr": md.addr,
            "source": md.source,
            "next_offset": go.next_offset if go else None,
            "layout_source": go.layout.source if go and go.layout else None,
        },
        "pkghashes": None
        if go is None
        else [{"package": p.package, "hash": p.linktime_hash} for p in (md.pkghashes if md and md.pkghashes else ())]
        or [{"package": k, "hash": v} for k, v in sorted(go.pkghash_bytes.items())],
    }


def _host_json(h: HostModel) -> dict[str, Any]:
    f = h.facts
    return {
        "path": h.name,
        "go_version": f.go_version if f else None,
        "can_load_plugins": h.refusal is None,
        "refusal": h.refusal[2] if h.refusal else None,
        "platform": h.target.name if h.target else None,
        "next_offset": h.next_offset,
        "pkghash_count": len(h.pkghashes),
    }

"""The library's entry points: facts -> checks -> verdict -> :class:`~soinspect.verdict.report.Report`.

``audit(path)`` judges one file against a host built by the same toolchain with the same flags;
``check_host(host, plugins)`` judges a set of files that one real host loads in order.
The library never prints and never exits. Every path may be a ``str`` or an ``os.PathLike`` (a
``pathlib.Path``); where a sequence is expected, a bare ``str`` or path is a :class:`TypeError` naming the
argument (iterating it would judge one character at a time).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TypeAlias

from soinspect.elf.file import DEFAULT_MAX_SIZE
from soinspect.elf.structs import ELFCLASS64, ELFDATA2LSB
from soinspect.elf.targets import DEFAULT_TARGET, Target, target_for
from soinspect.errors import FileAccessError, InvalidFileError
from soinspect.go.buildinfo import BuildInfo
from soinspect.go.facts import FileFacts, invalid_facts, read_facts, read_named_types, read_symbols
from soinspect.loader import dynamic as _sysroot
from soinspect.loader.causes import diagnose
from soinspect.loader.host import load_host
from soinspect.loader.process import ALREADY_LOADED, MISREAD, HostModel, Process, duplicate_pluginpath, implicit_host
from soinspect.verdict.checks import Policy, advisory_check, binding_check, file_checks, resolution_check
from soinspect.verdict.expect import COMMAND_LINE, apply_expectations
from soinspect.verdict.fix import derive_fix
from soinspect.verdict.report import (
    Check,
    ElfInfo,
    FileError,
    HostInfo,
    LoaderInfo,
    Mismatch,
    ModuleDataInfo,
    PackageHash,
    PluginInfo,
    Report,
    Verdict,
    mismatch_fields,
)

#: a path as the library takes it
StrPath: TypeAlias = "str | os.PathLike[str]"


def sequence_of(name: str, values: Iterable[StrPath]) -> list[str]:
    """*values* as a list of ``str``; TypeError naming *name* if it is one string or one path."""
    if isinstance(values, str | bytes | os.PathLike):
        raise TypeError(f"{name}: expected a sequence, got the single {type(values).__name__} {values!r}; "
                        f"pass [{values!r}]")
    return [os.fspath(v) for v in values]


def _optional_path(p: StrPath | None) -> str | None:
    return None if p is None else os.fspath(p)


def _absolute(p: StrPath | None) -> str | None:
    """A directory given relative to the current directory, made absolute (``--plugin-module``)."""
    return None if p is None else os.path.abspath(os.fspath(p))


def audit(
    path: StrPath,
    *,
    target: Target = DEFAULT_TARGET,
    strict: bool = False,
    ignore: Sequence[str] = (),
    max_size: int = DEFAULT_MAX_SIZE,
    sysroot: StrPath | None = None,
    digest: bool = True,
    expect: Sequence[tuple[str, str]] = (),
    plugin_module: StrPath | None = None,
) -> Report:
    """Audit one file as a plugin for a host built by the same Go toolchain with the same flags.

    ``digest=False`` leaves ``elf.sha256`` out (None): hashing the whole file is the largest single cost of
    an audit, and only the JSON and SARIF reports carry it.

    Its libraries are resolved in *sysroot* as glibc's loader would (see :mod:`soinspect.loader.dynamic`).
    *expect* lists ``(name, Go type)`` pairs a host would look up and assert (the ``plugin.expect`` check).
    *plugin_module* is the plugin's module directory (``--plugin-module``): a fix's ``go mod edit`` paths
    are relative to it. Raises :class:`~soinspect.errors.FileAccessError` if the file or the sysroot cannot
    be read; every other problem (not ELF, truncated, not a plugin, wrong platform) is a rejected report.
    """
    path, sysroot = os.fspath(path), _optional_path(sysroot)
    _sysroot.check_sysroot(sysroot)
    policy = Policy(target=target, strict=strict, ignore=frozenset(sequence_of("ignore", ignore)))
    f = read_facts(path, max_size=max_size)
    dyn = _sysroot.resolve_facts(f, sysroot)
    host = implicit_host(f, target)
    binding = _sysroot.bind(dyn, host.exports) if dyn is not None else None
    verdict = Process(host, lambda _: dyn.error if dyn else None, lambda _f, _e: binding).open(f)
    report = build_report(
        f, policy, verdict, dyn=dyn, digest=digest, binding=binding, plugin_module=_absolute(plugin_module)
    )
    return apply_expectations(report, expect, plugin_types=read_named_types(f) if expect else None, strict=strict)


def crashed_report(path: str, error: InvalidFileError, *, target: Target = DEFAULT_TARGET) -> Report:
    """The report of a file whose analysis died in native code (a :class:`ParserCrashError` from a worker).

    The file was read and is almost certainly malformed, so it is a rejection (exit 1), not a failure of
    soinspect; what ``plugin.Open`` would do with it is unknown.
    """
    f = invalid_facts(path, os.path.realpath(path), b"", error)
    verdict = Verdict(False, "unknown", None, f"soinspect could not analyse it: {error.problem}")
    return build_report(f, Policy(target=target), verdict)


def check_host(
    host: StrPath | HostModel,
    plugins: Sequence[StrPath],
    *,
    each: bool = False,
    strict: bool = False,
    ignore: Sequence[str] = (),
    max_size: int = DEFAULT_MAX_SIZE,
    sysroot: StrPath | None = None,
    digest: bool = True,
    unreadable: list[FileAccessError] | None = None,
    expect: Sequence[tuple[str, str]] = (),
    plugin_module: StrPath | None = None,
) -> list[Report]:
    """Predict what *host*'s ``plugin.Open`` does with *plugins*, loaded in this order in one process.

    A file that cannot be read raises :class:`~soinspect.errors.FileAccessError`, unless *unreadable* is a
    list: then its error is appended there and the set goes on without it, as a real host's
    ``plugin.Open`` fails on it (``realpath failed``) before touching the process.

    *host* is a host executable, a host manifest written from one (``soinspect manifest``), or a
    :class:`~soinspect.loader.process.HostModel` already read with
    :func:`~soinspect.loader.host.load_host`: the verdicts are the same.

    Each report gets the ``plugin.expect`` check for the host's own contract (a manifest's ``expect``) and
    *expect*. *plugin_module* is the plugins' module directory (``--plugin-module``): a fix's
    ``go mod edit -replace`` paths are then relative to it. With ``each=True`` every file is judged alone,
    in a fresh process. Raises
    :class:`~soinspect.errors.FileAccessError` if a file cannot be read and
    :class:`~soinspect.errors.HostError` if the host cannot be one (a
    :class:`~soinspect.errors.ManifestError` for a manifest that cannot be trusted).
    """
    paths = sequence_of("plugins", plugins)
    ignored = frozenset(sequence_of("ignore", ignore))
    sysroot = _optional_path(sysroot)
    _sysroot.check_sysroot(sysroot)
    model = (
        host
        if isinstance(host, HostModel)
        else load_host(os.fspath(host), max_size=max_size, digest=digest, sysroot=sysroot)
    )
    policy = Policy(target=model.target or DEFAULT_TARGET, strict=strict, ignore=ignored)
    facts = []
    for p in paths:
        try:
            facts.append(read_facts(p, max_size=max_size))
        except FileAccessError as exc:
            if unreadable is None:
                raise
            unreadable.append(exc)
    loader = _sysroot.loader_of_host(model.interp, model.target.machine if model.target else None)
    dyns = {id(f): _sysroot.resolve_facts(f, sysroot, loader) for f in facts}
    bindings: dict[int, _sysroot.Binding | None] = {}

    def dependencies(f: FileFacts) -> str | None:
        d = dyns.get(id(f))
        return d.error if d is not None else None

    def symbols(f: FileFacts, earlier: list[FileFacts]) -> _sysroot.Binding | None:
        d = dyns.get(id(f))
        if d is None:
            return None
        before = [e for e in (dyns.get(id(o)) for o in earlier) if e is not None]
        b = bindings[id(f)] = _sysroot.bind(d, model.exports, before, host_note=model.exports_note)
        return b

    process = Process(model, dependencies, symbols)
    providers = {o.path: o for o in facts}
    out = []
    for f in facts:
        if each:
            process = Process(model, dependencies, symbols)
        v = process.open(f)
        if v.mismatches:
            v = Verdict(
                v.loadable,
                v.outcome,
                v.open_error,
                v.reason,
                tuple(_with_cause(m, f, model, facts) for m in v.mismatches),
            )
        out.append(
            build_report(
                f,
                policy,
                v,
                model,
                dyn=dyns[id(f)],
                digest=digest,
                providers=providers,
                binding=bindings.get(id(f)),
                plugin_module=_absolute(plugin_module),
            )
        )
    contract = (*model.expects, *expect)
    sources = [f"host {model.name}"] * len(model.expects) + [COMMAND_LINE] * len(expect)
    return [
        apply_expectations(
            r,
            contract,
            sources,
            host_types=model.named_types,
            plugin_types=read_named_types(f) if contract else None,
            strict=strict,
        )
        for r, f in zip(out, facts, strict=True)
    ]


def _with_cause(m: Mismatch, f: FileFacts, host: HostModel, others: list[FileFacts]) -> Mismatch:
    if m.provider == "host":
        provider, label = host.buildinfo, "host"
    else:
        earlier = next((o for o in others if o.path == m.provider), None)
        provider, label = _buildinfo(earlier), f"earlier plugin {m.provider}"
    cause = diagnose(m.package, _buildinfo(f), provider, label)
    return Mismatch(m.package, m.plugin_hash, m.process_hash, m.provider, cause, m.first)


def _buildinfo(f: FileFacts | None) -> BuildInfo | None:
    return f.buildinfo.info if f is not None and f.buildinfo is not None else None


def build_report(
    f: FileFacts,
    policy: Policy,
    verdict: Verdict,
    host: HostModel | None = None,
    *,
    dyn: _sysroot.DynamicResolution | None = None,
    digest: bool = True,
    providers: dict[str, FileFacts] | None = None,
    plugin_module: str | None = None,
    binding: _sysroot.Binding | None = None,
) -> Report:
    checks = file_checks(f, policy, verdict)
    if dyn is not None:
        checks.append(resolution_check(dyn))
    if binding is not None:
        checks.append(binding_check(binding))
    if host is not None and not host.implicit:
        checks.extend(host_checks(f, host, verdict))
    real_host = host is not None and not host.implicit and host.refusal is None and host.buildinfo is not None
    runtime = host.go_version if real_host and host is not None else f.go_version
    advisory = advisory_check(runtime, "host" if real_host else "plugin", policy)
    if advisory is not None and f.go_version:
        checks.append(advisory)
    verdict = _apply_policy(verdict, checks, policy)
    checks.append(verdict_check(verdict))
    kept = tuple(c for c in checks if c.id not in policy.ignore)
    fix = derive_fix(
        f,
        verdict,
        host=host,
        target=(host.target if host is not None and host.target is not None else policy.target),
        dyn=dyn,
        binding=binding,
        providers=providers,
        failed_checks=[(c.id, c.message) for c in kept if c.status == "fail" and c.id != "loader.verdict"],
        plugin_module=plugin_module,
    )
    return Report(
        path=f.path,
        verdict=verdict,
        checks=kept,
        kind=f.kind,
        elf=_elf_info(f, digest),
        buildinfo=f.buildinfo.info if f.buildinfo and f.buildinfo.info else None,
        plugin=_plugin_info(f),
        host=_host_info(host) if host is not None and not host.implicit else None,
        error=FileError(f.invalid.kind, str(f.invalid), f.invalid.offset) if f.invalid else None,
        fix=fix,
        loader=LoaderInfo(dyn.loader.flavor, dyn.loader.interp, dyn.loader.why) if dyn is not None else None,
    )


def verdict_check(v: Verdict) -> Check:
    """``loader.verdict``: what plugin.Open does, said so that it never contradicts the verdict."""
    if v.outcome == "ok":
        policy = v.reason.split(", but ", 1)[-1]
        message = "plugin.Open succeeds" if v.loadable else f"plugin.Open succeeds, but {policy}"
    elif v.outcome == "not_reached":
        message = f"not reached: {v.reason}"
    elif v.outcome == "unknown":
        message = f"unknown: {v.reason}"
    else:
        message = v.open_error or v.reason
    return Check(
        "loader.verdict", "pass" if v.loadable else "fail", message, {"outcome": v.outcome, "reason": v.reason}
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
        out.append(_runtime_check(f, host, v))
    if duplicate_pluginpath(v):
        out.append(Check("host.pluginpath", "fail", v.reason, {"pluginpath": f.pluginpath}))
    if v.mismatches:
        first = next((m.package for m in v.mismatches if m.first), v.mismatches[0].package)
        n = len(v.mismatches)
        out.append(
            Check(
                "host.pkghash",
                "fail",
                f"package {first} differs" if n == 1 else f"{n} packages differ; Go names {first}",
                {"mismatches": [mismatch_fields(m) for m in v.mismatches]},
            )
        )
    elif v.outcome == "ok":
        out.append(Check("host.pkghash", "pass", "every shared package has the same fingerprint", {}))
    return out


def _runtime_check(f: FileFacts, host: HostModel, v: Verdict) -> Check:
    """``host.runtime``: whether the host's runtime sees the plugin's module data where the plugin puts it.

    What follows from a difference depends on the process: with nothing loaded before, the host dies
    (``no plugin module data``); after a good plugin, Go finds that one again (``plugin already loaded``).
    The message says what happens here, from the verdict, never a consequence the verdict contradicts.
    """
    go = f.go
    assert go is not None and go.next_offset is not None and host.next_offset is not None
    host_go = host.go_version
    evidence = {
        "plugin_next": go.next_offset,
        "host_next": host.next_offset,
        "plugin_size": go.layout.size if go.layout else None,
        "host_go": host_go,
        "plugin_go": f.go_version,
    }
    misread = v.open_error == MISREAD
    if go.next_offset == host.next_offset and not misread:
        return Check("host.runtime", "pass", "same runtime.moduledata layout", evidence)
    releases = f"plugin {f.go_version or 'unknown release'}, host {host_go or 'unknown release'}"
    what = f"the runtimes lay out module data differently ({releases}): " + (
        "the host reads the plugin's at its own offsets" if misread else "the host does not see the plugin's"
    )
    if v.outcome == "crash":
        what += f", and the host dies with '{v.open_error}'"
    elif v.open_error is not None and v.open_error.endswith(ALREADY_LOADED):
        what += ", so Go finds the plugin loaded before it and says 'plugin already loaded'"
    return Check("host.runtime", "fail", what, evidence)


def _elf_info(f: FileFacts, digest: bool = True) -> ElfInfo | None:
    if f.header is None:
        return None
    h, d = f.header, f.dynamic
    assert d is not None
    t = target_for(h.elf_class, h.data_encoding, h.machine)
    return ElfInfo(
        elf_class=64 if h.elf_class == ELFCLASS64 else 32,
        byteorder="little" if h.data_encoding == ELFDATA2LSB else "big",
        os_abi=h.os_abi,
        type=h.file_type,
        machine=h.machine,
        platform=t.name if t else None,
        size=f.size,
        sha256=f.sha256 if digest else None,
        interp=d.interp,
        pie=d.pie,
        needed=d.needed,
        soname=d.soname,
        rpath=d.rpath,
        runpath=d.runpath,
        dynsym_count=f.dynsym_count,
        stripped=not f.symtab_present,
    )


def _plugin_info(f: FileFacts) -> PluginInfo | None:
    if f.header is None:
        return None
    go = f.go
    md = go.moduledata if go else None
    pkghashes: tuple[PackageHash, ...] | None = None
    if go is not None:
        table = md.pkghashes if md and md.pkghashes else ()
        pkghashes = tuple(PackageHash(p.package, p.linktime_hash) for p in table) or tuple(
            PackageHash(k, v) for k, v in sorted(go.pkghash_bytes.items())
        )
    return PluginInfo(
        is_plugin=f.kind == "go-plugin",
        pluginpath=f.pluginpath,
        pluginpath_source=f.pluginpath_source if f.pluginpath else None,
        exports=f.exports,
        symbols=read_symbols(f),
        moduledata=None
        if md is None
        else ModuleDataInfo(
            addr=md.addr,
            source=md.source,
            next_offset=go.next_offset if go else None,
            layout_source=go.layout.source if go and go.layout else None,
        ),
        pkghashes=pkghashes,
    )


def _host_info(h: HostModel) -> HostInfo:
    return HostInfo(
        path=h.name,
        go_version=h.go_version,
        can_load_plugins=h.refusal is None,
        refusal=h.refusal[2] if h.refusal else None,
        platform=h.target.name if h.target else None,
        next_offset=h.next_offset,
        pkghash_count=len(h.pkghashes),
        buildinfo=h.buildinfo,
        manifest_of=h.manifest_of,
        sha256=h.sha256,
    )


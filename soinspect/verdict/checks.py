"""Facts to checks: pure functions, one stable dotted id each (see ``docs/checks.md``).

Each check says why the loader cares and quotes what Go or glibc would say. A check never reads the file;
it only looks at :class:`~soinspect.go.facts.FileFacts`.
"""

from __future__ import annotations

from soinspect._frozen import frozen
from soinspect.elf.structs import ET_DYN, ET_EXEC
from soinspect.elf.targets import (
    LINUX_OSABIS,
    OSABI_NAMES,
    Target,
    class_name,
    data_name,
    machine_name,
    plugin_release_supports,
    race_release_supports,
    releases_for,
    target_for,
)
from soinspect.go.advisories import affecting
from soinspect.go.facts import FileFacts
from soinspect.loader.dynamic import Binding, DynamicResolution
from soinspect.loader.prediction import Verdict
from soinspect.loader.process import EMPTY_PLUGINPATH, NO_MODULE_DATA
from soinspect.verdict.registry import CHECKS
from soinspect.verdict.report import Check, Status

#: Every check id soinspect can emit, with its one-line title: a view of the check reference
#: (:data:`soinspect.verdict.registry.CHECKS`, which also says why, what Go says and the fix).
CHECK_IDS: dict[str, str] = {cid: c.title for cid, c in CHECKS.items()}

#: The checks ``--ignore`` accepts: those whose failure is soinspect's policy, not something ``plugin.Open``
#: does (``sym.symtab`` and ``go.advisory`` fail only under ``--strict``), and those that only inform (``dyn.needed`` is
#: ``info``, ``go.exports`` at worst ``warn``). Every other check decides or explains what ``plugin.Open``
#: does; hiding it would hide the reason a file fails. Marked ``policy=True`` in the reference.
POLICY_CHECKS: frozenset[str] = frozenset(cid for cid, c in CHECKS.items() if c.policy)


@frozen
class Policy:
    target: Target
    strict: bool = False
    ignore: frozenset[str] = frozenset()


def file_checks(f: FileFacts, policy: Policy, verdict: Verdict | None = None) -> list[Check]:
    """The per-file checks (ELF identity, linkage, symbols, Go build info, plugin identity).

    With the *verdict*, a check states a consequence (the host dies with ...) only when it is what
    happens: a file that dlopen rejects first, or that is never reached, does not get that far."""
    out: list[Check] = []
    t = policy.target
    if f.invalid is not None:
        out.append(
            Check(
                "elf.format", "fail", f.invalid.problem, {"kind": f.invalid.kind, "offset": f.invalid.offset}
            )
        )
        return out
    h = f.header
    assert h is not None
    out.append(
        Check(
            "elf.format",
            "pass",
            f"ELF {class_name(h.elf_class)} {data_name(h.data_encoding)}",
            {"size": f.size},
        )
    )
    if f.truncation is not None:
        tr = f.truncation
        out.append(
            Check(
                "elf.complete",
                "fail" if tr.loaded else "warn",
                f"truncated: {tr.what} ends at {tr.needed:#x} but the file has {tr.size} bytes"
                + ("" if tr.loaded else " (not loaded: plugin.Open does not read it)"),
                {"needed": tr.needed, "size": tr.size, "loaded": tr.loaded},
            )
        )
    else:
        out.append(Check("elf.complete", "pass", "all segments and sections lie inside the file", {}))
    out.append(_eq("elf.class", class_name(h.elf_class), class_name(t.elf_class), t))
    out.append(_eq("elf.byteorder", data_name(h.data_encoding), data_name(t.data_encoding), t))
    osabi = OSABI_NAMES.get(h.os_abi, str(h.os_abi))
    out.append(
        Check(
            "elf.osabi",
            "pass" if h.os_abi in LINUX_OSABIS else "fail",
            f"OS/ABI {osabi}"
            + ("" if h.os_abi in LINUX_OSABIS else _says(verdict, "glibc says", "ELF file OS ABI invalid")),
            {"os_abi": h.os_abi},
        )
    )
    out.append(_type_check(f, verdict))
    out.append(_eq("elf.machine", machine_name(h.machine), machine_name(t.machine), t))
    out.extend(_dynamic_checks(f))
    out.extend(_symbol_checks(f, policy))
    out.extend(_go_checks(f, verdict))
    return [c for c in out if c.id not in policy.ignore]


#: what each one that ends a plugin.Open does with a file it does not take, said when it is not reached
_WOULD = {"glibc says": "glibc would refuse it", "the host dies with": "the host would die of it"}


def _says(v: Verdict | None, who: str, text: str) -> str:
    """``: glibc says 'TEXT'`` when that is what plugin.Open says here (or no verdict is known yet).

    Otherwise another outcome comes first (a host that cannot load plugins, a file the host never
    reaches, an earlier check of dlopen): the check then names no text that is not said here."""
    if v is None or (v.open_error is not None and text in v.open_error):
        return f": {who} '{text}'"
    return f" ({_WOULD[who]}, but here plugin.Open ends otherwise: see loader.verdict)"


def _eq(check_id: str, got: str, want: str, t: Target) -> Check:
    if got == want:
        return Check(check_id, "pass", f"{got}, as {t.name} needs", {"value": got})
    return Check(check_id, "fail", f"{got}, but {t.name} needs {want}", {"value": got, "expected": want})


def _type_check(f: FileFacts, v: Verdict | None) -> Check:
    h, d = f.header, f.dynamic
    assert h is not None and d is not None
    if h.file_type == ET_DYN and not d.pie and not d.interp:
        return Check("elf.type", "pass", "shared object (ET_DYN)", {"e_type": h.file_type})
    if h.file_type == ET_DYN and (d.pie or d.interp):
        return Check(
            "elf.type",
            "fail",
            "a position-independent executable"
            + _says(v, "glibc says", "cannot dynamically load position-independent executable"),
            {"e_type": h.file_type, "pie": d.pie},
        )
    if h.file_type == ET_EXEC:
        return Check(
            "elf.type",
            "fail",
            "an executable (ET_EXEC)" + _says(v, "glibc says", "cannot dynamically load executable"),
            {"e_type": h.file_type},
        )
    return Check(
        "elf.type",
        "fail",
        f"e_type {h.file_type}" + _says(v, "glibc says", "only ET_DYN and ET_EXEC can be loaded"),
        {"e_type": h.file_type},
    )


def _dynamic_checks(f: FileFacts) -> list[Check]:
    d = f.dynamic
    assert d is not None
    ev = {
        "needed": list(d.needed),
        "soname": d.soname,
        "rpath": list(d.rpath),
        "runpath": list(d.runpath),
        "interp": d.interp,
    }
    out = []
    if not d.has_dynamic:
        out.append(Check("dyn.linkage", "fail", "statically linked: no PT_DYNAMIC segment", ev))
    elif d.interp:
        out.append(Check("dyn.linkage", "fail", f"has a program interpreter ({d.interp}): an executable", ev))
    else:
        out.append(Check("dyn.linkage", "pass", "dynamically linked shared object", ev))
    needed = ", ".join(d.needed) if d.needed else "none"
    out.append(Check("dyn.needed", "info", f"needs {needed}", ev))
    return out


def _symbol_checks(f: FileFacts, policy: Policy) -> list[Check]:
    out = []
    if f.dynsym_count > 1:
        out.append(
            Check("sym.dynsym", "pass", f"{f.dynsym_count} dynamic symbols", {"count": f.dynsym_count})
        )
    else:
        out.append(
            Check(
                "sym.dynsym",
                "fail",
                "no dynamic symbol table: Lookup cannot find anything",
                {"count": f.dynsym_count},
            )
        )
    if f.symtab_present:
        out.append(Check("sym.symtab", "pass", ".symtab present", {"stripped": False}))
    elif policy.strict:
        out.append(
            Check(
                "sym.symtab",
                "fail",
                "stripped (no .symtab): rejected by the strict policy (plugin.Open itself does not need it)",
                {"stripped": True},
            )
        )
    else:
        out.append(
            Check(
                "sym.symtab",
                "info",
                "stripped (no .symtab): plugin.Open does not need it; use --strict to reject",
                {"stripped": True},
            )
        )
    return out


def go_registers(f: FileFacts) -> bool:
    """The file carries Go module data and the init that registers it with the host runtime."""
    return f.go is not None and f.go.moduledata is not None and f.go.has_addmoduledata_init


def _platform_check(f: FileFacts, version: str, race: bool) -> list[Check]:
    """``go.platform``: the plugin's own release builds plugins, and ``-race`` if it claims it, for the
    platform its ELF header names (``BuildModeSupported``, ``RaceDetectorSupported``)."""
    h = f.header
    own = target_for(h.elf_class, h.data_encoding, h.machine) if h is not None else None
    if own is None:
        return []  # elf.machine says what the file is for
    ev: dict[str, object] = {"go_version": version, "platform": own.name, "race": race}
    plugin_ok = plugin_release_supports(version, own.goarch)
    race_ok = race_release_supports(version, own.goarch) if race else True
    if plugin_ok is None or race_ok is None:
        return [Check("go.platform", "unknown", f"no platform table for {version} (soinspect/elf/platforms.py)", ev)]
    if not plugin_ok:
        ev["releases"] = releases_for(own.goarch)
        return [Check("go.platform", "warn", f"{version} builds no plugins for {own.name}: no stock {version} made "
                      f"this file (go build says '-buildmode=plugin not supported on {own.name}')", ev)]
    if not race_ok:
        return [Check("go.platform", "warn", f"{version} has no -race on {own.name}, yet the build info says -race: "
                      f"no stock {version} made this file (go build says '-race is not supported on {own.name}')",
                      ev)]
    return [Check("go.platform", "pass", f"{version} builds plugins{' with -race' if race else ''} for {own.name}",
                  ev)]


def _go_checks(f: FileFacts, verdict: Verdict | None) -> list[Check]:
    out: list[Check] = []
    dies = _says(verdict, "the host dies with", NO_MODULE_DATA)
    bi = f.buildinfo
    if bi is None or bi.info is None:
        reason = bi.reason if bi is not None else "not read"
        if f.pluginpath and go_registers(f):
            # Go 1.19 plugins carry no build info at all; the loader does not need it.
            out.append(Check("go.buildinfo", "warn", f"no Go build info ({reason}); the module data says it is "
                             "a plugin", {"reason": reason}))
            out.append(Check("go.buildmode", "unknown", "no build settings to read the build mode from", {}))
        else:
            out.append(Check("go.buildinfo", "fail", f"no Go build info: {reason}", {"reason": reason}))
    else:
        i = bi.info
        st: Status = "warn" if bi.problems else "pass"
        msg = f"{i.go_version}, path {i.path or '?'}" + (
            f" ({'; '.join(bi.problems)})" if bi.problems else ""
        )
        out.append(
            Check(
                "go.buildinfo", st, msg, {"go_version": i.go_version, "source": i.source, "format": i.format}
            )
        )
        mode = i.setting("-buildmode")
        if mode == "plugin":
            out.append(Check("go.buildmode", "pass", "-buildmode=plugin", {"buildmode": mode}))
            out.extend(_platform_check(f, i.go_version, i.setting("-race") == "true"))
        else:
            out.append(
                Check(
                    "go.buildmode",
                    "fail",
                    f"not a plugin: {f.kind_reason}" if mode else "no -buildmode in the build settings",
                    {"buildmode": mode, "kind": f.kind},
                )
            )
    if f.pluginpath:
        out.append(
            Check(
                "go.pluginpath",
                "pass",
                f.pluginpath,
                {"pluginpath": f.pluginpath, "source": f.pluginpath_source},
            )
        )
    elif f.pluginpath is not None:
        out.append(
            Check(
                "go.pluginpath",
                "fail",
                "empty plugin path" + _says(verdict, "the host dies with", EMPTY_PLUGINPATH),
                {"source": f.pluginpath_source},
            )
        )
    else:
        out.append(Check("go.pluginpath", "fail", f.pluginpath_source, {}))
    go = f.go
    if go is None:
        out.append(
            Check(
                "go.moduledata",
                "fail",
                f"no Go runtime module data{dies}",
                {},
            )
        )
    elif go.moduledata is None or not go.has_addmoduledata_init:
        why = go.moduledata_reason or "it does not register module data with the host runtime"
        out.append(
            Check(
                "go.moduledata",
                "fail",
                f"{why}{dies}",
                {"layout": go.layout.source if go.layout else None},
            )
        )
    else:
        md = go.moduledata
        out.append(
            Check(
                "go.moduledata",
                "pass",
                f"module data at {md.addr:#x} ({md.source}), registered by go:link.addmoduledata",
                {
                    "addr": md.addr,
                    "source": md.source,
                    "next_offset": go.next_offset,
                    "layout": go.layout.source if go.layout else None,
                },
            )
        )
    if f.pluginpath:
        out.append(
            Check(
                "go.exports",
                "pass" if f.exports else "warn",
                f"{len(f.exports)} exported: {', '.join(f.exports)}"
                if f.exports
                else "exports nothing: every Lookup fails",
                {"exports": list(f.exports)},
            )
        )
    if go is not None and go.pkghash_bytes:
        table = go.moduledata.pkghashes if go.moduledata else None
        out.append(
            Check(
                "go.pkghashes",
                "pass",
                f"{len(go.pkghash_bytes)} package fingerprints in .dynsym"
                + (f", {len(table)} in the loader's table" if table is not None else ""),
                {"count": len(go.pkghash_bytes), "table": table is not None},
            )
        )
    elif f.kind == "go-plugin":
        out.append(Check("go.pkghashes", "warn", "no package fingerprints in .dynsym", {}))
    return out


def resolution_check(d: DynamicResolution) -> Check:
    """``dyn.resolve``: every DT_NEEDED library found and every needed symbol version defined.

    glibc's ``dlopen`` fails before any code of the plugin runs, and Go's ``plugin.Open`` returns its text:
    ``plugin.Open("p"): libfoo.so: cannot open shared object file: No such file or directory``.
    """
    ev = d.to_json()
    by = f"{d.loader.flavor}'s loader ({d.loader.why})"
    if d.error is not None:
        return Check("dyn.resolve", "fail", f"dlopen fails with {by}: {d.error}", ev)
    if d.unknown is not None:
        return Check("dyn.resolve", "unknown", f"unknown: {d.unknown}", ev)
    found = ", ".join(f"{lib.needed} -> {lib.path}" for lib in d.libraries) or "no libraries needed"
    versions = "musl checks no symbol version" if d.loader.musl else "every needed version is defined"
    return Check("dyn.resolve", "pass", f"in {d.sysroot}, by {by}: {found}; {versions}", ev)


def binding_check(b: Binding) -> Check:
    """``sym.bind``: every undefined, non-weak symbol binds in the global scope (``RTLD_NOW``).

    glibc: ``plugin.Open("p"): /path/p.so: undefined symbol: host_fn``; musl:
    ``plugin.Open("p"): Error relocating /path/p.so: host_fn: symbol not found``.
    """
    ev = b.to_json()
    if b.error is not None:
        more = f" ({len(b.unbound)} symbols bind nowhere)" if len(b.unbound) > 1 else ""
        return Check("sym.bind", "fail", f"dlopen fails: {b.error}{more}", ev)
    if b.unknown is not None:
        return Check("sym.bind", "unknown", f"unknown: {b.unknown}", ev)
    outside = ", ".join(f"{s} from {p}" for s, p in b.from_outside)
    extra = f"; bound outside the plugin's own libraries: {outside}" if outside else ""
    return Check("sym.bind", "pass", f"all {b.checked} undefined symbols bind ({b.loader}'s loader){extra}", ev)


def advisory_check(version: str | None, side: str, policy: Policy) -> Check | None:
    """``go.advisory``: the Go release whose runtime runs the plugin has a known plugin-loading defect.

    The runtime in the process is the host's (with ``--host``) or, without it, the plugin's own release
    (the host is assumed to be built like the plugin). A defect does not stop ``plugin.Open``, so this is a
    warning; ``--strict`` makes it a rejection. Entries live in ``soinspect/go/advisories.json``, each one
    verified with Go's own regression test (``scripts/verify_advisories.sh``).
    """
    if not version:
        return None
    base = version.partition(" ")[0].partition("-X:")[0]
    found = affecting(base)
    if not found:
        return Check("go.advisory", "pass", f"no known plugin-loading defect in {base} (the {side}'s release)",
                     {"go_version": base, "advisories": []})
    text = "; ".join(f"{a.id} ({a.title}): {a.user_sees}; fixed in {a.fixed_in}" for a in found)
    status: Status = "fail" if policy.strict else "warn"
    return Check(
        "go.advisory",
        status,
        f"{base} (the {side}'s release) has a known plugin-loading defect: {text}"
        + ("" if policy.strict else " (--strict rejects)"),
        {
            "go_version": base,
            "advisories": [
                {"id": a.id, "url": a.url, "title": a.title, "fixed_in": a.fixed_in, "user_sees": a.user_sees}
                for a in found
            ],
        },
    )

"""A host, read into what the loader model needs from it: :class:`HostModel`.

The host's Go release and build info, whether it can call ``plugin.Open`` at all, its runtime's module data
layout, and the package fingerprints it exports to the dynamic loader's global scope.

:func:`load_host` is the one door for a ``--host`` argument: a host executable (read with
:func:`host_model`) or a host manifest written from one (:mod:`soinspect.loader.manifest`); both give the
same :class:`HostModel`, so every verdict is the same whichever was given.
"""

from __future__ import annotations

from soinspect.elf import file as _elf
from soinspect.elf.targets import target_for
from soinspect.errors import HostError
from soinspect.go.facts import FileFacts, read_facts, read_named_types
from soinspect.go.module import PKGHASH_PREFIXES
from soinspect.loader import dynamic as _dynamic
from soinspect.loader import manifest as _manifest
from soinspect.loader.process import NOT_IMPLEMENTED, HostModel

#: what a file that cannot be a host is, by :attr:`FileFacts.kind`
_NOT_A_HOST = {
    "go-plugin": "a Go plugin (-buildmode=plugin), not a host program",
    "go-c-shared": "a Go shared library (-buildmode=c-shared), not a host program",
    "go-shared": "a Go shared library (-buildmode=shared), not a host program",
    "c-shared": "a C shared library, not a Go host program",
    "executable": "a program that is not written in Go (no Go build info): it cannot call plugin.Open",
    "pie-executable": "a program that is not written in Go (no Go build info): it cannot call plugin.Open",
}


def _links_plugin(hf: FileFacts) -> bool | None:
    """Does the program link package plugin? None when it cannot be told.

    Evidence, strongest first: the linker exports fingerprints (``go:link.pkghash.plugin``) when the
    program links cgo's plugin package; ``plugin.Open`` in ``.symtab``; ``plugin.Open`` in the function
    name table of ``.gopclntab``, which names inlined functions too (a ``CGO_ENABLED=0`` host's stub
    ``plugin.Open`` is inlined into its caller and has no symbol of its own: seen in
    ``host-1.27.3-nocgo``). Without a ``.gopclntab`` section header it cannot be told.
    """
    go = hf.go
    if go is not None and "plugin" in go.pkghash_bytes:
        return True
    elf = hf.elf
    if elf is None:
        return None
    if elf.find_symbol("plugin.Open", "symtab") is not None:
        return True
    pclntab = elf.section(".gopclntab")
    if pclntab is None:
        return None
    return b"\x00plugin.Open\x00" in elf.section_bytes(pclntab)


def host_problem(hf: FileFacts) -> str | None:
    """Why *hf* cannot be the program that calls ``plugin.Open`` (a usage error), or None if it can.

    Only a Go executable that links package ``plugin`` calls ``plugin.Open``; a plugin, a shared library,
    a program not written in Go, or a Go program that never imports ``plugin`` named as the host is a
    mistake in the command, not a property of the files judged. A Go host built with ``CGO_ENABLED=0``
    *is* a host: its stub ``plugin.Open`` answers ``plugin: not implemented`` for every file (recorded in
    the corpus), a result for each file.
    """
    if hf.invalid is not None:
        return f"not a usable host: {hf.invalid.problem}"
    known = _NOT_A_HOST.get(hf.kind)
    if known is not None:
        return f"it is {known}; give the Go program that calls plugin.Open"
    if hf.kind not in ("go-exe", "go-pie") or hf.buildinfo is None or hf.buildinfo.info is None or hf.go is None:
        return f"it is {hf.kind_reason or hf.kind}, not a Go program that calls plugin.Open"
    if _links_plugin(hf) is False:
        return (
            "it is a Go program that does not link package plugin: it never calls plugin.Open "
            "(the host imports \"plugin\")"
        )
    return None


def load_host(
    path: str, *, max_size: int = _elf.DEFAULT_MAX_SIZE, digest: bool = True, sysroot: str | None = None
) -> HostModel:
    """The host named by a ``--host`` argument: an executable or a host manifest, told apart by content.

    A file whose first non-blank byte is ``{`` is read as a manifest (at most
    :data:`~soinspect.loader.manifest.MAX_MANIFEST_SIZE` bytes) and refused whole, with
    :class:`~soinspect.errors.ManifestError`, if anything in it is unknown or damaged. Anything else is read
    as an executable; ``digest=False`` leaves its ``sha256`` out (None): hashing a large executable is the
    largest cost of reading it, and only JSON and SARIF reports show it.

    Raises :class:`~soinspect.errors.FileAccessError` if the file cannot be read and
    :class:`~soinspect.errors.HostError` if it cannot be a host.
    """
    if _manifest.is_manifest_file(path):
        return _manifest.read_manifest(path, _manifest.read_manifest_bytes(path))
    return host_model(read_facts(path, max_size=max_size), digest=digest, sysroot=sysroot)


def host_exports(hf: FileFacts, sysroot: str | None = None) -> tuple[frozenset[str], str | None]:
    """What the host puts in the global scope before any plugin: the C-identifier symbols its executable
    and its libraries (resolved in *sysroot* as its own loader does; not the C library, which every plugin's
    own tree holds) export, and why that may be incomplete (None: complete)."""
    assert hf.elf is not None
    names = _dynamic.exported_names(hf.elf)
    interp = hf.dynamic.interp if hf.dynamic is not None else None
    dyn = _dynamic.resolve_facts(hf, sysroot, _dynamic.loader_of_host(interp, hf.elf.header.machine))
    note = None
    if dyn is None or dyn.error is not None or dyn.unknown is not None:
        why = "not resolved" if dyn is None else dyn.error or dyn.unknown
        note = f"the host's own libraries could not be read ({why})"
    else:
        for _name, elf, libc in dyn.objects[1:]:
            if not libc:
                names |= _dynamic.exported_names(elf)
    return frozenset(names), note


def host_model(hf: FileFacts, *, digest: bool = True, sysroot: str | None = None) -> HostModel:
    """Read what a host executable brings to plugin.Open (with its sha256 unless ``digest=False``);
    :class:`HostError` if it cannot be a host (:func:`host_problem`). Its libraries are read in
    *sysroot* (``/`` for this machine's architecture)."""
    problem = host_problem(hf)
    if problem is not None:
        raise HostError(hf.path, problem)
    h = hf.header
    assert h is not None
    target = target_for(h.elf_class, h.data_encoding, h.machine)
    go = hf.go
    bi = hf.buildinfo.info if hf.buildinfo else None
    assert bi is not None and go is not None  # host_problem refuses anything else
    interp = hf.dynamic.interp if hf.dynamic is not None else None
    if bi.setting("CGO_ENABLED") == "0":
        return HostModel(
            hf.path,
            False,
            target,
            ("error", NOT_IMPLEMENTED, "built with CGO_ENABLED=0: the stub plugin package"),
            buildinfo=bi,
            sha256=hf.sha256 if digest else None,
        )
    # The host provides a package's runtime hash only if it exports go:link.pkghash.<pkg> dynamically.
    exported = {
        sym.name.split(".pkghash.", 1)[1]
        for prefix in PKGHASH_PREFIXES
        for sym in (hf.elf.symbols_with_prefix(prefix) if hf.elf else [])
    }
    pkghashes = {pkg: hx for pkg, hx in go.pkghash_bytes.items() if pkg in exported}
    exports, note = host_exports(hf, sysroot)
    return HostModel(
        name=hf.path,
        implicit=False,
        target=target,
        refusal=None,
        next_offset=go.next_offset,
        layout=(go.layout.size, go.layout.offsets) if go.layout is not None and go.layout.size else None,
        exports_lastmoduledatap=hf.elf is not None and hf.elf.find_symbol("runtime.lastmoduledatap") is not None,
        pkghashes=pkghashes,
        buildinfo=bi,
        sha256=hf.sha256 if digest else None,
        interp=interp,
        exports=exports,
        exports_note=note,
        named_types=read_named_types(hf),
    )


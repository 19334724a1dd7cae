"""A host executable, read into what the loader model needs from it: :class:`HostModel`.

The host's Go release and build info, whether it can call ``plugin.Open`` at all, its runtime's module data
layout, and the package fingerprints it exports to the dynamic loader's global scope.
"""

from __future__ import annotations

from soinspect.elf.targets import target_for
from soinspect.errors import HostError
from soinspect.go.facts import FileFacts
from soinspect.go.module import PKGHASH_PREFIXES
from soinspect.loader.process import NOT_IMPLEMENTED, HostModel


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

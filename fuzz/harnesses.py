"""One harness per reader behind the choke point: what an input is, the seeds, and the property.

The property of every harness: an input gives a result or soinspect's own error (a
:class:`~soinspect.errors.SoinspectError`, or the documented "unknown" outcome of the sysroot resolver),
never another exception. Bounds of time and memory are the fuzzer's (``-timeout``, ``-rss_limit_mb``: see
:mod:`fuzz.run`). Two harnesses also compare soinspect with another reader and raise
:class:`Disagreement` on any difference that :mod:`fuzz.oracles` does not normalise:

========== =============================================================== ==============================
harness    reader                                                          input
========== =============================================================== ==============================
elf        the LIEF door and the ELF tables (soinspect/elf), through the   overlay (:mod:`fuzz.overlay`)
           whole fact reader; vs pyelftools: header, segments, sections,
           dynamic entries
buildinfo  build info, every format (soinspect/go/buildinfo.py); vs Go's   overlay
           reader (``go version -m -json``)
gomodule   module data, pkghashes, ptab, the type reader                   overlay
           (soinspect/go/module.py, gotypes.py)
versions   version needs and definitions (soinspect/loader/dynamic.py)     overlay
ldcache    ``/etc/ld.so.cache`` (soinspect/loader/dynamic.py)              machine byte + the cache
ldconf     ``/etc/ld.so.conf`` and its includes (same module)              the files, split at NUL
config     the policy file (soinspect/cli/config.py)                       TOML bytes
manifest   host manifests (soinspect/loader/manifest.py): a document that  JSON bytes
           reads also writes back to the same model
========== =============================================================== ==============================
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

from fuzz import oracles
from fuzz.overlay import MAX_LEN, ROOT, Region, Templates, region, section_region, va_region
from soinspect.cli import config as _config
from soinspect.elf.file import ElfFile
from soinspect.elf.structs import DT_VERDEF, DT_VERNEED, PT_DYNAMIC
from soinspect.errors import ManifestError, SoinspectError
from soinspect.go import facts as _facts
from soinspect.go.buildinfo import BUILDINFO_MAGIC, read_buildinfo
from soinspect.loader import dynamic as _dynamic
from soinspect.loader import manifest as _manifest
from soinspect.loader.host import load_host

#: corpus files' heads seed the harnesses whose input is not ELF (every harness starts from every corpus file)
TEXT_MAX_LEN = 4096


class Disagreement(Exception):
    """soinspect and the other reader differ on a mutant, in a way no normalisation rule allows."""

    def __init__(self, key: str, detail: str, data: bytes) -> None:
        super().__init__(f"{key}: {detail}")
        self.key = key
        self.data = data  # the input (for build info, the one whose batch was compared: not always the last)


#: errors that are a reader's own answer
OWN_ERRORS: tuple[type[BaseException], ...] = (SoinspectError, _dynamic._Unknown)


@dataclass
class Harness:
    name: str
    max_len: int
    one: Callable[[bytes], str]  # outcome label; raises only for a property failure
    seeds: Callable[[], Iterator[tuple[str, bytes]]]
    #: what the other reader checks, or "" (differential harnesses only)
    oracle: str = ""
    flush: Callable[[], None] | None = None  # compare what a batched oracle still holds
    #: the file an input stands for (overlay harnesses), to save beside a finding
    mutant: Callable[[bytes], bytes | None] | None = None
    #: tokens for libFuzzer's ``-dict`` (text formats: the words a mutation should be able to insert whole)
    tokens: Callable[[], Iterator[bytes]] | None = None


def _own(call: Callable[[], object]) -> str:
    try:
        call()
    except OWN_ERRORS as exc:
        return type(exc).__name__
    return "result"


# -- ELF-based harnesses ----------------------------------------------------------------------------------


def _elf_regions(elf: ElfFile) -> list[Region]:
    h, size = elf.header, len(elf.data)
    out = [
        region("ehdr+phdrs", 0, max(64, h.phoff + 56 * h.phnum) if h.phoff < 4096 else 64, size),
        region("shdrs", h.shoff, 64 * h.shnum, size),
    ]
    for s in elf.segments:
        if s.type == PT_DYNAMIC:
            out.append(region("PT_DYNAMIC", s.offset, s.filesz, size))
    names = (".dynamic", ".dynsym", ".dynstr", ".gnu.hash", ".hash", ".rela.dyn", ".rela.plt", ".rel.dyn",
             ".symtab", ".strtab", ".shstrtab", ".gnu.version", ".gnu.version_r", ".gnu.version_d", ".interp",
             ".init_array")  # fmt: skip
    out += [section_region(elf, n) for n in names]
    return [r for r in out if r is not None]


def _buildinfo_regions(elf: ElfFile) -> list[Region]:
    out: list[Region | None] = []
    size = len(elf.data)
    at = elf.data.find(BUILDINFO_MAGIC)
    while at >= 0 and at % 16:
        at = elf.data.find(BUILDINFO_MAGIC, at + 1)
    if at >= 0:
        out.append(region("buildinfo", at, 4096, size))
        hdr = elf.data[at : at + 32]
        if len(hdr) == 32 and not hdr[15] & 2:  # the pointer format: the two strings it points at
            ptrsize = hdr[14]
            order: Literal["little", "big"] = "big" if hdr[15] & 1 else "little"
            if ptrsize in (4, 8):
                for k, what in ((0, "version string"), (1, "modinfo string")):
                    hdr_va = int.from_bytes(hdr[16 + k * ptrsize : 16 + (k + 1) * ptrsize], order)
                    out.append(va_region(elf, f"{what} header", hdr_va, 2 * ptrsize))
                    raw = elf.read_va(hdr_va, ptrsize)
                    if raw is not None:
                        out.append(va_region(elf, what, int.from_bytes(raw, order), 1024))
    sym = elf.find_symbol("runtime.buildVersion", "symtab")
    if sym is not None:
        out.append(va_region(elf, "runtime.buildVersion", sym.value, 2 * elf.ptrsize))
        ptr = elf.read_ptr(sym.value)
        if ptr is not None:
            out.append(va_region(elf, "runtime.buildVersion string", ptr, 64))
    return [r for r in out if r is not None]


def _gomodule_regions(elf: ElfFile) -> list[Region]:
    out: list[Region | None] = []
    f = _facts.facts_from_elf(elf, elf.path)
    md = f.go.moduledata if f.go is not None else None
    if md is not None and f.go is not None:
        size = f.go.layout.size if f.go.layout is not None and f.go.layout.size else 0x300
        out.append(va_region(elf, "moduledata", md.addr, size))
        if md.types is not None and md.ptab:
            for i, (name_off, typ_off) in enumerate(md.ptab[:16]):
                out.append(va_region(elf, f"ptab[{i}] name", md.types + name_off, 64))
                out.append(va_region(elf, f"ptab[{i}] type", md.types + typ_off, 512))
    if f.go is not None and f.go.pclntab is not None:
        out.append(va_region(elf, "pclntab header", f.go.pclntab, 128))
    for table in ("symtab", "dynsym"):
        for name in ("type:runtime.moduledata", "type.runtime.moduledata", "go:link.pkghashes", "go:plugin.tabs",
                     "go:link.thispluginpath", "local.moduledata", "runtime.firstmoduledata",
                     "runtime.lastmoduledatap"):  # fmt: skip
            sym = elf.find_symbol(name, table)
            if sym is not None:
                out.append(va_region(elf, f"{name} ({table})", sym.value, max(sym.size, 64)))
    hashes = [s for s in elf.symbols_with_prefix("go:link.pkghash") if s.defined][:8]
    out += [va_region(elf, s.name, s.value, max(s.size, 16)) for s in hashes]
    for name in (".typelink", ".itablink", ".noptrdata", ".go.module"):
        out.append(section_region(elf, name))
    return [r for r in out if r is not None]


def _versions_regions(elf: ElfFile) -> list[Region]:
    out: list[Region | None] = []
    for tag, name in ((DT_VERNEED, "DT_VERNEED"), (DT_VERDEF, "DT_VERDEF")):
        va = elf.dyn(tag)
        if va is not None:
            out.append(va_region(elf, name, va, 1024))
    out += [section_region(elf, n) for n in (".gnu.version_r", ".gnu.version_d", ".dynstr", ".dynamic")]
    return [r for r in out if r is not None]


def _has_versions(name: str, elf: ElfFile | None) -> bool:
    return elf is not None and (elf.dyn(DT_VERNEED) is not None or elf.dyn(DT_VERDEF) is not None)


class _ElfHarnesses:
    """The template sets, built once per process (each reads and parses the whole corpus)."""

    @cached_property
    def elf(self) -> Templates:
        return Templates(_elf_regions)

    @cached_property
    def buildinfo(self) -> Templates:
        return Templates(_buildinfo_regions, lambda name, elf: elf is not None)

    @cached_property
    def gomodule(self) -> Templates:
        return Templates(_gomodule_regions, lambda name, elf: elf is not None)

    @cached_property
    def versions(self) -> Templates:
        return Templates(_versions_regions, _has_versions)


_T = _ElfHarnesses()


def elf_one(data: bytes, differential: bool = True) -> str:
    m = _T.elf.mutant(data)
    if m is None:
        return "short input"
    path = f"mutant of {m.describe}"
    try:
        elf = ElfFile.from_bytes(path, m.data)
    except SoinspectError as exc:
        return type(exc).__name__
    f = _facts.facts_from_elf(elf, path)
    _facts.read_symbols(f)
    if differential:
        diffs = oracles.compare_elf(elf)
        if diffs:
            key, detail = diffs[0]
            raise Disagreement(f"pyelftools {key}", f"{m.describe}: {detail}", data)
    return "result"


_GO: oracles.GoBatch | None = None


def buildinfo_one(data: bytes, differential: bool = True) -> str:
    global _GO
    m = _T.buildinfo.mutant(data)
    if m is None:
        return "short input"
    path = f"mutant of {m.describe}"
    try:
        elf = m.elf(path)
        info = read_buildinfo(elf)
    except SoinspectError as exc:
        return type(exc).__name__
    if differential:
        if _GO is None:
            _GO = oracles.GoBatch()
        for tag, (key, why) in _GO.add(elf, info, data):
            raise Disagreement(f"go {key}", why, tag)
    return "result"


def buildinfo_flush() -> None:
    global _GO
    if _GO is not None:
        for tag, (key, why) in _GO.flush():
            raise Disagreement(f"go {key}", why, tag)


def _gomodule_check(elf: ElfFile, path: str) -> None:
    _facts.read_symbols(_facts.facts_from_elf(elf, path))


def _versions_check(elf: ElfFile, path: str) -> None:
    _dynamic.version_needs(elf)
    _dynamic.version_definitions.__wrapped__(elf)  # not through its per-process cache
    # what symbol binding reads: version indexes (.gnu.version), relocations, the names defined
    _dynamic._version_index_names.__wrapped__(elf)
    for musl in (False, True):
        for name, version in _dynamic.undefined_references(elf, musl=musl)[:8]:
            _dynamic.elf_defines(elf, name, version, musl=musl)
    _dynamic.exported_names(elf)


def _overlay_one(templates: Templates, data: bytes, check: Callable[[ElfFile, str], None]) -> str:
    m = templates.mutant(data)
    if m is None:
        return "short input"
    path = f"mutant of {m.describe}"
    return _own(lambda: check(m.elf(path), path))


def gomodule_one(data: bytes) -> str:
    return _overlay_one(_T.gomodule, data, _gomodule_check)


def versions_one(data: bytes) -> str:
    return _overlay_one(_T.versions, data, _versions_check)


def check_file(name: str, path: str, data: bytes) -> str:
    """The property of the ELF-based harness *name* on a whole file (a regression seed): a result or
    soinspect's own error and, for ``elf`` and ``buildinfo``, agreement with the other reader."""
    try:
        elf = ElfFile.from_bytes(path, data)
    except SoinspectError as exc:
        return type(exc).__name__
    if name == "elf":
        f = _facts.facts_from_elf(elf, path)
        _facts.read_symbols(f)
        for key, detail in oracles.compare_elf(elf)[:1]:
            raise Disagreement(f"pyelftools {key}", detail, data)
    elif name == "buildinfo":
        for _tag, (key, why) in oracles.GoBatch(size=1).add(elf, read_buildinfo(elf)):
            raise Disagreement(f"go {key}", why, data)
    elif name == "gomodule":
        return _own(lambda: _gomodule_check(elf, path))
    elif name == "versions":
        return _own(lambda: _versions_check(elf, path))
    else:
        raise ValueError(f"{name} is not an ELF-based harness")
    return "result"


def _corpus_heads() -> Iterator[tuple[str, bytes]]:
    import corpus

    for name in corpus.names():
        with open(corpus.path(name), "rb") as fh:
            yield f"corpus.{name}", fh.read(TEXT_MAX_LEN)


# -- ld.so.cache ------------------------------------------------------------------------------------------

MACHINES = (62, 183, 3, 40, 0)  # x86-64, aarch64, i386, arm, and one with no cache flags known
LDCACHE_MAX_LEN = 1 << 16


def ldcache_one(data: bytes) -> str:
    if not data:
        return "short input"
    machine = MACHINES[data[0] % len(MACHINES)]
    return _own(lambda: _dynamic.parse_ld_cache(data[1:], machine, "fuzzed ld.so.cache"))


def ldcache_seeds() -> Iterator[tuple[str, bytes]]:
    for i, machine in enumerate(MACHINES):
        yield f"synthetic-{machine}", bytes([i]) + synthetic_ld_cache(machine)
    if os.path.isfile("/etc/ld.so.cache"):  # this machine's real cache, when it has one
        yield "etc-ld.so.cache", b"\0" + Path("/etc/ld.so.cache").read_bytes()[: LDCACHE_MAX_LEN - 1]
    for name, head in _corpus_heads():
        yield name, b"\0" + head


def synthetic_ld_cache(machine: int) -> bytes:
    """A small glibc-ld.so.cache1.1 file in the format glibc's ldconfig writes (new format only)."""
    import struct

    flags = {62: 0x0303, 183: 0x0A03, 3: 0x0003}.get(machine, 0x0001)
    libs = [("libc.so.6", "/lib/libc.so.6"), ("libm.so.6", "/lib/libm.so.6"), ("libfoo.so", "/opt/libfoo.so")]
    header = 48
    strings = bytearray()
    entries = bytearray()
    strings_at = header + 24 * len(libs)
    for key, value in libs:
        k = strings_at + len(strings)
        strings += key.encode() + b"\0"
        v = strings_at + len(strings)
        strings += value.encode() + b"\0"
        entries += struct.pack("<iIIIQ", flags, k, v, 0, 0)
    head = b"glibc-ld.so.cache1.1" + struct.pack("<II", len(libs), len(strings)) + bytes(4) + bytes(16)
    return head + bytes(entries) + bytes(strings)


# -- ld.so.conf -------------------------------------------------------------------------------------------


class _ConfRoot:
    """A scratch sysroot: ``etc/ld.so.conf`` is the input's first part, ``etc/ld.so.conf.d/<i>.conf`` the
    others (parts split at NUL bytes), so that ``include`` lines have files to find."""

    @cached_property
    def root(self) -> str:
        return tempfile.mkdtemp(prefix="soinspect-fuzz-ldconf-")

    @cached_property
    def elf(self) -> ElfFile:
        import corpus

        return ElfFile.from_bytes("libplain.so", Path(corpus.path("libplain.so")).read_bytes())


_CONF = _ConfRoot()


def ldconf_one(data: bytes) -> str:
    root = _CONF.root
    etc = os.path.join(root, "etc")
    confd = os.path.join(etc, "ld.so.conf.d")
    os.makedirs(confd, exist_ok=True)
    for old in os.listdir(confd):
        os.unlink(os.path.join(confd, old))
    parts = data.split(b"\0")[:9]
    with open(os.path.join(etc, "ld.so.conf"), "wb") as fh:
        fh.write(parts[0])
    for i, part in enumerate(parts[1:]):
        with open(os.path.join(confd, f"{i}.conf"), "wb") as fh:
            fh.write(part)
    resolver = _dynamic._Resolver(root, _CONF.elf)
    return _own(resolver.conf_dirs)


def ldconf_seeds() -> Iterator[tuple[str, bytes]]:
    yield "debian", b"include /etc/ld.so.conf.d/*.conf\n\0/usr/local/lib\n\0# multiarch\n/lib/x86_64-linux-gnu\n"
    if os.path.isfile("/etc/ld.so.conf"):
        parts = [Path("/etc/ld.so.conf").read_bytes()]
        if os.path.isdir("/etc/ld.so.conf.d"):
            parts += [p.read_bytes() for p in sorted(Path("/etc/ld.so.conf.d").iterdir()) if p.is_file()]
        yield "etc-ld.so.conf", b"\0".join(parts)[:TEXT_MAX_LEN]
    yield from _corpus_heads()


# -- the policy file --------------------------------------------------------------------------------------


class _ConfigDir:
    @cached_property
    def dir(self) -> str:
        return tempfile.mkdtemp(prefix="soinspect-fuzz-config-")


_CFG = _ConfigDir()


def config_one(data: bytes) -> str:
    """Byte 0 chooses the file name: its low bit, ``pyproject.toml`` (the ``[tool.soinspect]`` table) or
    ``soinspect.toml`` (top-level keys); the rest is the file."""
    if not data:
        return "short input"
    name = _config.PYPROJECT if data[0] & 1 else "soinspect.toml"
    p = os.path.join(_CFG.dir, name)
    with open(p, "wb") as fh:
        fh.write(data[1:])
    return _own(lambda: _config.load(p))


def config_seeds() -> Iterator[tuple[str, bytes]]:
    doc = _config.__doc__ or ""
    example = doc.split("Settings (see ``docs/ci.md``)::", 1)[-1]
    body = "\n".join(line[4:] for line in example.splitlines() if line.startswith("    "))
    yield "docstring-example", b"\0" + body.encode()
    yield "docstring-example-pyproject", b"\1[tool.soinspect]\n" + body.encode()
    yield "this-pyproject", b"\1" + (ROOT / "pyproject.toml").read_bytes()[: TEXT_MAX_LEN - 1]
    yield "expect-inline", b'\0expect = { Greet = "func() string", V = "*int" }\nformat = "json"\nworkers = 0\n'
    for name, head in _corpus_heads():
        yield name, b"\0" + head


# -- host manifests ---------------------------------------------------------------------------------------

MANIFEST_MAX_LEN = 1 << 16  # the corpus hosts' manifests are 1.5 to 6 KiB


def manifest_one(data: bytes) -> str:
    """The manifest reader's property, and a second one: a document it accepts describes a model that
    :func:`~soinspect.loader.manifest.write_manifest` writes back to a document that reads as the same model
    (nothing the reader accepts is lost or changed on the way to ``soinspect manifest``'s output)."""
    try:
        model = _manifest.read_manifest("fuzz.json", data)
    except ManifestError:
        return "ManifestError"
    host = json.loads(data.decode("utf-8-sig"))["host"]  # the reader checked its shape
    again = _manifest.write_manifest(model, host_file=host["file"], host_size=host["size"])
    if _manifest.read_manifest("fuzz.json", again.encode()) != model:
        raise AssertionError(f"a manifest read, written back and read again describes another host: {again[:300]}")
    return "result"


def manifest_seeds() -> Iterator[tuple[str, bytes]]:
    """The manifest of every corpus host (one also with a contract, ``expect``), then every corpus file's
    head (not JSON: the reader's first refusals)."""
    import dataclasses

    import corpus

    for name in corpus.names("go-host"):
        p = corpus.path(name)
        model = load_host(p)
        size = os.path.getsize(p)
        yield f"manifest.{name}", _manifest.write_manifest(model, host_file=p, host_size=size).encode()
        if name == "host-1.27.3":
            contract = dataclasses.replace(model, expects=(("Greet", "func() string"), ("V", "*int")))
            text = _manifest.write_manifest(contract, host_file=p, host_size=size)
            yield f"manifest.{name}.expect", text.encode()
    yield from _corpus_heads()


def manifest_tokens() -> Iterator[bytes]:
    """Every key and short string of the seed manifests, and JSON's own words."""
    words: set[str] = set()

    def walk(v: object) -> None:
        if isinstance(v, dict):
            for k, x in v.items():
                words.add(json.dumps(k))
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, str) and len(v) <= 32:
            words.add(json.dumps(v))

    for name, data in manifest_seeds():
        if name.startswith("manifest."):
            walk(json.loads(data))
    yield from (w.encode() for w in sorted(words))
    yield from (b"null", b"true", b"false", b"[]", b"{}", b'""', b"-1", b"1e999", b"18446744073709551616")


def _data(templates: Templates, data: bytes) -> bytes | None:
    m = templates.mutant(data)
    return None if m is None else m.data


HARNESSES: dict[str, Harness] = {
    "elf": Harness(
        "elf", MAX_LEN, elf_one, lambda: _T.elf.seeds(), oracle="pyelftools", mutant=lambda d: _data(_T.elf, d)
    ),
    "buildinfo": Harness(
        "buildinfo",
        MAX_LEN,
        buildinfo_one,
        lambda: _T.buildinfo.seeds(),
        oracle="go",
        flush=buildinfo_flush,
        mutant=lambda d: _data(_T.buildinfo, d),
    ),
    "gomodule": Harness(
        "gomodule", MAX_LEN, gomodule_one, lambda: _T.gomodule.seeds(), mutant=lambda d: _data(_T.gomodule, d)
    ),
    "versions": Harness(
        "versions", MAX_LEN, versions_one, lambda: _T.versions.seeds(), mutant=lambda d: _data(_T.versions, d)
    ),
    "ldcache": Harness("ldcache", LDCACHE_MAX_LEN, ldcache_one, ldcache_seeds),
    "ldconf": Harness("ldconf", TEXT_MAX_LEN, ldconf_one, ldconf_seeds),
    "config": Harness("config", TEXT_MAX_LEN, config_one, config_seeds),
    "manifest": Harness("manifest", MANIFEST_MAX_LEN, manifest_one, manifest_seeds, tokens=manifest_tokens),
}
